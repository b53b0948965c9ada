"""A tiny prepared pipeline (synthetic, 64x64, 4 identities x 3 poses) built once per session
by calling the stage libraries in process (~2 s)."""
from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import pytest

from pipeline.artifacts import STATUS_NO_CANDIDATE, Paths
from pipeline.config import validate
from tests.helpers import ANNOTATIONS

#: The tiny setting of the README (a dataset small enough for the whole pipeline in seconds).
TINY = {"identities": 4, "poses_per_identity": 3, "pairs_per_identity": 2}


@pytest.fixture(scope="session")
def tiny_prepared(tmp_path_factory) -> Path:
    """data/prepared of a tiny synthetic run: images, poses, parsing, masks, pseudo .h5."""
    from pipeline.ingest.stage import run as ingest
    from pipeline.masks.stage import run as masks
    from pipeline.parsing.stage import run as parse
    from pipeline.pose.stage import run as pose
    from pipeline.search.stage import run as search
    from pipeline.synthetic.stage import run as synthesize

    raw = {"data": {"height": 64, "width": 64, "workers": 1,
                    "synthetic": dict(TINY, real_poses=str(
                        ANNOTATIONS / "fasion-annotation-sample.csv"))},
           "pose": {"workers": 1}, "parse": {"workers": 1}, "masks": {"workers": 1},
           "search": {"workers": 1}}
    params = validate(raw)
    paths = Paths(tmp_path_factory.mktemp("tiny"))
    for stage in (synthesize, ingest, pose, parse, masks, search):
        stage(params, paths, progress=False)
    return paths.prepared


@pytest.fixture
def all_failed(tiny_prepared: Path, tmp_path: Path) -> Path:
    """A copy of the tiny artifacts whose pseudo.h5 has no row with status ok."""
    out = tmp_path / "prepared"
    shutil.copytree(tiny_prepared, out)
    with h5py.File(out / "pseudo.h5", "r+") as f:
        f["status"][...] = STATUS_NO_CANDIDATE
    return out
