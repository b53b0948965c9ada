"""Accuracy and speed of the weight-free coarse parser against the synthetic ground truth.

    .venv/bin/python bench/coarse_parser.py [--identities 20] [--poses 4] [--size 256]

Generates the synthetic people (exact ground-truth parsing, ground-truth keypoints), runs
MediaPipe once per image for its person segmentation, then parses every image with
:func:`pipeline.parsing.coarse.coarse_parse` under five person masks:

(a) ``mediapipe``: :func:`pipeline.parsing.person_mask.person_mask` (MediaPipe's segmentation;
    GrabCut-refined geometric silhouette where it finds nobody), i.e. what ``CoarseParser``
    does;
(b) ``gt silhouette``: the ground-truth person mask (labels != 0), an upper bound that
    isolates the error of the geometry and colour rules;
(c) ``grabcut only``: the GrabCut-refined geometric silhouette for every image (no
    detector: the fallback's quality);
(d) ``geometry only``: the raw geometric silhouette for every image;
(e) ``no hips, gt sil``: the ground-truth person mask with both hip points removed from the
    keypoints (portrait-like poses: the parser builds a virtual torso from the shoulders).

Metrics, over the whole set: IoU of each of the 9 person labels (intersection and union
summed over all images), mIoU = their mean, pixel accuracy over all pixels and over the
ground-truth person pixels, IoU of the person mask, and ms per image of ``coarse_parse``
(excluding the person mask: the detector and GrabCut are timed separately). One process,
OpenCV on one thread. Keypoints are the ground truth's (hidden points missing).
"""
from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

import cv2

from pipeline.config.data import SyntheticParams
from pipeline.labels import LABEL_NAMES, NUM_LABELS
from pipeline.parsing.coarse import coarse_parse_with_info
from pipeline.parsing.person_mask import geometric_silhouette, person_mask, refine_silhouette
from pipeline.synthetic.dataset import generate


def confusion(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(NUM_LABELS, NUM_LABELS) int64 counts, rows = ground truth, columns = prediction."""
    idx = gt.astype(np.int64).ravel() * NUM_LABELS + pred.astype(np.int64).ravel()
    return np.bincount(idx, minlength=NUM_LABELS ** 2).reshape(NUM_LABELS, NUM_LABELS)


def scores(conf: np.ndarray) -> dict[str, float | np.ndarray]:
    """Per-label IoU (10,), mIoU over labels 1..9, pixel and person-pixel accuracy."""
    inter = np.diag(conf).astype(np.float64)
    union = conf.sum(0) + conf.sum(1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, np.nan)
    person = conf[1:]
    return {"iou": iou, "miou": float(np.nanmean(iou[1:])),
            "acc": float(inter.sum() / conf.sum()),
            "person_acc": float(inter[1:].sum() / max(person.sum(), 1))}


def detect_all(images: np.ndarray) -> tuple[list[np.ndarray | None], float]:
    """MediaPipe segmentation per image (None when nobody was found) and ms per image."""
    from pipeline.pose.mediapipe_detector import MediaPipeDetector
    segs: list[np.ndarray | None] = []
    with MediaPipeDetector() as det:
        det.detect(images[0])                              # build the graph outside the clock
        t0 = time.perf_counter()
        for im in images:
            d = det.detect(im)
            segs.append(d.segmentation if d.found else None)
        ms = 1000 * (time.perf_counter() - t0) / len(images)
    return segs, ms


def run_setting(images: np.ndarray, keypoints: np.ndarray, gt: np.ndarray,
                masks: list[np.ndarray]) -> tuple[dict, float, Counter]:
    """Parse every image with the given masks: (scores + mask IoU, ms per image, counts)."""
    conf = np.zeros((NUM_LABELS, NUM_LABELS), np.int64)
    info: Counter = Counter()
    elapsed = 0.0
    m_inter = m_union = 0
    for im, kp, g, m in zip(images, keypoints, gt, masks):
        t0 = time.perf_counter()
        labels, how = coarse_parse_with_info(im, kp, m)
        elapsed += time.perf_counter() - t0
        conf += confusion(labels, g)
        info[f"skin:{how.skin_model}"] += 1
        info["virtual"] += int(how.virtual_torso)
        truth = "skirt" if (g == 5).any() else "pants" if (g == 4).any() else "none"
        info["lower ok"] += int(how.lower == truth)
        m_inter += int(np.count_nonzero(m & (g > 0)))
        m_union += int(np.count_nonzero(m | (g > 0)))
    result = scores(conf)
    result["mask_iou"] = m_inter / max(m_union, 1)
    return result, 1000 * elapsed / len(images), info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--identities", type=int, default=20)
    ap.add_argument("--poses", type=int, default=4)
    ap.add_argument("--size", type=int, default=256, help="image height = width (px)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cv2.setNumThreads(1)

    real = REPO / SyntheticParams().real_poses                   # half the poses are real rows
    ds = generate(SyntheticParams(identities=args.identities, poses_per_identity=args.poses,
                                  seed=args.seed, real_poses=str(real)), args.size, args.size)
    n, h, w = ds.labels.shape
    segs, det_ms = detect_all(ds.images)
    mp_masks, sources = [], Counter()
    for seg, kp, im in zip(segs, ds.keypoints, ds.images):
        m, src = person_mask(seg, kp, h, w, image=im)
        mp_masks.append(m)
        sources[src] += 1
    geometric = [geometric_silhouette(kp, h, w) for kp in ds.keypoints]
    t0 = time.perf_counter()
    grabcut = [refine_silhouette(im, kp, g) for im, kp, g in zip(ds.images, ds.keypoints,
                                                                  geometric)]
    grabcut_ms = 1000 * (time.perf_counter() - t0) / n
    settings = {
        "(a) mediapipe": mp_masks,
        "(b) gt silhouette": [g > 0 for g in ds.labels],
        "(c) grabcut only": grabcut,
        "(d) geometry only": geometric,
    }
    print(f"coarse parser vs synthetic ground truth: {n} images {h}x{w} "
          f"(seed {args.seed}, {args.identities} identities x {args.poses} poses), "
          f"ground-truth keypoints")
    print(f"MediaPipe: found a person in {sum(s is not None for s in segs)}/{n} images, "
          f"{det_ms:.1f} ms/image; mask source in (a): "
          + ", ".join(f"{k} {v}" for k, v in sorted(sources.items()))
          + f"; GrabCut refinement {grabcut_ms:.1f} ms/image")
    names = [LABEL_NAMES[i][:7] for i in range(1, NUM_LABELS)]
    head = (f"{'setting':<19}{'mIoU':>6}{'acc':>6}{'p.acc':>6}{'maskIoU':>8}"
            + "".join(f"{s:>8}" for s in names) + f"{'ms/img':>8}")
    print(head)
    no_hips = ds.keypoints.copy()
    no_hips[:, [8, 11]] = -1.0                                   # Rhip, Lhip
    runs = [(name, ds.keypoints, masks) for name, masks in settings.items()]
    runs.append(("(e) no hips, gt sil", no_hips, settings["(b) gt silhouette"]))
    for name, kps, masks in runs:
        res, ms, info = run_setting(ds.images, kps, ds.labels, masks)
        row = (f"{name:<19}{res['miou']:>6.3f}{res['acc']:>6.3f}{res['person_acc']:>6.3f}"
               f"{res['mask_iou']:>8.3f}"
               + "".join(f"{v:>8.3f}" for v in res["iou"][1:]) + f"{ms:>8.2f}")
        print(row)
        print(f"{'':<19}skin model: face {info['skin:face']}, hands {info['skin:hands']}, "
              f"generic {info['skin:generic']}, none {info['skin:none']}; lower garment "
              f"kind right in {info['lower ok']}/{n}; virtual torso {info['virtual']}")


if __name__ == "__main__":
    main()
