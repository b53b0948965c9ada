"""Training fixtures on top of the session's tiny project (tests/conftest.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from pipeline.artifacts import Paths


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
