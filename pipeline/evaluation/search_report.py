"""Stage library of `search_report`: the searching error, measured against the synthetic oracle.

On the synthetic data the oracle renders the source person in the chosen candidate's pose
(its full skeleton), giving the true parsing S_Pt that S*_Pt stands in for. The report
gives the IoU per label between S*_Pt and that truth, at image resolution, and the same for
a random admissible-pool candidate (what the search buys over no search), plus the
distribution of the search costs. On real data (no oracle) it reports the costs only.

Output: ``eval/search_report.json``, a git-tracked DVC metric (``dvc metrics show``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from pipeline.artifacts.atomic import atomic_write_json
from pipeline.artifacts.codes import STATUS_NO_CANDIDATE, STATUS_OK
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import open_aligned
from pipeline.labels import LABEL_NAMES
from pipeline.synthetic.truth import truth_path

if TYPE_CHECKING:
    from pipeline.config.params import Params

#: Name of the metric file (``eval/<METRIC>.json``).
METRIC = "search_report"

PERCENTILES = (0, 10, 25, 50, 75, 90, 100)


def label_iou_counts(pred: np.ndarray, true: np.ndarray, num_labels: int = len(LABEL_NAMES)
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per-label intersection and union pixel counts of two (H, W) label maps."""
    inter = np.bincount(pred[pred == true].ravel(), minlength=num_labels)[:num_labels]
    area_p = np.bincount(pred.ravel(), minlength=num_labels)[:num_labels]
    area_t = np.bincount(true.ravel(), minlength=num_labels)[:num_labels]
    return inter, area_p + area_t - inter


def _summarise(inter: np.ndarray, union: np.ndarray, per_image: list[float]) -> dict:
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / union
    person = {LABEL_NAMES[l]: round(float(iou[l]), 4) for l in range(1, len(LABEL_NAMES))
              if union[l] > 0}
    return {"mean_iou": round(float(np.mean(list(person.values()))), 4) if person else None,
            "per_label_iou": person,
            "mean_image_miou": round(float(np.mean(per_image)), 4) if per_image else None}


def _image_miou(inter: np.ndarray, union: np.ndarray) -> float:
    present = union[1:] > 0
    return float((inter[1:][present] / union[1:][present]).mean()) if present.any() else 1.0


def run(params: Params, paths: Paths, progress: bool = True, seed: int = 0) -> dict:
    """Write eval/search_report.json; the IoU part only when a synthetic oracle is available
    (``data.source: synthetic`` and ``<data.root>/truth.h5``). Returns the report.

    seed: of the random-candidate baseline (fixed: the report is a metric, reproducible).
    """
    arts = open_aligned(["pseudo", "parsing"], paths.prepared)
    try:
        report = _report(arts, params, paths, progress, seed)
    finally:
        for art in arts.values():
            art.close()
    atomic_write_json(paths.metric(METRIC), report)
    return report


def _report(arts: dict, params: Params, paths: Paths, progress: bool, seed: int) -> dict:
    pseudo, images, parsing = arts["pseudo"], arts["images"], arts["parsing"]
    cost = pseudo["cost"][:]
    target = pseudo["target_index"][:]
    has = np.flatnonzero(target >= 0)
    report: dict = {
        "sources_with_target": int(has.size),
        "cost": {f"p{p}": float(np.percentile(cost[has], p)) for p in PERCENTILES}
        if has.size else {},
        "cost_mean": float(cost[has].mean()) if has.size else None,
    }
    root = paths.dataset(params.data.root)
    if params.data.source != "synthetic" or not truth_path(root).is_file():
        report["oracle"] = "not available (real data has no ground truth in other poses)"
        return report

    from pipeline.synthetic.oracle import PoseSwap

    swap = PoseSwap.from_dir(root, images.names)
    labels = pseudo["target_labels"]
    status = pseudo["status"][:]
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero((status == STATUS_OK) | (status == STATUS_NO_CANDIDATE))  # train, torso
    k = len(LABEL_NAMES)
    acc = {"search": [np.zeros(k, np.int64), np.zeros(k, np.int64), []],
           "random_candidate": [np.zeros(k, np.int64), np.zeros(k, np.int64), []]}
    for s in tqdm(has, desc="search report (oracle)", disable=not progress):
        c_rand = int(rng.choice(pool[pool != s])) if pool.size > 1 else int(target[s])
        for key, c, lab in (("search", int(target[s]), labels[s]),
                            ("random_candidate", c_rand, parsing["labels"][c_rand])):
            true = swap.labels(s, c)
            inter, union = label_iou_counts(lab, true, k)
            acc[key][0] += inter
            acc[key][1] += union
            acc[key][2].append(_image_miou(inter, union))
    report["oracle"] = "synthetic: the source person rendered in the candidate's skeleton"
    for key, (inter, union, per_image) in acc.items():
        report[key] = _summarise(inter, union, per_image)
    return report


def summary_text(report: dict) -> str:
    """One line for the stage's console output."""
    if "search" not in report:
        return f"search report: {report['sources_with_target']} sources; {report['oracle']}"
    return (f"search report: mean IoU of S*_Pt vs the oracle {report['search']['mean_iou']} "
            f"(random candidate: {report['random_candidate']['mean_iou']})")
