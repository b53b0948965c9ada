"""Trained model files render exactly what the training scheme rendered, for every scheme;
missing or mismatched files give one-line errors naming the file and the stage to run."""
from __future__ import annotations

import pytest
import torch

from pipeline.inference.model_files import ModelFileError, load_model_file, save_model_file
from pipeline.inference.trained import TrainedModels
from pipeline.training.appearance.stage import write_models
from tests.model_fixtures import appearance_params as _params, appearance_scheme as _scheme


@pytest.mark.parametrize("name", ["baseline", "ts_pred", "ts_gt", "e2e"])
def test_loaded_models_render_what_the_scheme_renders(project, name):
    paths = project(f"trained_{name}")
    params = _params({"scheme": name, "iterations": 2, "joint_iterations": 1})
    scheme, batch = _scheme(params, paths)
    for _ in range(2):                                  # e2e: the last step trains G_S too
        scheme.set_input(batch)
        scheme.optimize_parameters()
    write_models(paths, scheme, params)
    models = TrainedModels.load(paths)
    assert models.scheme == name and models.params["appearance"]["scheme"] == name
    assert models.image_hw == (32, 32)
    assert models.map_hw == ((16, 16) if name in ("ts_pred", "e2e") else None)
    want = scheme.generate(batch, back=True)
    got = models.render(batch, back=True)
    assert torch.equal(got.fake_t, want.fake_t) and torch.equal(got.fake_s, want.fake_s)
    assert (got.tgt_maps is None) == (name == "baseline")
    if got.tgt_maps is not None:
        assert torch.equal(got.tgt_maps, want.tgt_maps)
    if name == "e2e":       # the jointly trained G_S, not the pretrained file, is loaded
        trained = scheme.networks["semantic_generator"].state_dict()
        pretrained = load_model_file(paths.semantic_model).state_dict()
        loaded = models.semantic.state_dict()
        assert all(torch.equal(loaded[k], trained[k]) for k in trained)
        assert any(not torch.equal(loaded[k], pretrained[k]) for k in pretrained)

def test_missing_files_name_the_stage(project, tmp_path):
    paths = project("trained_missing")
    with pytest.raises(ModelFileError, match="train_appearance"):
        TrainedModels.load(paths)
    params = _params({"scheme": "ts_pred"})
    scheme, batch = _scheme(params, paths)
    write_models(paths, scheme, params)
    paths.semantic_model.unlink()
    with pytest.raises(ModelFileError, match="semantic.safetensors.*train_semantic"):
        TrainedModels.load(paths)
    save_model_file(paths.semantic_model, "appearance_generator", scheme.generator,
                    scheme.arch.to_dict())
    with pytest.raises(ModelFileError, match="not the semantic generator"):
        TrainedModels.load(paths)


def test_render_needs_the_map_resolution_pair(project):
    paths = project("trained_sem")
    params = _params({"scheme": "ts_pred"})
    scheme, batch = _scheme(params, paths)
    write_models(paths, scheme, params)
    batch.pop("sem")
    with pytest.raises(ValueError, match="'sem'"):
        TrainedModels.load(paths).render(batch)
