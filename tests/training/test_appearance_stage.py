"""The appearance schemes and the train_appearance stage on a tiny prepared project: every
scheme trains, the target image is never used, G_S is frozen or trained as its scheme says,
outputs and metrics, exact resume, bad inputs."""
from __future__ import annotations

import json

import pytest
import torch

from pipeline.appearance_schemes import SCHEMES
from pipeline.inference.model_files import ModelFileError, load_model_file
from pipeline.training.appearance.stage import AppearanceStage, run, summary_text
from tests.model_fixtures import (appearance_params as _params, appearance_scheme as _scheme)

@pytest.mark.parametrize("name", ["baseline", "ts_pred", "ts_gt", "e2e"])
def test_every_scheme_trains_without_the_target_image(project, name):
    paths = project(name)
    params = _params({"scheme": name})
    scheme, batch = _scheme(params, paths)
    assert "tgt_image" not in batch                      # training pairs carry no target photo
    assert ("sem" in batch) == (name in ("ts_pred", "e2e"))
    if "sem" in batch:
        assert tuple(batch["sem"]["src_labels"].shape[-2:]) == (16, 16)
    g_s = scheme.frozen.semantic
    before = {k: v.clone() for k, v in g_s.state_dict().items()} if g_s is not None else {}
    seen = set()
    for _ in range(4):
        scheme.set_input(batch)
        losses = scheme.optimize_parameters()
        assert all(torch.isfinite(v) for v in losses.values()), losses
        seen |= set(losses)
    expected = {"loss_d", "loss_d_face", "loss_g", "loss_g_adv", "loss_g_face", "loss_pose",
                "loss_content", "loss_style", "loss_cycle_l1"}
    if name == "e2e":
        # the joint phase (last 2 steps): G_S's cross-entropy and D_S
        expected |= {"loss_semantic_ce", "loss_semantic_adv", "loss_d_semantic"}
    assert seen == expected
    if name == "ts_pred":
        assert all(torch.equal(v, before[k]) for k, v in g_s.state_dict().items())
    if name == "e2e":
        assert any(not torch.equal(v, before[k]) for k, v in g_s.state_dict().items())
    out = scheme.generate(batch, back=True)
    assert out.fake_t.shape == out.fake_s.shape == (2, 3, 32, 32)
    assert (out.tgt_maps is None) == (name == "baseline")


def test_e2e_trains_g_s_only_in_the_joint_phase(project):
    paths = project("joint")
    params = _params({"scheme": "e2e", "iterations": 4, "joint_iterations": 2})
    scheme, batch = _scheme(params, paths)
    g_s = scheme.frozen.semantic
    snapshots = []
    for _ in range(4):
        snapshots.append({k: v.clone() for k, v in g_s.state_dict().items()})
        scheme.set_input(batch)
        scheme.optimize_parameters()
    snapshots.append(g_s.state_dict())
    changed = [any(not torch.equal(a[k], b[k]) for k in a)
               for a, b in zip(snapshots, snapshots[1:])]
    assert changed == [False, False, True, True]


def test_style_regions_and_face_switch(project):
    assert SCHEMES["baseline"].style("semantic") == "mask"
    assert SCHEMES["baseline"].style("patch") == "patch"
    assert SCHEMES["e2e"].style("patch") == "patch"
    paths = project("face")
    scheme, batch = _scheme(_params({"scheme": "ts_gt"}, {"face": False, "style": "patch",
                                                         "pose": 0.0}), paths)
    assert "face_discriminator" not in scheme.networks and scheme.frozen.posenet is None
    scheme.set_input(batch)
    losses = scheme.optimize_parameters()
    assert "loss_g_face" not in losses and "loss_pose" not in losses
    assert losses["loss_style"] > 0


def test_cycle_l1_is_the_pixel_l1_of_the_cycle(project):
    """``loss.cycle_l1`` adds ``cycle_l1 * mean |I~_Ps - I_s|`` (nothing else when the other
    generator losses are off), and a perfect reconstruction costs 0."""
    from pipeline.inference.renderer import CycleOutput
    from pipeline.inference.semantic_inputs import one_hot_maps
    paths = project("cycle")
    off = {"face": False, "pose": 0.0, "adv": 0.0, "content": 0.0, "style_weight": 0.0}
    scheme, batch = _scheme(_params({"scheme": "ts_gt"}, dict(off, cycle_l1=10.0)), paths)
    scheme.set_input(batch)
    x = scheme.input
    src_maps = one_hot_maps(x["src_labels"])
    out = scheme.generate(batch, back=True)
    losses = scheme.generator_losses(x, out, src_maps)
    assert set(losses) == {"loss_cycle_l1"}
    torch.testing.assert_close(losses["loss_cycle_l1"],
                               10.0 * (out.fake_s - x["src_image"]).abs().mean())
    perfect = CycleOutput(out.tgt_maps, out.logits, out.fake_t, x["src_image"].clone())
    assert scheme.generator_losses(x, perfect, src_maps)["loss_cycle_l1"] == 0
    scheme, _ = _scheme(_params({"scheme": "ts_gt"}, dict(off, cycle_l1=0.0, adv=1.0)), paths)
    scheme.set_input(batch)
    assert "loss_cycle_l1" not in scheme.optimize_parameters()


def test_stage_writes_models_metrics_and_grids(project):
    paths = project("stage")
    summary = run(_params(), paths, progress=False)
    assert summary["finished"] and summary["scheme"] == "e2e"
    assert "SSIM" in summary_text(summary)
    files = sorted(p.name for p in paths.appearance_models.iterdir())
    assert files == ["generator.safetensors", "semantic.safetensors"]    # e2e: G_S too
    g = load_model_file(paths.appearance_models / "generator.safetensors")
    assert g.arch.height == 32 and g.arch.use_maps
    metrics = json.loads((AppearanceStage().eval_dir(paths) / "metrics.json").read_text())
    for ref in ("model", "source", "part_warp"):
        assert 0 <= metrics["test"][ref]["ssim"] <= 1 and metrics["test"][ref]["l1"] >= 0
    assert metrics["test"]["model"] != metrics["test"]["source"]
    grids = sorted(p.name for p in (AppearanceStage().eval_dir(paths) / "samples").iterdir())
    assert grids == ["test_000002.png", "test_000004.png", "train_000002.png",
                     "train_000004.png"]
    assert not (paths.cache / "train_appearance").exists()


def test_resume_gives_the_bytes_of_an_uninterrupted_run(project):
    """Same machine, same thread count: the model files and metrics of a run killed and
    resumed are byte-identical to those of an uninterrupted run (docs/reproducibility.md)."""
    a, b = project("a"), project("b")
    params = _params({"scheme": "e2e", "iterations": 4, "joint_iterations": 2})
    run(params, a, progress=False)
    stopped = run(params, b, progress=False, stop_after=3)     # killed inside the joint phase
    assert not stopped["finished"]
    resumed = run(params, b, progress=False)
    assert resumed["resumed_from"] == 3
    for name in ("generator.safetensors", "semantic.safetensors"):
        ga, gb = (load_model_file(p.appearance_models / name).state_dict() for p in (a, b))
        assert all(torch.equal(v, gb[k]) for k, v in ga.items()), name
        assert (a.appearance_models / name).read_bytes() == \
            (b.appearance_models / name).read_bytes(), name
    metrics = [(AppearanceStage().eval_dir(p) / "metrics.json").read_bytes() for p in (a, b)]
    assert metrics[0] == metrics[1]


def test_missing_model_files_are_one_line_errors(project_copy):
    paths = project_copy("none")
    with pytest.raises(ModelFileError, match="run `dvc repro train_posenet` first"):
        run(_params(), paths, progress=False)
    with pytest.raises(ModelFileError, match="run `dvc repro train_semantic` first"):
        run(_params(loss={"pose": 0.0}), paths, progress=False)
