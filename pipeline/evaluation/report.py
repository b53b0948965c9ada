"""The evaluate stage's report: eval/report.md (metrics tables of the paired and unpaired sets,
the settings, the grid) and the grid of the worst, median and best pairs by SSIM.

Everything here formats numbers that :mod:`pipeline.evaluation.scoring` computed; nothing is
measured here.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from pipeline.evaluation.scoring import SYSTEMS

#: Table columns: (result key, header, better direction).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("ssim", "SSIM", "higher"), ("mask_ssim", "mask-SSIM", "higher"), ("l1", "L1", "lower"),
    ("peer_ssim", "peer SSIM", "higher"), ("lpips", "LPIPS", "lower"),
    ("fid", "FID", "lower"), ("kid", "KID", "lower"), ("is", "IS", "higher"), ("mask_is", "mask-IS", "higher"),
    ("pckh", "PCKh@0.5 (MediaPipe)", "higher"),
    ("pckh_missed", "MediaPipe missed", "lower"),
    ("pckh_posenet", "PCKh@0.5 (own detector)", "higher"))
#: Row labels of the systems.
SYSTEM_LABELS = {"model": "**trained model**", "source": "source image unchanged",
                 "part_warp": "part warp of the source"}


def pick_rows(values: Sequence[float], count: int) -> dict[str, list[int]]:
    """Indices of the ``count`` worst, median and best values (ascending = worse first):
    {"worst": [...], "median": [...], "best": [...]}, each ordered worst to best; groups may
    share pairs when there are fewer than 3 x count values."""
    v = np.asarray(values, np.float64)
    if v.size == 0:
        return {"worst": [], "median": [], "best": []}
    order = np.argsort(v, kind="stable")
    k = min(int(count), v.size)
    mid = max(0, min(v.size - k, v.size // 2 - k // 2))
    return {"worst": order[:k].tolist(), "median": order[mid:mid + k].tolist(),
            "best": order[v.size - k:].tolist()}


def _cell(value: Any, key: str) -> str:
    if value is None or (isinstance(value, dict) and value.get("computed") is False):
        return "n/c"
    if key == "pckh_missed" and isinstance(value, int):
        return str(value)
    if isinstance(value, (int, float, np.floating)):
        return f"{float(value):.2f}" if key in ("fid", "is", "mask_is") else f"{value:.4f}"
    return str(value)


def metrics_table(scores: dict[str, Any]) -> str:
    """Markdown table: one row per system, one column per metric present in any system."""
    cols = [c for c in COLUMNS if any(c[0] in scores.get(s, {}) for s in SYSTEMS)]
    head = "| | " + " | ".join(f"{h} ({'↑' if d == 'higher' else '↓'})"
                                for _, h, d in cols) + " |"
    lines = [head, "|---" * (len(cols) + 1) + "|"]
    for s in SYSTEMS:
        if s in scores:
            lines.append(f"| {SYSTEM_LABELS[s]} | "
                         + " | ".join(_cell(scores[s].get(k), k) for k, _, _ in cols) + " |")
    return "\n".join(lines)


def maps_table(maps: dict[str, Any]) -> str:
    """Markdown table of the target-map scores (model, unchanged source map, its part warp)."""
    labels = {"model": "**predicted S~_Pt**", "source_map": "source map unchanged",
              "part_warp": "part warp of the source map"}
    lines = ["| | mIoU (↑) | pixel accuracy (↑) |", "|---|---|---|"]
    for k, label in labels.items():
        if k in maps:
            lines.append(f"| {label} | {_cell(maps[k].get('miou'), 'miou')} | "
                         f"{_cell(maps[k].get('pixel_accuracy'), 'acc')} |")
    return "\n".join(lines)


def pckh_note(scores: dict[str, Any]) -> list[str]:
    """Lines under a set's table: what the two PCKh columns are, and the independent
    detector on the true target images (what it reads in real images of this set)."""
    truth = scores.get("pckh_truth")
    if not any("pckh_posenet" in scores.get(s, {}) or "pckh" in scores.get(s, {})
               for s in SYSTEMS):
        return []
    out = ["PCKh@0.5 (MediaPipe), the main column: keypoints of the independent MediaPipe "
           "detector in the images enlarged to `evaluate.pckh_size` px, against the wanted "
           "pose; a person it misses (MediaPipe missed) counts with every point wrong. "
           "PCKh@0.5 (own detector): the project's `train_posenet` detector, the one the "
           "appearance training's pose loss optimises against (docs/metrics.md)."]
    if isinstance(truth, dict) and isinstance(truth.get("pckh"), float):
        out.append(f"MediaPipe on the true target images: PCKh@0.5 {truth['pckh']:.4f}, "
                   f"{truth['pckh_missed']} of {truth['pckh_images']} people missed (what "
                   f"this detector reads in the true images).")
    elif isinstance(truth, dict) and isinstance(truth.get("pckh"), dict):
        out.append(f"PCKh@0.5 (MediaPipe) not computed: {truth['pckh'].get('reason')}")
    return [" ".join(out), ""]


def report_markdown(metrics: dict[str, Any], grids: dict[str, str]) -> str:
    """eval/report.md from eval/metrics.json's content and the grid file names (relative to
    eval/): {"paired": "report/paired.png", ...}."""
    info = metrics["info"]
    out = [f"# Evaluation of the trained models ({info['scheme']})", "",
           f"Generated by the `evaluate` stage from `eval/metrics.json`; regenerate with "
           f"`dvc repro evaluate`. Scheme `{info['scheme']}`, images {info['image_hw'][0]}x"
           f"{info['image_hw'][1]}, dataset `{info['dataset']}`.", "",
           "n/c = not computed (see the settings below). Arrows: which direction is better.",
           "The two references need no learning; a trained model is worth its cost only "
           "where it beats them.", ""]
    paired = metrics["paired"]
    out += [f"## Test pairs ({paired['pairs']} pairs, same person, true target photo)", "",
            metrics_table(paired), ""] + pckh_note(paired)
    if "maps" in paired:
        out += ["Predicted target maps against the true target parsing:", "",
                maps_table(paired["maps"]), ""]
    if "paired" in grids:
        out += [f"Worst, median and best test pairs by the model's SSIM "
                f"({info['grid_pairs']} each, top to bottom): source, target pose, predicted "
                f"map, generated image, ground truth.", "",
                f"![worst, median and best pairs]({grids['paired']})", ""]
    unpaired = metrics.get("unpaired")
    if unpaired:
        out += [f"## Unpaired truth ({unpaired['pairs']} pairs: test identities in poses "
                f"they never had, scored against the oracle's rendering)", "",
                "No published benchmark can score this case: its true image does not exist "
                "for real photographs. The synthetic oracle renders it.", "",
                metrics_table(unpaired), ""] + pckh_note(unpaired)
        if "maps" in unpaired:
            out += [maps_table(unpaired["maps"]), ""]
        if "unpaired" in grids:
            out += [f"![worst, median and best unpaired pairs]({grids['unpaired']})", ""]
    elif "unpaired_reason" in metrics:
        out += ["## Unpaired truth", "", f"Not computed: {metrics['unpaired_reason']}", ""]
    out += ["## Settings", "", "```json"]
    import json
    out += [json.dumps(metrics["settings"], indent=2, sort_keys=True), "```", ""]
    return "\n".join(out)
