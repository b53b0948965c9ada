"""Sample grids of the semantic network: one row per pair, one panel per map (RGB uint8).

Panels (label maps in the fixed label colours of :data:`pipeline.labels.LABEL_COLORS`,
upscaled by nearest neighbour to at least :data:`MIN_PANEL` px high):
    source map S_Ps with P_s | target pose P*_t (or P_t) | predicted S~_Pt |
    f(S_Ps) part-warped source | pseudo target S*_Pt (training pairs) or true map (test pairs)
and a label legend on the right.
"""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pipeline.visualize import (colorize_labels, draw_skeleton, hstack_panels, label_legend,
                                titled, vstack_panels)

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


def sample_grid(rows: Sequence[np.ndarray], title: str = "") -> np.ndarray:
    """Stack rows of :func:`pair_row` and add the label legend."""
    grid = vstack_panels(list(rows))
    grid = hstack_panels([grid, label_legend(min(grid.shape[0], 240))])
    return titled(grid, title, bar=20) if title else grid
