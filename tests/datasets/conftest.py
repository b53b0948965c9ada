"""Dataset fixtures on top of the session's tiny prepared pipeline (tests/conftest.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import pytest

from pipeline.artifacts.codes import STATUS_NO_CANDIDATE


@pytest.fixture
def all_failed(tiny_prepared: Path, tmp_path: Path) -> Path:
    """A copy of the tiny artifacts whose pseudo.h5 has no row with status ok."""
    out = tmp_path / "prepared"
    shutil.copytree(tiny_prepared, out)
    with h5py.File(out / "pseudo.h5", "r+") as f:
        f["status"][...] = STATUS_NO_CANDIDATE
    return out
