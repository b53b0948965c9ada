"""Shared fixtures. Tests run from any folder; data paths come from tests.helpers."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import REPO, TINY_RAW

#: Fixtures of the tests that build networks (tiny models, one thread in their folders).
pytest_plugins = ["tests.model_fixtures"]

os.environ.setdefault("DVC_NO_ANALYTICS", "1")


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory) -> Path:
    """Root of a project whose data/ holds the tiny synthetic dataset and its prepared
    artifacts (images, poses, parsing, masks, pseudo .h5), built once per session by calling
    the stage libraries in process (~2 s). Treat it as read-only; copy it to write."""
    from pipeline.artifacts.paths import Paths
    from pipeline.config.params import validate
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


@pytest.fixture(scope="session")
def tiny_prepared(tiny_project: Path) -> Path:
    """data/prepared of :func:`tiny_project`."""
    from pipeline.artifacts.paths import Paths

    return Paths(tiny_project).prepared


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``gpu`` where CUDA is not available."""
    try:
        import torch
        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def project_copy(tiny_project: Path, tmp_path: Path):
    """A fresh copy of the tiny project (each training or evaluation run writes into its own
    root): ``project_copy(name) -> Paths``."""
    import shutil

    from pipeline.artifacts.paths import Paths

    def make(name: str) -> "Paths":
        root = tmp_path / name
        shutil.copytree(Path(tiny_project) / "data", root / "data")
        return Paths(root)
    return make
