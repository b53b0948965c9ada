"""Paths owns every path of the project; pipeline.artifacts re-exports its submodules' names."""
from __future__ import annotations

from pathlib import Path

import pipeline.artifacts as artifacts
from pipeline.artifacts.paths import Paths


def test_model_paths(tmp_path: Path):
    paths = Paths(tmp_path)
    models = tmp_path / "models"
    assert paths.semantic_model == models / "semantic.safetensors"
    assert paths.posenet_model == models / "posenet.safetensors"
    assert paths.appearance_models == models / "appearance"
    assert paths.appearance_generator == models / "appearance" / "generator.safetensors"
    assert paths.joint_semantic_model == models / "appearance" / "semantic.safetensors"
    assert Paths().semantic_model == Path("models/semantic.safetensors")


def test_eval_paths(tmp_path: Path):
    paths = Paths(tmp_path)
    for name in ("semantic", "posenet", "appearance"):
        assert paths.eval_dir(name) == tmp_path / "eval" / name
    assert paths.metric("metrics") == paths.eval / "metrics.json"


def test_package_reexports_every_public_name():
    for name in artifacts.__all__:
        obj = getattr(artifacts, name)
        home = getattr(obj, "__module__", None)
        if isinstance(obj, (type,)) or callable(obj):
            assert home.startswith("pipeline.artifacts."), (name, home)
    assert artifacts.Paths is Paths
    assert sorted(set(artifacts.__all__)) == sorted(artifacts.__all__)
