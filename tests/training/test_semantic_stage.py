"""The train_semantic stage library on a tiny prepared project: outputs, metrics, determinism,
resume through the stage, execution-only keys, bad inputs."""
from __future__ import annotations

import json

import h5py
import pytest

from pipeline.artifacts.codes import STATUS_NO_CANDIDATE
from pipeline.config.base import ParamsError
from pipeline.config.params import validate
from pipeline.datasets.pairs import DatasetError
from pipeline.inference.model_files import load_model_file
from pipeline.training.semantic.stage import SemanticStage, run, summary_text
from tests.helpers import TINY_RAW
from tests.training.fakes import TINY_SEMANTIC


def _params(**semantic):
    raw = json.loads(json.dumps(TINY_RAW))
    raw["semantic"] = dict(TINY_SEMANTIC, iterations=6, sample_every=3, checkpoint_every=2)
    raw["semantic"].update(semantic)
    return validate(raw)


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_stage_writes_model_metrics_curves_and_grids(project_copy):
    paths = project_copy("a")
    summary = run(_params(), paths, progress=False)
    assert summary["finished"] and summary["iterations"] == 6
    assert "test pairs" in summary_text(summary)
    net = load_model_file(paths.semantic_model)
    assert net.arch.height == 32 and net.arch.channels == 4
    ev = SemanticStage().eval_dir(paths)
    metrics = json.loads((ev / "metrics.json").read_text())
    for ref in ("model", "source_map", "part_warp"):
        m = metrics["test"][ref]
        assert 0 <= m["pixel_accuracy"] <= 1 and "per_label_iou" in m
    assert set(metrics["train_oracle"]) >= {"model", "pseudo_target"}
    assert 0 < metrics["train_oracle"]["pseudo_target"]["miou"] <= 1
    curves = sorted(p.name for p in (ev / "plots" / "metrics" / "train").iterdir())
    assert curves == ["loss_ce.tsv", "loss_d.tsv", "loss_g.tsv", "loss_g_adv.tsv"]
    rows = (ev / "plots" / "metrics" / "train" / "loss_ce.tsv").read_text().splitlines()
    assert rows[0] == "step\tloss_ce" and [r.split("\t")[0] for r in rows[1:]] == ["2", "4", "6"]
    grids = sorted(p.name for p in (ev / "samples").iterdir())
    assert grids == ["test_000003.png", "test_000006.png", "train_000003.png",
                     "train_000006.png"]
    assert not (paths.cache / "train_semantic").exists()        # work folder removed


def test_references_are_measured(project_copy):
    """The part-warp reference is measured, not copied: it differs from the source map."""
    paths = project_copy("refs")
    run(_params(iterations=2, sample_every=100), paths, progress=False)
    test = json.loads((SemanticStage().eval_dir(paths) / "metrics.json").read_text())["test"]
    assert test["source_map"] != test["part_warp"]


def test_runs_are_bit_identical_resumed_or_not_whatever_the_execution_keys(project_copy):
    a, b = project_copy("a"), project_copy("b")
    run(_params(), a, progress=False)
    stopped = run(_params(workers=1, checkpoint_every=4), b, progress=False, stop_after=5)
    assert not stopped["finished"] and "resume" in summary_text(stopped)
    assert not b.semantic_model.exists()
    resumed = run(_params(workers=1, checkpoint_every=4), b, progress=False)
    assert resumed["resumed_from"] == 4 and resumed["finished"]
    assert a.semantic_model.read_bytes() == b.semantic_model.read_bytes()
    assert _files(SemanticStage().eval_dir(a)) == _files(SemanticStage().eval_dir(b))


def test_no_pseudo_targets_is_one_line(project_copy):
    paths = project_copy("empty")
    with h5py.File(paths.artifact("pseudo"), "r+") as f:
        f["status"][...] = STATUS_NO_CANDIDATE
    with pytest.raises(DatasetError) as err:
        run(_params(), paths, progress=False)
    assert "\n" not in str(err.value) and "no pseudo targets" in str(err.value)


def test_indivisible_resolution_and_batch_errors_say_what_to_change(project_copy):
    with pytest.raises(ParamsError, match="semantic.height x semantic.width = 34 x 32"):
        _params(height=34)
    from pipeline.training.loop import TrainingError
    with pytest.raises(TrainingError, match="semantic.batch_size"):
        run(_params(batch_size=64), project_copy("big"), progress=False)
