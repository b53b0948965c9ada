"""The `evaluate` stage: the trained models generate the test pairs, which are saved as PNG and
scored beside the two references that need no learning; on synthetic data the oracle's
unpaired truth is scored too; a report, plots and metrics are written (docs/method.md §6).

Outputs (every file written beside its place and renamed into it):
    eval/images/<from>___<to>.png   generated test pairs (DVC-cached output)
    eval/metrics.json               {"paired", "unpaired", "info", "settings"} (dvc metrics);
                                    PCKh: ``pckh`` of MediaPipe (the main column,
                                    pipeline/evaluation/independent_pckh.py) and
                                    ``pckh_posenet`` of the trained detector
    eval/report.md                  tables, settings and grids (docs/metrics.md)
    eval/report/paired.png          worst / median / best test pairs by SSIM
    eval/report/unpaired.png        the same for the unpaired set (synthetic data)
    eval/plots/pairs.json           per-pair SSIM, mask-SSIM, L1, LPIPS of the model
    eval/plots/scores.json          the paired scores per system (dvc plots diff across
                                    experiments)
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate
from tqdm import tqdm

from pipeline.artifacts.atomic import atomic_dir, atomic_write_json, atomic_write_text
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.config.base import section_dict
from pipeline.datasets.appearance import AppearancePairs
from pipeline.datasets.pairs import DatasetError, TestPairDataset
from pipeline.evaluation.frame import CroppedScores, native_frame
from pipeline.evaluation.grids import image_rows, sample_grid
from pipeline.evaluation.independent_pckh import IndependentDetector, PckhImageSystems
from pipeline.evaluation.metric_set import build_metrics, shared_inception
from pipeline.evaluation.report import pick_rows, report_markdown
from pipeline.evaluation.scoring import ImageSystems, MapSystems, batches
from pipeline.evaluation.unpaired import UnpairedDataset, draw_unpaired
from pipeline.inference.model_files import ModelFileError
from pipeline.inference.pose_detector import PoseDetector
from pipeline.inference.trained import TrainedModels
from pipeline.ingest.frame import Box
from pipeline.metrics.images import SSIM_SETTINGS
from pipeline.metrics.pckh import PckhScores
from pipeline.torch_utils.device import resolve_device
from pipeline.visualize import save_png

if TYPE_CHECKING:
    from pipeline.config.evaluate import EvaluateParams
    from pipeline.config.params import Params

STAGE = "evaluate"
#: Parsing backends whose label maps are the truth (synthetic renderer, given label maps).
TRUE_PARSING_BACKENDS = ("synthetic", "labels")
#: The stage's errors that are the user's to fix (one line, no traceback).
USER_ERRORS = (ModelFileError, DatasetError)


def _stem(name: str) -> str:
    return Path(name).stem


def pair_file_name(src_name: str, tgt_name: str) -> str:
    """``<from>___<to>.png`` from two image names (Pose-Transfer's naming of test outputs)."""
    return f"{_stem(src_name)}___{_stem(tgt_name)}.png"


def _datasets(params: Params, paths: Paths, models: TrainedModels,
              pairs: np.ndarray | None = None) -> AppearancePairs:
    """The test pairs (``pairs`` None) or the unpaired oracle pairs, at the models' image
    resolution, with the G_S-resolution twin under ``sem`` when the scheme has G_S."""
    hw, map_hw = models.image_hw, models.map_hw
    if pairs is None:
        return AppearancePairs(TestPairDataset(paths.prepared, hw, hw,
                                               sigma=models.image_sigma),
                               TestPairDataset(paths.prepared, map_hw, sigma=models.map_sigma)
                               if map_hw else None)
    root = paths.dataset(params.data.root)
    return AppearancePairs(UnpairedDataset(paths.prepared, root, pairs, hw, hw,
                                           sigma=models.image_sigma),
                           UnpairedDataset(paths.prepared, root, pairs, map_hw,
                                           sigma=models.map_sigma) if map_hw else None)


def _grid(models: TrainedModels, dataset: AppearancePairs, values: list[float], count: int,
          title: str) -> np.ndarray:
    rows = []
    picked = pick_rows(values, count)
    for group in ("worst", "median", "best"):
        idx = picked[group]
        if not idx:
            continue
        batch = default_collate([dataset[i] for i in idx])
        out = models.render(batch)
        labels = out.tgt_maps.argmax(1) if out.tgt_maps is not None else None
        rows += image_rows(batch, out.fake_t, pred_labels=labels)
    return sample_grid(rows, title=title)


def run(params: Params, paths: Paths, progress: bool = True) -> dict[str, Any]:
    """Generate, score and report (module docstring); returns eval/metrics.json's content."""
    ev = params.evaluate
    torch.set_num_threads(ev.threads)
    device = resolve_device(ev.device)
    models = TrainedModels.load(paths, device, ev.amp)
    detector = PoseDetector.load(paths.posenet_model, params.posenet.peak_threshold, device)
    # the main PCKh: MediaPipe on enlarged images, one instance for both sets (docs/metrics.md)
    independent = IndependentDetector(ev.pckh_size)
    true_parsing = params.parse.backend in TRUE_PARSING_BACKENDS
    names = Artifact(paths.artifact("images")).names
    root = paths.eval
    root.mkdir(parents=True, exist_ok=True)

    # ---- the test pairs: generated PNGs and scores
    paired_ds = _datasets(params, paths, models)
    pairs = paired_ds.images.pairs
    # padded images (data.fit: pad) are scored in their native frame (evaluation/frame.py)
    frame = native_frame(Artifact(paths.artifact("images")), pairs[:, 1], models.image_hw)
    with atomic_dir(root / "images") as tmp_images:
        def save(index: np.ndarray, fakes: np.ndarray) -> None:
            for i, img in zip(index, fakes):
                s, t = pairs[int(i)]
                save_png(tmp_images / pair_file_name(names[s], names[t]), img)

        paired = score_pairs(models, paired_ds, ev, str(device), detector, true_parsing,
                             on_batch=save, progress=progress, desc="test pairs",
                             independent=independent, crop=frame.box if frame else None)

    # ---- the unpaired oracle truth (synthetic data only)
    unpaired: ImageSystems | None = None
    unpaired_ds = None
    reason = ""
    if params.data.source != "synthetic":
        reason = f"data.source = {params.data.source!r}: no oracle renders the unpaired truth"
    elif ev.unpaired_pairs == 0:
        reason = "evaluate.unpaired_pairs = 0"
    else:
        art = Artifact(paths.artifact("images"))
        draw = draw_unpaired(art["person_id"][:], art["split"][:], ev.unpaired_pairs, ev.seed)
        if len(draw) == 0:
            reason = "no test image has a person with another person's image to take a pose from"
        else:
            unpaired_ds = _datasets(params, paths, models, draw)
            unpaired = score_pairs(models, unpaired_ds, ev, str(device), detector, True,
                                   progress=progress, desc="unpaired pairs",
                                   independent=independent)
    independent.close()

    # ---- report, grids, plots, metrics
    grids: dict[str, str] = {}
    sets = [("paired", paired, paired_ds)]
    if unpaired is not None:
        sets.append(("unpaired", unpaired, unpaired_ds))
    with atomic_dir(root / "report") as report_tmp:
        for key, scores, ds in sets:
            grid = _grid(models, ds, scores.per_pair()["ssim"], ev.grid_pairs,
                         f"{key} pairs ({models.scheme}): worst, median, best by SSIM")
            save_png(report_tmp / f"{key}.png", grid)
            grids[key] = f"report/{key}.png"

    metrics: dict[str, Any] = {"paired": paired.result()}
    if unpaired is not None:
        metrics["unpaired"] = unpaired.result()
    else:
        metrics["unpaired_reason"] = reason
    metrics["info"] = {"scheme": models.scheme, "image_hw": list(models.image_hw),
                       "dataset": params.data.source, "grid_pairs": ev.grid_pairs,
                       "true_parsing": true_parsing}
    metrics["settings"] = _settings(params, paired, independent)
    if frame is not None:
        metrics["settings"]["frame"] = frame.label
    _write_plots(root / "plots", paired, names, pairs)
    atomic_write_json(root / "metrics.json", metrics)
    atomic_write_text(root / "report.md", report_markdown(metrics, grids))
    return metrics


def score_pairs(models: TrainedModels, dataset: Dataset, ev: EvaluateParams, device: str,
                detector: PoseDetector | None, true_parsing: bool, fid: bool = True,
                on_batch: Callable[[np.ndarray, np.ndarray], None] | None = None,
                progress: bool = True, desc: str = "pairs",
                independent: IndependentDetector | None = None,
                crop: Box | None = None) -> ImageSystems:
    """Generate every pair of ``dataset`` (items with ``tgt_image``, at the image resolution
    as map resolution, and ``sem`` for the schemes with G_S) and score all systems with every
    metric of the registry.

    true_parsing: the target maps of the data are true (synthetic or given label maps), so
    the predicted maps are scored; fid: compute FID (off for sets that are too small);
    independent: the detector of the main ``pckh`` (the trained ``detector``'s becomes
    ``pckh_posenet``; :mod:`pipeline.evaluation.independent_pckh`); crop: the box (y0, x0,
    h, w) the image metrics see, PCKh excepted (:mod:`pipeline.evaluation.frame`)."""
    pckh = detector is not None
    maps = MapSystems() if true_parsing and models.semantic is not None else None
    inception = shared_inception(ev, device, fid)
    images = PckhImageSystems(lambda: CroppedScores(build_metrics(ev, device, fid, inception),
                                                    pckh=PckhScores() if pckh else None,
                                                    box=crop),
                              detector, maps, independent)
    bar = tqdm(total=len(dataset), desc=desc, unit="pair",  # type: ignore[arg-type]
               disable=not progress, leave=False)
    for index, batch in batches(dataset, ev.batch_size):
        out = models.render(batch)
        generated = images.update(batch, out.fake_t)
        if maps is not None and out.tgt_maps is not None:
            maps.update(batch, out.tgt_maps.argmax(1))
        if on_batch is not None:
            on_batch(index, generated["model"])
        bar.update(len(index))
    bar.close()
    return images


def _settings(params: Params, paired: ImageSystems,
              independent: IndependentDetector) -> dict[str, Any]:
    model = paired.systems["model"].result()
    return {"ssim": dict(SSIM_SETTINGS), **model["settings"],
            "pckh": independent.settings(),
            "pckh_posenet": {"alpha": 0.5,
                             "detector": "models/posenet.safetensors (train_posenet), the "
                                         "detector of the appearance training's pose loss",
                             "against": "the wanted pose P_t (true keypoints of the target)"},
            "evaluate": section_dict(params.evaluate)}


def _write_plots(folder: Path, paired: ImageSystems, names: list[str], pairs: np.ndarray) -> None:
    per = paired.per_pair()
    rows = [{"pair": i, "name": pair_file_name(names[s], names[t]),
             **{k: round(float(v[i]), 4) for k, v in per.items()}}
            for i, (s, t) in enumerate(pairs)]
    atomic_write_json(folder / "pairs.json", rows)
    scores = []
    result = paired.result()
    for system in paired.systems:
        r = result[system]
        scores.append({"system": system, **{k: r[k] for k in ("ssim", "mask_ssim", "l1",
                                                                "lpips", "pckh", "pckh_posenet")
                                            if isinstance(r.get(k), (int, float))}})
    atomic_write_json(folder / "scores.json", scores)


def summary_text(metrics: dict[str, Any]) -> str:
    """Lines for the console: the model and the references on each set."""
    lines = []
    for key in ("paired", "unpaired"):
        if key not in metrics:
            continue
        m = metrics[key]
        lines.append(f"evaluate: {key} ({m['pairs']} pairs)")
        for system in ("model", "source", "part_warp"):
            r = m[system]
            extra = "".join(f" {k} {r[k]:.4f}" for k in ("lpips", "pckh", "pckh_posenet")
                            if isinstance(r.get(k), float))
            if isinstance(r.get("pckh"), dict):
                extra += f" pckh not computed ({r['pckh'].get('reason')})"
            elif "pckh_missed" in r:
                extra += f" (MediaPipe missed {r['pckh_missed']}/{r['pckh_images']})"
            lines.append(f"  {system:10s} SSIM {r['ssim']:.4f} mask-SSIM {r['mask_ssim']:.4f}"
                         f" L1 {r['l1']:.4f}{extra}")
    lines.append("evaluate: eval/report.md, eval/metrics.json, eval/images/")
    return "\n".join(lines)
