"""Fixtures of the applications' tests: the tiny prepared project with model files of every
scheme (random weights, written the way the appearance stage writes them)."""
from __future__ import annotations

import pytest

from pipeline.training.appearance_stage import write_models
from pipeline.training.trained import appearance_dir
from tests.training.conftest import _one_thread  # noqa: F401 (fixture)
from tests.training.test_appearance_stage import _params, _scheme, project  # noqa: F401


@pytest.fixture
def trained(project):  # noqa: F811
    """``make(name, scheme)`` -> Paths of a tiny project (64x64 frames, 12 images) whose
    models/ holds G_A (32x32) and, for ts_pred / e2e, G_S (16x16 maps)."""
    def make(name: str, scheme: str = "e2e"):
        paths = project(name)
        params = _params({"scheme": scheme})
        networks, _ = _scheme(params, paths)
        write_models(appearance_dir(paths), networks, params)
        return paths
    return make
