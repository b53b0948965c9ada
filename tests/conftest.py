"""Shared fixtures. Tests run from any folder; data paths are resolved from the repo root."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ANNOTATIONS = REPO / "data" / "annotations"

os.environ.setdefault("DVC_NO_ANALYTICS", "1")


@pytest.fixture
def repo_root() -> Path:
    return REPO
