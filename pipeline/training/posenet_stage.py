"""Stage library of `train_posenet`: training images and keypoints -> the pose detector (SPEC 5).

Reads images.h5 and poses.h5 (training split for training, test split for evaluation). Writes
(rank 0 only):
- ``models/posenet.safetensors``: the detector's weights + metadata (``network``, ``arch``
  JSON, ``params`` JSON of the result-shaping params), rebuildable with
  :func:`pipeline.training.checkpoint.load_model_file`. The DVC output; the appearance
  network's pose loss and the PCKh of generated images use it, frozen.
- ``eval/posenet/``: DVCLive metrics.json, loss curve plots/metrics/train/loss_heatmap.tsv and
  samples/*.png grids (image with the true skeleton, with the detected skeleton, and the
  detector's heatmaps). metrics.json holds PCKh@0.5 (:mod:`pipeline.metrics.pckh`) on the
  SAME held-out test-split images, against poses.h5 at the stored frame, of:
  ``posenet`` (keypoints decoded at the network's input size with ``posenet.peak_threshold``,
  scaled back to the stored frame) and ``mediapipe`` (the project's offline detector,
  :class:`pipeline.pose.mediapipe_detector.MediaPipeDetector`, on the stored images with
  ``pose.min_visibility``; ``{"computed": false, "reason": ...}`` when MediaPipe is not
  installed, never a 0). ``train`` holds the detector's PCKh on its own training images.
- ``data/cache/train_posenet/<digest>/``: the checkpoint and the grids of a run in progress
  (deleted when the run finished); ``<digest>`` covers the result-shaping params, the input
  files and the training code.

Runs in one process or under ``torchrun --nproc_per_node N`` (DDP); ``posenet.batch_size`` is
the global batch. On CPU the run uses deterministic kernels and ``posenet.threads`` threads:
bit-identical outputs for the same params, inputs, torch build and thread count, resumed or not.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Subset

from pipeline.artifacts import Paths
from pipeline.config import Params, PosenetParams, section_dict
from pipeline.datasets.images import PoseImageDataset
from pipeline.datasets.pairs import DatasetError
from pipeline.geometry import scale_keypoints
from pipeline.metrics.pckh import pckh, per_joint_by_name
from pipeline.models.posenet import heatmaps_to_keypoints
from pipeline.models.blocks import ArchitectureError
from pipeline.torch_utils.distributed import DistInfo, barrier
from pipeline.torch_utils.misc import ResumableSampler, derive_seed, seed_everything
from pipeline.training.checkpoint import CheckpointError, save_model_file
from pipeline.training.logging import LossHistory, publish_eval
from pipeline.training.loop import LoopConfig, LoopResult, TrainingError, train
from pipeline.training.posenet import PosenetScheme, arch_of
from pipeline.training.runner import (build_loader, remove_work_dir, run_digest, summary_base,
                                      training_process, work_dir)
from pipeline.visualize import draw_skeleton, hstack_panels, save_png, titled, vstack_panels

#: Name of the stage (cache folder, model and eval names).
STAGE = "train_posenet"
#: Artifacts the stage reads (DVC deps).
INPUTS = ("images", "poses")
#: Errors caused by the user's inputs or settings: the stage script prints them as one line.
USER_ERRORS = (TrainingError, CheckpointError, DatasetError, ArchitectureError)
#: Images per inference batch of the evaluation.
EVAL_BATCH = 16


def model_path(paths: Paths) -> Path:
    """models/posenet.safetensors."""
    return paths.models / "posenet.safetensors"


def eval_dir(paths: Paths) -> Path:
    """eval/posenet/."""
    return paths.eval / "posenet"


def posenet_digest(params: PosenetParams, paths: Paths) -> str:
    """Identity of a run: the result-shaping params, the input artifacts and the code."""
    return run_digest({"posenet": section_dict(params)},
                      [paths.artifact(kind) for kind in INPUTS])


def run(params: Params, paths: Paths, progress: bool = True,
        stop_after: int | None = None) -> dict:
    """Train (or resume) the pose detector, evaluate it and write its outputs; returns the
    summary.

    stop_after: stop after this many iterations as if killed (tests, benchmarks): the
    checkpoint stays and nothing else is written; the summary then has ``finished: False``.
    """
    pp = params.posenet
    arch_of(pp)                                     # resolution errors before any work
    with training_process(pp.device, pp.threads) as dist:
        return _run(params, paths, progress, stop_after, dist)


@dataclass
class Training:
    """Everything a pose-detector training run is made of (shared by the stage and a bench)."""

    dataset: PoseImageDataset
    sampler: ResumableSampler
    loader: DataLoader
    scheme: PosenetScheme


def build_training(pp: PosenetParams, dist: DistInfo, paths: Paths) -> Training:
    """Dataset of the training split, resumable sampler, DataLoader and scheme; seeded:
    identical initial weights on every rank, then per-rank RNG streams."""
    dataset = PoseImageDataset(paths.prepared, (pp.height, pp.width), "train", flip=pp.flip,
                               seed=pp.seed)
    sampler, loader = build_loader(dataset, pp, dist, "posenet", what="training images")
    torch.manual_seed(derive_seed(pp.seed, 0x9E))   # same initial weights on every rank
    scheme = PosenetScheme(pp, dist)
    seed_everything(pp.seed, dist.rank)
    return Training(dataset, sampler, loader, scheme)


def _run(params: Params, paths: Paths, progress: bool, stop_after: int | None,
         dist: DistInfo) -> dict:
    pp = params.posenet
    t0 = time.perf_counter()
    tr = build_training(pp, dist, paths)
    digest = posenet_digest(pp, paths)
    wdir = work_dir(paths, STAGE, digest)
    samples = _Samples(tr.scheme, paths, pp, wdir / "samples")
    cfg = LoopConfig(iterations=pp.iterations, log_every=pp.log_every,
                     sample_every=pp.sample_every, checkpoint_every=pp.checkpoint_every,
                     checkpoint=wdir / "checkpoint.pt", digest=digest, progress=progress,
                     stop_after=stop_after, desc=STAGE,
                     hint=f"lower posenet.batch_size (now {pp.batch_size}) or "
                          f"posenet.height x width (now {pp.height} x {pp.width}), or use "
                          f"more processes")
    result = train(tr.scheme, tr.loader, tr.sampler, cfg, on_sample=samples,
                   history=LossHistory())
    t1 = time.perf_counter()
    summary = summary_base(STAGE, dist, len(tr.dataset), result)
    summary["training_items_without_keypoints"] = tr.dataset.left_out
    if not result.finished:
        return summary
    if dist.is_main:
        summary.update(_finish(params, paths, tr.scheme, samples, result, wdir))
    barrier()
    summary["seconds"] = {"train": round(t1 - t0, 2), "total": round(time.perf_counter() - t0, 2)}
    return summary


# --------------------------------------------------------------------------- evaluation
def detect_keypoints(scheme: PosenetScheme, dataset: PoseImageDataset, threshold: float
                     ) -> np.ndarray:
    """(n, 18, 2) float32 keypoints the detector finds in every item of ``dataset`` (no
    flips), decoded at the input size and scaled to the stored frame; -1 = missing."""
    out = []
    loader = DataLoader(dataset, batch_size=EVAL_BATCH, shuffle=False, num_workers=0)
    for batch in loader:
        kp = heatmaps_to_keypoints(scheme.predict(batch), threshold).cpu().numpy()
        out.append(scale_keypoints(kp, dataset.hw, dataset.frame_hw))
    return np.concatenate(out).astype(np.float32)


def mediapipe_keypoints(dataset: PoseImageDataset, min_visibility: float) -> np.ndarray:
    """(n, 18, 2) float32 keypoints of the project's MediaPipe backend on the stored images of
    ``dataset``'s rows (stored frame, -1 = missing). ImportError when MediaPipe is missing."""
    from pipeline.pose.mediapipe_detector import MediaPipeDetector

    images = dataset.images["images"]
    with MediaPipeDetector(min_visibility) as det:
        return np.stack([det.detect(images[int(r)]).keypoints for r in dataset.rows])


def _scores(pred: np.ndarray, true: np.ndarray) -> dict:
    res = pckh(pred, true)
    res["per_joint"] = per_joint_by_name(res)
    return res


def evaluate(scheme: PosenetScheme, params: Params, paths: Paths) -> dict:
    """metrics.json's measurements: PCKh@0.5 of the detector and of MediaPipe on the same
    test-split images, and of the detector on its training images (see the module docstring).
    """
    pp = params.posenet
    hw = (pp.height, pp.width)
    test = PoseImageDataset(paths.prepared, hw, "test")
    true = test.keypoints[test.rows]
    scores: dict[str, Any] = {"posenet": _scores(detect_keypoints(scheme, test,
                                                                  pp.peak_threshold), true)}
    try:
        scores["mediapipe"] = _scores(mediapipe_keypoints(test, params.pose.min_visibility),
                                      true)
    except ImportError as err:
        scores["mediapipe"] = {"computed": False, "reason": str(err).splitlines()[0]}
    train_ds = PoseImageDataset(paths.prepared, hw, "train")
    train_scores = _scores(detect_keypoints(scheme, train_ds, pp.peak_threshold),
                           train_ds.keypoints[train_ds.rows])
    return {"test": scores, "images": len(test),
            "test_images_without_keypoints": test.left_out,
            "train": {"posenet": train_scores, "images": len(train_ds)}}


def _finish(params: Params, paths: Paths, scheme: PosenetScheme, samples: "_Samples",
            result: LoopResult, wdir: Path) -> dict:
    """Rank 0 after the last step: model file, metrics, published eval folder."""
    pp = params.posenet
    save_model_file(model_path(paths), "posenet", scheme.posenet, scheme.arch.to_dict(),
                    extra={"params": json.dumps(section_dict(pp), sort_keys=True),
                           "stage": STAGE})
    metrics = evaluate(scheme, params, paths)
    publish_eval(eval_dir(paths), result.history, metrics, samples=samples.folder)
    remove_work_dir(wdir)
    short = {k: (v.get("pckh") if v.get("computed", True) else None)
             for k, v in metrics["test"].items()}
    return {"model": str(model_path(paths)), "test_images": metrics["images"],
            "test_pckh": short, "mediapipe_reason": metrics["test"]["mediapipe"].get("reason"),
            "train_pckh": metrics["train"]["posenet"]["pckh"]}


# --------------------------------------------------------------------------- sample grids
def heatmap_panel(heatmaps: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """(18, h, w) heatmaps -> (H, W, 3) uint8 picture of their maximum over the keypoints
    (clipped to [0, 1], JET colours), resized to ``hw`` by nearest neighbour."""
    peak = np.clip(np.asarray(heatmaps, np.float32).max(0), 0.0, 1.0)
    img = cv2.applyColorMap((peak * 255).astype(np.uint8), cv2.COLORMAP_JET)
    img = cv2.resize(img, (hw[1], hw[0]), interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


class _Samples:
    """Writes sample grids of fixed training and test images (rank 0) into ``folder``: per
    image, the stored image with the true skeleton, with the detected skeleton, and the
    detector's heatmaps (maximum over the 18 channels)."""

    def __init__(self, scheme: PosenetScheme, paths: Paths, pp: PosenetParams,
                 folder: Path) -> None:
        self.scheme, self.paths, self.pp, self.folder = scheme, paths, pp, folder
        self._fixed: dict[str, tuple[PoseImageDataset, dict[str, torch.Tensor]]] | None = None

    def _batches(self) -> dict[str, tuple[PoseImageDataset, dict[str, torch.Tensor]]]:
        if self._fixed is None:
            self._fixed = {}
            for split in ("train", "test"):
                try:
                    ds = PoseImageDataset(self.paths.prepared, (self.pp.height, self.pp.width),
                                          split)
                except DatasetError:
                    continue
                n = min(self.pp.sample_count, len(ds))
                batch = next(iter(DataLoader(Subset(ds, range(n)), batch_size=n)))
                self._fixed[split] = (ds, batch)
        return self._fixed

    def __call__(self, iteration: int) -> None:
        for split, (ds, batch) in self._batches().items():
            heat = self.scheme.predict(batch)
            kp = heatmaps_to_keypoints(heat, self.pp.peak_threshold).cpu().numpy()
            kp = scale_keypoints(kp, ds.hw, ds.frame_hw)
            heat = heat.cpu().numpy()
            rows = []
            for i, row in enumerate(batch["index"].tolist()):
                image = ds.images["images"][int(row)]
                panels = [("true", draw_skeleton(image, ds.keypoints[int(row)])),
                          ("detected", draw_skeleton(image, kp[i])),
                          ("heatmaps (max)", heatmap_panel(heat[i], ds.frame_hw))]
                rows.append(hstack_panels([titled(p, t) for t, p in panels]))
            grid = titled(vstack_panels(rows), f"{split} images, iteration {iteration}", bar=20)
            save_png(self.folder / f"{split}_{iteration:06d}.png", grid)


def summary_text(summary: dict) -> str:
    """Console lines of the stage."""
    if not summary.get("finished"):
        return (f"{STAGE}: stopped at iteration {summary['iterations']} (checkpoint kept; "
                f"rerun to resume)")
    lines = [f"{STAGE}: {summary['iterations']} iterations on {summary['training_items']} "
             f"training images ({summary['device']}, {summary['processes']} process(es), "
             f"{summary['iterations_per_second']} it/s, data wait "
             f"{100 * summary['data_wait_share']:.1f}%)"]
    if summary.get("training_items_without_keypoints"):
        lines.append(f"  left out {summary['training_items_without_keypoints']} training "
                     f"image(s) without a single keypoint")
    if "test_pckh" in summary:
        t = summary["test_pckh"]
        mp = t.get("mediapipe")
        mp_text = (f"{mp:.4f}" if mp is not None else
                   f"not computed ({summary.get('mediapipe_reason') or 'nothing counted'})")
        pn = t.get("posenet")
        lines.append(f"  PCKh@0.5 on {summary['test_images']} test images: posenet "
                     f"{'n/a' if pn is None else f'{pn:.4f}'}, mediapipe {mp_text}")
        tp = summary.get("train_pckh")
        lines.append(f"  PCKh@0.5 of posenet on its training images: "
                     f"{'n/a' if tp is None else f'{tp:.4f}'}")
    return "\n".join(lines)
