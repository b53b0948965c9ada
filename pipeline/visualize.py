"""Pictures a person can check at a glance: skeletons, parsing colours, part masks, panels.

All functions take and return (H, W, 3) uint8 RGB images; nothing here imports torch.
"""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pipeline.labels import LABEL_COLORS, LABEL_NAMES

#: Skeleton limbs drawn between keypoints (0-based, OpenPose order): the 17 OpenPose skeleton
#: limbs, a subset of PG2's 23 pose-mask limbs (pipeline.geometry.POSE_MASK_LIMBS) without
#: its extra neck-ear, hip-hip, shoulder-hip and ear-ear links [code, PG2 getPoseMask].
SKELETON_LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
                  (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
#: One colour per side: person's right = warm, left = cool, centre = white [choice].
_RIGHT = {2, 3, 4, 8, 9, 10, 15, 17}
_LEFT = {5, 6, 7, 11, 12, 13, 14, 16}

#: Distinct colours for the 10 body parts of docs/method.md §3 [choice].
PART_COLORS = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200],
                        [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230],
                        [210, 245, 60], [250, 190, 212]], dtype=np.uint8)


def _point_color(i: int) -> tuple[int, int, int]:
    if i in _RIGHT:
        return (255, 80, 40)
    if i in _LEFT:
        return (40, 140, 255)
    return (255, 255, 255)


def draw_skeleton(image: np.ndarray, keypoints: np.ndarray, radius: int | None = None
                  ) -> np.ndarray:
    """Draw an 18-point pose on a copy of ``image``.

    keypoints: (18, 2) (y, x) pixels, -1 = missing. Right side warm, left side cool.
    """
    out = np.ascontiguousarray(image.copy())
    h = out.shape[0]
    r = radius or max(1, h // 96)
    kp = np.asarray(keypoints, dtype=np.float64)
    present = (kp >= 0).all(axis=1)
    for a, b in SKELETON_LIMBS:
        if present[a] and present[b]:
            pa = (int(round(kp[a, 1])), int(round(kp[a, 0])))
            pb = (int(round(kp[b, 1])), int(round(kp[b, 0])))
            color = _point_color(b) if b in _RIGHT | _LEFT else _point_color(a)
            cv2.line(out, pa, pb, color, max(1, r // 2), cv2.LINE_AA)
    for i in np.flatnonzero(present):
        c = (int(round(kp[i, 1])), int(round(kp[i, 0])))
        cv2.circle(out, c, r, _point_color(int(i)), -1, cv2.LINE_AA)
        cv2.circle(out, c, r, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def colorize_labels(labels: np.ndarray) -> np.ndarray:
    """(H, W) labels 0..9 -> (H, W, 3) uint8 with the fixed per-label palette."""
    lab = np.asarray(labels)
    if lab.max(initial=0) >= len(LABEL_COLORS):
        raise ValueError(f"label value {int(lab.max())} outside 0..{len(LABEL_COLORS) - 1}")
    return LABEL_COLORS[lab]


def overlay_parts(image: np.ndarray, masks: np.ndarray, alpha: float = 0.45,
                  skip: Sequence[int] = (0,)) -> np.ndarray:
    """Blend 10 part masks (10, H, W) bool over ``image``; parts in ``skip`` are outlined only.

    The torso (part 0) mask is the whole image by definition (docs/method.md §3), so by default it is
    not filled.
    """
    out = image.astype(np.float32)
    for j in range(masks.shape[0]):
        m = masks[j].astype(bool)
        if not m.any():
            continue
        if j not in skip:
            out[m] = (1 - alpha) * out[m] + alpha * PART_COLORS[j]
    out = out.clip(0, 255).astype(np.uint8)
    for j in range(masks.shape[0]):
        if j in skip:
            continue
        contours, _ = cv2.findContours(masks[j].astype(np.uint8), cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, tuple(int(c) for c in PART_COLORS[j]), 1)
    return out


def overlay_mask(image: np.ndarray, mask: np.ndarray, color=(255, 255, 0), alpha: float = 0.5
                 ) -> np.ndarray:
    """Blend one boolean mask (H, W) over ``image``."""
    out = image.astype(np.float32)
    m = mask.astype(bool)
    out[m] = (1 - alpha) * out[m] + alpha * np.asarray(color, np.float32)
    return out.clip(0, 255).astype(np.uint8)


def legend(names: Sequence[str], colors: np.ndarray, height: int, width: int = 120
           ) -> np.ndarray:
    """A vertical legend panel: one coloured box and name per entry."""
    panel = np.full((height, width, 3), 255, np.uint8)
    step = max(10, min(22, height // max(1, len(names))))
    for i, (name, color) in enumerate(zip(names, colors)):
        y = 4 + i * step
        cv2.rectangle(panel, (4, y), (4 + step - 4, y + step - 4),
                      tuple(int(c) for c in color), -1)
        cv2.rectangle(panel, (4, y), (4 + step - 4, y + step - 4), (0, 0, 0), 1)
        cv2.putText(panel, name, (step + 4, y + step - 6), cv2.FONT_HERSHEY_SIMPLEX,
                    0.35, (0, 0, 0), 1, cv2.LINE_AA)
    return panel


def label_legend(height: int) -> np.ndarray:
    """Legend of the 10 semantic labels (docs/method.md §2)."""
    return legend(LABEL_NAMES, LABEL_COLORS, height)


def titled(image: np.ndarray, title: str, bar: int = 18) -> np.ndarray:
    """Put a white title bar above an image."""
    h, w = image.shape[:2]
    out = np.full((h + bar, w, 3), 255, np.uint8)
    out[bar:] = image
    scale = 0.4 if w >= 100 else 0.3
    cv2.putText(out, title[: max(4, w // 7)], (3, bar - 5), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (0, 0, 0), 1, cv2.LINE_AA)
    return out


def hstack_panels(panels: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Stack panels side by side (padded to the tallest), separated by white gaps."""
    h = max(p.shape[0] for p in panels)
    padded = []
    for p in panels:
        if p.shape[0] < h:
            p = np.concatenate([p, np.full((h - p.shape[0],) + p.shape[1:], 255, np.uint8)])
        padded.append(p)
        padded.append(np.full((h, gap, 3), 255, np.uint8))
    return np.concatenate(padded[:-1], axis=1)


def vstack_panels(rows: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Stack rows vertically (padded to the widest)."""
    w = max(r.shape[1] for r in rows)
    out = []
    for r in rows:
        if r.shape[1] < w:
            r = np.concatenate([r, np.full((r.shape[0], w - r.shape[1], 3), 255, np.uint8)], 1)
        out.append(r)
        out.append(np.full((gap, w, 3), 255, np.uint8))
    return np.concatenate(out[:-1], axis=0)


def save_png(path, image: np.ndarray) -> None:
    """Write an RGB image as PNG (atomically)."""
    from pipeline.artifacts.atomic import atomic_path

    ok, buf = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    with atomic_path(path, suffix=".png.tmp") as tmp:
        tmp.write_bytes(buf.tobytes())
