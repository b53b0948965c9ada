"""L1 distance of uint8 images: the mean absolute difference in [0, 1] units."""
from __future__ import annotations

import numpy as np


def l1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over every pixel and channel of ``|a - b| / 255`` for two uint8 arrays of equal
    shape (e.g. ``(H, W, 3)``); 0.0 for equal images, 1.0 for black against white."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        raise ValueError(f"L1: images must be uint8, got {a.dtype} and {b.dtype}")
    if a.shape != b.shape:
        raise ValueError(f"L1: images differ in shape, {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError("L1: empty images")
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean() / 255.0)
