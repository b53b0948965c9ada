"""The search report (its own stage now) and the pseudo-target pictures, on tiny synthetic data."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.artifacts.paths import Paths
from pipeline.config.params import validate
from pipeline.evaluation import search_report
from pipeline.evaluation.figures import pseudo_panels
from pipeline.ingest import stage as ingest
from pipeline.masks import stage as masks
from pipeline.parsing import stage as parse
from pipeline.pose import stage as pose
from pipeline.search import stage as search
from pipeline.synthetic import stage as synthesize
from tests.helpers import ANNOTATIONS


def _params(root: Path, data: dict | None = None, **sections):
    return validate({
        "data": {"root": str(root / "data/raw/synthetic"), "height": 64, "width": 64,
                 "workers": 1, **(data or {}),
                 "synthetic": {"identities": 4, "poses_per_identity": 3,
                               "real_poses": str(ANNOTATIONS / "fasion-annotation-sample.csv")}},
        "pose": {"workers": 1}, "parse": {"workers": 1}, "masks": {"workers": 1},
        "search": {"workers": 1, "backend": "threading"}, **sections})


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    for stage in (synthesize, ingest, pose, parse, masks, search):
        stage.run(_params(root), Paths(root), progress=False)
    return root


def test_report_against_the_oracle(project: Path):
    paths = Paths(project)
    report = search_report.run(_params(project), paths, progress=False)
    assert json.loads(paths.metric("search_report").read_text()) == report
    assert report["oracle"].startswith("synthetic")
    for key in ("search", "random_candidate"):
        assert 0.0 <= report[key]["mean_iou"] <= 1.0
        assert set(report[key]["per_label_iou"]) <= {"face", "hair", "upperclothes", "pants",
                                                     "skirt", "leftArm", "rightArm",
                                                     "leftLeg", "rightLeg"}
    summary = json.loads(paths.summary("pseudo").read_text())
    assert report["sources_with_target"] == summary["with_target"] > 0
    assert "search report: mean IoU" in search_report.summary_text(report)


def test_report_without_an_oracle_gives_costs_only(project: Path, tmp_path: Path):
    # same artifacts, but the params say the data is not synthetic: no ground truth is read
    params = _params(project, {"source": "folder", "annotations": [], "pairs": "",
                               "split_by": "fraction"},
                     pose={"backend": "mediapipe"}, parse={"backend": "coarse"})
    report = search_report.run(params, Paths(project), progress=False)
    assert "not available" in report["oracle"] and "search" not in report
    assert report["cost"]["p0"] <= report["cost"]["p50"] <= report["cost"]["p100"]


def test_label_iou_counts():
    a = np.array([[0, 1], [2, 2]], np.uint8)
    inter, union = search_report.label_iou_counts(a, a)
    assert (inter == union).all() and inter[2] == 2
    b = np.array([[0, 1], [2, 1]], np.uint8)
    inter, union = search_report.label_iou_counts(a, b)
    assert (inter[1], union[1], inter[2], union[2]) == (1, 2, 1, 2)


def test_pseudo_picture_shows_the_oracle_truth(project: Path, monkeypatch):
    monkeypatch.chdir(project)              # images.h5 records data.root; the picture reads it
    paths = Paths(project)
    from pipeline.artifacts.reader import Artifact

    row = int(np.flatnonzero(Artifact(paths.artifact("pseudo"))["target_index"][:] >= 0)[0])
    titles = [t for t, _ in pseudo_panels(paths.prepared, row)]
    assert titles[:3] == ["source", "S_Ps", "f(S_Ps) warped"]
    assert titles[-1] == "oracle S_Pt"
