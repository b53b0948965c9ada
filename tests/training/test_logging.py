"""DVCLive publishing: curves at their steps, metrics nested, grids copied, others' files kept."""
from __future__ import annotations

import json

from pipeline.training.logging import LossHistory, publish_eval


def test_publish_replaces_own_files_and_keeps_others(tmp_path):
    h = LossHistory()
    for step in (5, 10):
        h.accumulate({"loss_ce": 1.0 / step, "loss_d": 0.5})
        h.add(step, h.window_means())
    out = tmp_path / "eval" / "semantic"
    (out / "plots" / "metrics" / "train").mkdir(parents=True)
    (out / "plots" / "metrics" / "train" / "stale.tsv").write_text("old")
    (out / ".gitignore").write_text("/samples\n")
    samples = tmp_path / "grids"
    samples.mkdir()
    (samples / "train_000010.png").write_bytes(b"png")
    publish_eval(out, h, {"test": {"model": {"miou": 0.5, "per_label_iou": {"face": 0.25}}}},
                 samples=samples)
    assert (out / ".gitignore").read_text() == "/samples\n"
    assert not (out / "plots" / "metrics" / "train" / "stale.tsv").exists()
    assert (out / "plots" / "metrics" / "train" / "loss_ce.tsv").read_text().splitlines() == [
        "step\tloss_ce", "5\t0.2", "10\t0.1"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["model"]["per_label_iou"]["face"] == 0.25
    assert metrics["train"]["loss_d"] == 0.5 and metrics["step"] == 10
    assert (out / "samples" / "train_000010.png").read_bytes() == b"png"
    assert sorted(p.name for p in out.parent.iterdir()) == ["semantic"]   # no temporaries
