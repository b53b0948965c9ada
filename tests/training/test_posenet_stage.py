"""The train_posenet stage library on the tiny prepared project: outputs, PCKh of the detector
and of MediaPipe on the same images, resume, MediaPipe missing, bad settings."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pipeline.config.base import ParamsError

from pipeline.config.params import validate
from pipeline.datasets.images import PoseImageDataset
from pipeline.metrics.pckh import pckh
from pipeline.models.posenet import PoseNet, heatmaps_to_keypoints
from pipeline.inference.model_files import load_model_file, read_model_file
from pipeline.training.loop import TrainingError
from pipeline.training.posenet.stage import PosenetStage, run, summary_text
from tests.helpers import TINY_RAW

#: Tiny detector: 32x32 input, width 4, one residual block, a few steps.
TINY_POSENET = dict(height=32, width=32, channels=4, blocks=1, downsamplings=2, batch_size=4,
                    iterations=6, log_every=2, sample_every=3, checkpoint_every=2,
                    sample_count=2, device="cpu", threads=1, workers=0)


def _params(**posenet):
    raw = json.loads(json.dumps(TINY_RAW))
    raw["posenet"] = dict(TINY_POSENET, **posenet)
    return validate(raw)


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_stage_writes_model_metrics_curves_and_grids(project_copy):
    paths = project_copy("a")
    summary = run(_params(), paths, progress=False)
    assert summary["finished"] and summary["iterations"] == 6
    assert "PCKh@0.5" in summary_text(summary)
    net = load_model_file(paths.posenet_model)
    assert isinstance(net, PoseNet) and net.arch.height == 32 and net.arch.channels == 4
    _, meta = read_model_file(paths.posenet_model)
    assert meta["stage"] == "train_posenet" and json.loads(meta["params"])["blocks"] == 1
    ev = PosenetStage().eval_dir(paths)
    metrics = json.loads((ev / "metrics.json").read_text())
    test = metrics["test"]
    assert metrics["images"] == len(PoseImageDataset(paths.prepared, (32, 32), "test"))
    for detector in ("posenet", "mediapipe"):
        m = test[detector]
        if m.get("computed") is False:       # MediaPipe not installed: said, never a 0
            assert detector == "mediapipe" and "mediapipe" in m["reason"]
            continue
        assert 0 <= m["pckh"] <= 1 and set(m["per_joint"]) >= {"nose", "Lank"}
    assert test["posenet"]["counted"] > 0
    curves = sorted(p.name for p in (ev / "plots" / "metrics" / "train").iterdir())
    assert curves == ["loss_heatmap.tsv"]
    rows = (ev / "plots" / "metrics" / "train" / "loss_heatmap.tsv").read_text().splitlines()
    assert [r.split("\t")[0] for r in rows[1:]] == ["2", "4", "6"]
    grids = sorted(p.name for p in (ev / "samples").iterdir())
    assert grids == ["test_000003.png", "test_000006.png", "train_000003.png",
                     "train_000006.png"]
    assert not (paths.cache / "train_posenet").exists()         # work folder removed


def test_metrics_are_the_saved_detector_measured_on_the_test_split(project_copy):
    """The reported PCKh is what the model file's detector scores on the test split at the
    stored frame (recomputed here from the file), and MediaPipe is scored on the same images."""
    paths = project_copy("m")
    run(_params(iterations=4), paths, progress=False)
    net = load_model_file(paths.posenet_model)
    ds = PoseImageDataset(paths.prepared, (32, 32), "test")
    batch = torch.stack([ds[i]["image"] for i in range(len(ds))])
    with torch.no_grad():
        kp = heatmaps_to_keypoints(net(batch), 0.1).numpy()
    from pipeline.geometry import scale_keypoints
    kp = scale_keypoints(kp, (32, 32), ds.frame_hw)
    expected = pckh(kp, ds.keypoints[ds.rows])
    test = json.loads((PosenetStage().eval_dir(paths) / "metrics.json").read_text())["test"]
    assert test["posenet"]["correct"] == expected["correct"]
    assert test["posenet"]["counted"] == expected["counted"]
    if test["mediapipe"].get("computed", True):
        assert test["mediapipe"]["counted"] == expected["counted"]   # same images, same truth


def test_mediapipe_missing_is_reported_not_zero(project_copy, monkeypatch):
    import pipeline.pose.mediapipe_detector as mpd

    def missing():
        raise ImportError(mpd._INSTALL_HINT)

    monkeypatch.setattr(mpd, "_import_mediapipe", missing)
    paths = project_copy("nomp")
    summary = run(_params(iterations=2, sample_every=100), paths, progress=False)
    mp = json.loads((PosenetStage().eval_dir(paths) / "metrics.json").read_text())["test"]["mediapipe"]
    assert mp["computed"] in (False, "False") and "mediapipe==0.10.21" in mp["reason"]
    assert "pckh" not in mp
    assert "not computed" in summary_text(summary)


def test_resumed_run_is_bit_identical_to_an_uninterrupted_one(project_copy):
    a, b = project_copy("a"), project_copy("b")
    run(_params(), a, progress=False)
    stopped = run(_params(checkpoint_every=4), b, progress=False, stop_after=5)
    assert not stopped["finished"] and "resume" in summary_text(stopped)
    assert not b.posenet_model.exists()
    resumed = run(_params(checkpoint_every=4), b, progress=False)
    assert resumed["resumed_from"] == 4 and resumed["finished"]
    assert a.posenet_model.read_bytes() == b.posenet_model.read_bytes()
    assert _files(PosenetStage().eval_dir(a)) == _files(PosenetStage().eval_dir(b))


def test_bad_settings_say_what_to_change(project_copy):
    with pytest.raises(ParamsError, match="posenet.height x posenet.width = 34 x 32"):
        _params(height=34)
    with pytest.raises(TrainingError, match="posenet.batch_size"):
        run(_params(batch_size=64), project_copy("big"), progress=False)


def test_the_heatmap_loss_falls(project_copy):
    """Training moves the weights: 40 steps at least halve the heatmap loss of the first ten."""
    paths = project_copy("learn")
    run(_params(iterations=40, log_every=10, sample_every=1000, lr=0.003), paths,
        progress=False)
    rows = (PosenetStage().eval_dir(paths) / "plots" / "metrics" / "train" / "loss_heatmap.tsv").read_text()
    losses = [float(r.split("\t")[1]) for r in rows.splitlines()[1:]]
    assert losses[-1] < 0.5 * losses[0]
    assert np.isfinite(losses).all()


@pytest.mark.gpu
@pytest.mark.parametrize("amp", ["off", "bf16", "fp16"])
def test_stage_runs_on_cuda(project_copy, amp):
    """The stage on CUDA with each precision and channels_last (run by bench/gpu_check.sh's
    `pytest -m gpu tests/training`): it finishes, and the detector it saves loads and scores."""
    paths = project_copy(f"cuda_{amp}")
    summary = run(_params(device="cuda", amp=amp, channels_last=True, iterations=4,
                          sample_every=2), paths, progress=False)
    assert summary["finished"] and summary["device"].startswith("cuda")
    assert isinstance(load_model_file(paths.posenet_model), PoseNet)
    test = json.loads((PosenetStage().eval_dir(paths) / "metrics.json").read_text())["test"]
    assert test["posenet"]["counted"] > 0 and 0 <= test["posenet"]["pckh"] <= 1
