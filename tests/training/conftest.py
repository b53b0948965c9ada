"""A tiny prepared project (synthetic, 64x64, 4 identities x 3 poses) for the stage tests,
built once per session by calling the stage libraries in process (as tests/datasets does)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from pipeline.artifacts import Paths
from pipeline.config import validate
from tests.helpers import ANNOTATIONS

#: The README's tiny setting, one worker everywhere.
TINY_RAW = {"data": {"height": 64, "width": 64, "workers": 1,
                     "synthetic": {"identities": 4, "poses_per_identity": 3,
                                   "pairs_per_identity": 2,
                                   "real_poses": str(ANNOTATIONS / "fasion-annotation-sample.csv")}},
            "pose": {"workers": 1}, "parse": {"workers": 1}, "masks": {"workers": 1},
            "search": {"workers": 1}}


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory) -> Path:
    """Root of a project whose data/ holds the synthetic dataset and the prepared artifacts."""
    from pipeline.ingest.stage import run as ingest
    from pipeline.masks.stage import run as masks
    from pipeline.parsing.stage import run as parse
    from pipeline.pose.stage import run as pose
    from pipeline.search.stage import run as search
    from pipeline.synthetic.stage import run as synthesize

    params = validate(TINY_RAW)
    paths = Paths(tmp_path_factory.mktemp("tiny_project"))
    for stage in (synthesize, ingest, pose, parse, masks, search):
        stage(params, paths, progress=False)
    return paths.root


@pytest.fixture
def project_copy(tiny_project: Path, tmp_path: Path):
    """A fresh copy of the tiny project (each training run writes into its own root)."""
    def make(name: str) -> Paths:
        root = tmp_path / name
        shutil.copytree(Path(tiny_project) / "data", root / "data")
        return Paths(root)
    return make


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: tiny tensors gain nothing from two, and a busy 2-core machine
    makes a second thread's wake-ups cost more than the work (seen: 10x slower steps)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
