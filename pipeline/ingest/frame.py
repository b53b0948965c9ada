"""How an image of another size is brought into the stored ``data.height x data.width`` frame
(``data.fit``), and the same placement for everything geometric that belongs to it.

- ``exact``: the image must already be at the stored size (others are left out);
- ``stretch`` (also spelled ``data.resize: true``): resized to the stored size, each axis on
  its own, so another aspect ratio is stretched;
- ``pad``: scaled uniformly by ``min(H / h, W / w)`` to fit inside the frame (no stretch; scale
  1 for a 256x176 DeepFashion image in a 256x256 frame) and centred on a ``data.pad_value``
  background, ``(H - h') // 2`` rows above and ``(W - w') // 2`` columns left of it (40 + 40
  white columns for 176 -> 256, as Pose-Transfer's ``getMetrics_fashion.py`` pads).

A *box* ``(y0, x0, h, w)`` (int) is where the native image lies inside the stored frame;
``images.h5`` records it per image as ``/frame`` when ``data.fit`` is ``pad``. Keypoints
(:func:`place_keypoints`) and label maps (:func:`place_labels`) given in the image file's own
frame are placed by the same box, so they stay on the pixels they annotate.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from pipeline.geometry import scale_keypoints

if TYPE_CHECKING:
    from pipeline.artifacts.reader import Artifact

Box = tuple[int, int, int, int]

#: ``data.fit`` values.
FIT_MODES = ("exact", "stretch", "pad")
#: Name of the images.h5 dataset of the boxes (written with ``data.fit: pad``).
FRAME_DATASET = "frame"
FRAME_DESCRIPTION = ("where each native image lies in the stored frame after data.fit=pad "
                     "(uniform scale, centred): crop images[i, y0:y0+h, x0:x0+w] to undo the "
                     "padding")


def fit_box(native_hw: tuple[int, int], stored_hw: tuple[int, int], fit: str) -> Box:
    """The box ``(y0, x0, h, w)`` of an image of size ``native_hw`` in the stored frame.

    ``pad``: uniform scale ``min(H / h, W / w)``, sides rounded half up (at least 1 px),
    centred with the odd pixel of padding below / right; ``exact`` and ``stretch``: the whole
    frame.
    """
    big_h, big_w = (int(v) for v in stored_hw)
    if fit != "pad":
        return (0, 0, big_h, big_w)
    h, w = (int(v) for v in native_hw)
    scale = min(big_h / h, big_w / w)
    nh = min(big_h, max(1, int(h * scale + 0.5)))              # halves round up
    nw = min(big_w, max(1, int(w * scale + 0.5)))
    return ((big_h - nh) // 2, (big_w - nw) // 2, nh, nw)


def place_image(img: np.ndarray, stored_hw: tuple[int, int], box: Box,
                fill: int = 255) -> np.ndarray:
    """``img`` (h, w, C) resized to the box and pasted on a ``fill`` canvas of the stored size.

    Area interpolation when shrinking, bilinear when enlarging (as the stretch always did);
    no resampling when the box already has the image's size."""
    y0, x0, h, w = box
    if img.shape[:2] != (h, w):
        interp = cv2.INTER_AREA if img.shape[0] > h else cv2.INTER_LINEAR
        img = cv2.resize(img, (w, h), interpolation=interp)
    if (y0, x0, h, w) == (0, 0, *stored_hw):
        return img
    out = np.full((*stored_hw, *img.shape[2:]), fill, img.dtype)
    out[y0:y0 + h, x0:x0 + w] = img
    return out


def place_labels(labels: np.ndarray, stored_hw: tuple[int, int], box: Box,
                 background: int = 0) -> np.ndarray:
    """A label map (h, w) of the native image placed like :func:`place_image`: nearest-
    neighbour resize to the box, ``background`` (label 0) outside it."""
    y0, x0, h, w = box
    labels = np.asarray(labels)
    if labels.shape[:2] != (h, w):
        labels = cv2.resize(labels.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    if (y0, x0, h, w) == (0, 0, *stored_hw):
        return labels
    out = np.full(tuple(stored_hw), background, labels.dtype)
    out[y0:y0 + h, x0:x0 + w] = labels
    return out


def place_keypoints(kp: np.ndarray, native_hw: tuple[int, int], box: Box) -> np.ndarray:
    """Keypoints (..., 18, 2) (y, x) of the native image in the stored frame: scaled from
    ``native_hw`` to the box's size (:func:`pipeline.geometry.scale_keypoints`, pixel-centre
    convention), then shifted by ``(y0, x0)``. Missing points (-1) stay -1."""
    y0, x0, h, w = box
    out = scale_keypoints(kp, tuple(native_hw), (h, w))
    if y0 or x0:
        present = (out >= 0).all(axis=-1, keepdims=True)
        out = np.where(present, out + np.array([y0, x0], out.dtype), out).astype(out.dtype)
    return out


def outside_box(kp: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N, 18) bool: present points of ``kp`` (N, 18, 2) at or beyond the bottom / right edge
    of their image's box ``boxes`` (N, 4) (points are clipped at the top / left edge)."""
    boxes = np.asarray(boxes)
    bottom = (boxes[:, 0] + boxes[:, 2])[:, None]
    right = (boxes[:, 1] + boxes[:, 3])[:, None]
    return (kp[..., 0] >= bottom) | (kp[..., 1] >= right)


def stored_frames(images: Artifact) -> np.ndarray:
    """(N, 4) int boxes of every row of images.h5: ``/frame`` where ingest wrote it, else the
    whole stored frame for every image."""
    if FRAME_DATASET in images:
        return np.asarray(images[FRAME_DATASET][:], np.int64)
    n, h, w = images["images"].shape[:3]
    return np.tile(np.array([0, 0, h, w], np.int64), (n, 1))


def effective_fit(resize: bool, fit: str) -> str:
    """``data.fit`` with the older ``data.resize: true`` read as ``stretch`` (the two never
    contradict: the schema refuses ``resize: true`` with ``fit: pad``)."""
    return "stretch" if resize and fit == "exact" else fit
