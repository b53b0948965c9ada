"""Learning curves on the test pairs (pipeline/training/curves.py): the files and their steps,
values in range, nothing written when off, trained weights bit-identical with curves on and
off, and a resumed run publishing the curves of an uninterrupted one."""
from __future__ import annotations

import importlib.util
import json
import random

import numpy as np
import torch

from pipeline.inference.model_files import load_model_file
from pipeline.training.appearance.stage import AppearanceStage
from pipeline.training.appearance.stage import run as run_appearance
from pipeline.training.curves import curve_pairs, keep_rng
from pipeline.training.semantic.stage import SemanticStage
from pipeline.training.semantic.stage import run as run_semantic
from tests.model_fixtures import appearance_params
from tests.training.test_semantic_stage import _params as semantic_params


def _image_metrics() -> set[str]:
    """The image curve metrics this environment can compute: SSIM always, ST-LPIPS with the
    stlpips-pytorch weights, PCKh with MediaPipe."""
    from pipeline.metrics.lpips import LPIPSWeightsError, weights_path
    out = {"ssim"}
    try:
        weights_path()
        out.add("lpips")
    except LPIPSWeightsError:
        pass
    if importlib.util.find_spec("mediapipe") is not None:
        out.add("pckh")
    return out


def _tsv(path) -> tuple[list[str], list[int], list[float]]:
    """(header, steps, values) of a DVCLive curve file."""
    rows = path.read_text().splitlines()
    cells = [r.split("\t") for r in rows[1:]]
    return rows[0].split("\t"), [int(c[0]) for c in cells], [float(c[1]) for c in cells]


def _files(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _same_tensors(a, b) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


# --------------------------------------------------------------------------- pieces
def test_keep_rng_restores_every_stream():
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    expected = (torch.rand(4), np.random.rand(4), random.random())
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    with keep_rng():
        torch.rand(100), np.random.rand(100), random.random()
        list(torch.utils.data.DataLoader(range(4)))    # a loader draws its base seed
    got = (torch.rand(4), np.random.rand(4), random.random())
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
    assert got[2] == expected[2]


def test_curve_pairs_are_evenly_spaced_and_all_when_few():
    data = list(range(10))
    assert list(curve_pairs(data, 4)) == [0, 3, 6, 9]
    assert curve_pairs(data, 10) is data and curve_pairs(data, 50) is data


# --------------------------------------------------------------------------- semantic
def test_semantic_curves_files_steps_and_values(project_copy):
    paths = project_copy("on")
    summary = run_semantic(semantic_params(iterations=5, curve_every=2), paths, progress=False)
    assert summary["curve_seconds"] > 0
    assert 0 <= summary["data_wait_share"] <= 1           # scoring is not timed as a step
    folder = SemanticStage().eval_dir(paths) / "plots" / "metrics" / "curves"
    assert sorted(p.name for p in folder.iterdir()) == ["model", "part_warp", "source_map"]
    refs = {}
    for system in ("model", "source_map", "part_warp"):
        header, steps, values = _tsv(folder / system / "miou.tsv")
        assert header == ["step", "miou"] and steps == [0, 2, 4, 5]
        assert all(0 <= v <= 1 for v in values)
        refs[system] = values
    assert len(set(refs["source_map"])) == len(set(refs["part_warp"])) == 1   # constant lines
    assert refs["source_map"] != refs["part_warp"]
    metrics = json.loads((SemanticStage().eval_dir(paths) / "metrics.json").read_text())
    assert metrics["curve_settings"]["every"] == 2 and metrics["curve_settings"]["points"] == 4
    assert metrics["curves"]["model"]["miou"] == refs["model"][-1]


def test_semantic_curves_off_write_nothing_and_leave_the_weights_alone(project_copy):
    on, off = project_copy("on"), project_copy("off")
    run_semantic(semantic_params(iterations=5, curve_every=2), on, progress=False)
    summary = run_semantic(semantic_params(iterations=5, curve_every=0), off, progress=False)
    ev = SemanticStage().eval_dir(off)
    assert not (ev / "plots" / "metrics" / "curves").exists() and "curve_seconds" not in summary
    metrics = json.loads((ev / "metrics.json").read_text())
    assert "curves" not in metrics and "curve_settings" not in metrics
    for path in ("semantic_model", "semantic_discriminator"):
        _same_tensors(load_model_file(getattr(on, path)), load_model_file(getattr(off, path)))


# --------------------------------------------------------------------------- appearance
def _e2e(**appearance):
    return appearance_params({"scheme": "e2e", "iterations": 4, "joint_iterations": 2,
                              "curve_every": 2, **appearance})


def test_appearance_curves_files_steps_and_values(project):
    paths = project("on")
    run_appearance(_e2e(), paths, progress=False)
    ev = AppearanceStage().eval_dir(paths)
    folder = ev / "plots" / "metrics" / "curves"
    metrics = json.loads((ev / "metrics.json").read_text())
    wanted = _image_metrics()
    settings = metrics["curve_settings"]
    assert {m for m in ("ssim", "lpips", "pckh")
            if not settings[m].startswith("not computed")} == wanted
    for system in ("model", "source", "part_warp"):
        assert {p.stem for p in (folder / system).iterdir()} == wanted
        for metric in wanted:
            header, steps, values = _tsv(folder / system / f"{metric}.tsv")
            assert header == ["step", metric] and steps == [0, 2, 4]
            low, high = {"ssim": (-1, 1), "lpips": (0, 10), "pckh": (0, 1)}[metric]
            assert all(low <= v <= high for v in values), (system, metric, values)
            if system != "model":
                assert len(set(values)) == 1, (system, metric)      # constant references
    model_ssim = _tsv(folder / "model" / "ssim.tsv")[2]
    assert len(set(model_ssim)) > 1                                 # the model moves


def test_appearance_weights_are_bit_identical_with_curves_on_and_off(project):
    """e2e draws dropout masks from the global torch RNG at every step: scoring must not
    move that stream (nor any other)."""
    on, off = project("on"), project("off")
    run_appearance(_e2e(), on, progress=False)
    run_appearance(_e2e(curve_every=0), off, progress=False)
    assert not (AppearanceStage().eval_dir(off) / "plots" / "metrics" / "curves").exists()
    for name in ("generator.safetensors", "semantic.safetensors"):
        _same_tensors(load_model_file(on.appearance_models / name),
                      load_model_file(off.appearance_models / name))


def test_appearance_resume_with_curves_gives_the_bytes_of_an_uninterrupted_run(project):
    a, b = project("a"), project("b")
    run_appearance(_e2e(curve_every=1), a, progress=False)
    stopped = run_appearance(_e2e(curve_every=1), b, progress=False, stop_after=3)
    assert not stopped["finished"]
    resumed = run_appearance(_e2e(curve_every=1), b, progress=False)
    assert resumed["resumed_from"] == 3
    for name in ("generator.safetensors", "semantic.safetensors"):
        assert (a.appearance_models / name).read_bytes() == \
            (b.appearance_models / name).read_bytes(), name
    files_a, files_b = (_files(AppearanceStage().eval_dir(p)) for p in (a, b))
    assert "plots/metrics/curves/model/ssim.tsv" in files_a
    assert _tsv(AppearanceStage().eval_dir(b) / "plots/metrics/curves/model/ssim.tsv")[1] == \
        [0, 1, 2, 3, 4]
    assert files_a == files_b
