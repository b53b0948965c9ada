"""Pictures of pairs: the training stages' sample grids and the evaluate stage's report grids.

Sample grids of the semantic network: one row per pair, one panel per map (RGB uint8).

Panels (label maps in the fixed label colours of :data:`pipeline.labels.LABEL_COLORS`,
upscaled by nearest neighbour to at least :data:`MIN_PANEL` px high):
    source map S_Ps with P_s | target pose P*_t (or P_t) | predicted S~_Pt |
    f(S_Ps) part-warped source | pseudo target S*_Pt (training pairs) or true map (test pairs)
and a label legend on the right.

Sample grids of the appearance network (:func:`image_pair_row`): source image I_Ps | target
pose P_t | predicted map S~_Pt (when the scheme has one) | generated I~_Pt | cycle
reconstruction I~_Ps | true target I_Pt (test pairs); images upscaled by nearest neighbour.
"""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from pipeline.geometry import scale_keypoints
from pipeline.metrics.images import to_uint8
from pipeline.visualize import (colorize_labels, draw_skeleton, hstack_panels, label_legend, titled,
                                vstack_panels)

#: Smallest panel height in pixels (maps are small; pictures must stay readable).
MIN_PANEL = 128


def _upscale(img: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return img
    return cv2.resize(img, (img.shape[1] * factor, img.shape[0] * factor),
                      interpolation=cv2.INTER_NEAREST)


def _scale_kp(kp: np.ndarray, factor: int) -> np.ndarray:
    """Map-pixel keypoints (y, x) -> upscaled panel pixels (pixel centres stay centres)."""
    out = np.asarray(kp, np.float32).copy()
    ok = (out >= 0).all(-1)
    out[ok] = (out[ok] + 0.5) * factor - 0.5
    return out


def pair_row(src_labels: np.ndarray, src_kp: np.ndarray, tgt_kp: np.ndarray,
             pred: np.ndarray, warped: np.ndarray, target: np.ndarray,
             target_title: str) -> np.ndarray:
    """One grid row. Maps: (H, W) int labels 0..9 at map resolution; keypoints (18, 2) (y, x)
    map pixels, -1 = missing. Returns (H', W', 3) uint8."""
    h = src_labels.shape[0]
    f = max(1, -(-MIN_PANEL // h))
    s_kp, t_kp = _scale_kp(src_kp, f), _scale_kp(tgt_kp, f)
    pose = draw_skeleton(np.zeros((h * f, src_labels.shape[1] * f, 3), np.uint8), t_kp)
    panels = [
        ("source S_Ps", draw_skeleton(_upscale(colorize_labels(src_labels), f), s_kp)),
        ("target pose", pose),
        ("predicted S~_Pt", _upscale(colorize_labels(pred), f)),
        ("f(S_Ps) warp", _upscale(colorize_labels(warped), f)),
        (target_title, _upscale(colorize_labels(target), f)),
    ]
    return hstack_panels([titled(p, t) for t, p in panels])


def _check_image(img: np.ndarray, hw: tuple[int, int], name: str) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.shape != (*hw, 3):
        raise ValueError(f"{name} must be {hw[0]}x{hw[1]}x3 uint8 like the source image, got "
                         f"{img.shape} {img.dtype}")
    return img


def image_pair_row(src_image: np.ndarray, tgt_kp: np.ndarray, kp_hw: tuple[int, int],
                   generated: np.ndarray, *, pred_labels: np.ndarray | None = None,
                   cycle: np.ndarray | None = None, target: np.ndarray | None = None,
                   target_title: str = "true I_Pt") -> np.ndarray:
    """One row of an appearance sample grid: source image I_Ps | target pose P_t (skeleton on
    black) | predicted map S~_Pt (label colours; left out when None) | generated I~_Pt |
    cycle reconstruction I~_Ps (left out when None) | ``target`` (left out when None).

    Images: (h, w, 3) uint8 RGB, all of the source image's size (e.g.
    :func:`pipeline.metrics.images.to_uint8`). tgt_kp: (18, 2) (y, x) pixels of a ``kp_hw``
    frame (the dataset's map frame), -1 = missing. pred_labels: (H, W) labels 0..9 at any
    resolution. Every panel is shown at the image size times ``ceil(MIN_PANEL / h)`` (nearest
    neighbour, maps stretched edge to edge). Returns (H', W', 3) uint8.
    """
    src = np.asarray(src_image)
    if src.ndim != 3 or src.shape[2] != 3 or src.dtype != np.uint8:
        raise ValueError(f"source image must be (h, w, 3) uint8, got {src.shape} {src.dtype}")
    hw = src.shape[:2]
    f = max(1, -(-MIN_PANEL // hw[0]))
    panel_hw = (hw[0] * f, hw[1] * f)
    kp = scale_keypoints(np.asarray(tgt_kp, np.float32), tuple(kp_hw), panel_hw)
    panels = [("source I_Ps", _upscale(src, f)),
              ("target pose P_t", draw_skeleton(np.zeros((*panel_hw, 3), np.uint8), kp))]
    if pred_labels is not None:
        panels.append(("predicted S~_Pt", cv2.resize(
            colorize_labels(np.asarray(pred_labels)), (panel_hw[1], panel_hw[0]),
            interpolation=cv2.INTER_NEAREST)))
    panels.append(("generated I~_Pt", _upscale(_check_image(generated, hw, "generated"), f)))
    if cycle is not None:
        panels.append(("cycle I~_Ps", _upscale(_check_image(cycle, hw, "cycle"), f)))
    if target is not None:
        panels.append((target_title, _upscale(_check_image(target, hw, "target"), f)))
    return hstack_panels([titled(p, t) for t, p in panels])


def sample_grid(rows: Sequence[np.ndarray], title: str = "") -> np.ndarray:
    """Stack rows of :func:`pair_row` and add the label legend."""
    grid = vstack_panels(list(rows))
    grid = hstack_panels([grid, label_legend(min(grid.shape[0], 240))])
    return titled(grid, title, bar=20) if title else grid


def image_rows(batch: dict[str, torch.Tensor], generated: torch.Tensor,
               cycle: torch.Tensor | None = None, pred_labels: torch.Tensor | None = None,
               count: int | None = None) -> list[np.ndarray]:
    """Rows of :func:`image_pair_row` for the first ``count`` items of
    a batch (all by default). generated, cycle: ``(B, 3, h, w)`` in [-1, 1]; pred_labels:
    ``(B, H, W)`` int labels (argmax of S~_Pt) or None; keypoints ``tgt_keypoints`` are in the
    frame of ``tgt_labels``; ``tgt_image`` (test pairs) becomes the last panel when present."""
    n = generated.shape[0] if count is None else min(int(count), generated.shape[0])
    kp_hw = tuple(batch["tgt_labels"].shape[-2:])
    src = to_uint8(batch["src_image"][:n])
    gen = to_uint8(generated[:n])
    cyc = to_uint8(cycle[:n]) if cycle is not None else None
    tgt = to_uint8(batch["tgt_image"][:n]) if "tgt_image" in batch else None
    kp = batch["tgt_keypoints"][:n].cpu().numpy()
    labels = pred_labels[:n].cpu().numpy() if pred_labels is not None else None
    return [image_pair_row(src[i], kp[i], kp_hw, gen[i],
                           pred_labels=None if labels is None else labels[i],
                           cycle=None if cyc is None else cyc[i],
                           target=None if tgt is None else tgt[i])
            for i in range(n)]
