"""SSIM and mask-SSIM of uint8 RGB images (docs/method.md §6).

The settings are scikit-image's ``structural_similarity`` with the field's usual choices
(docs/method.md §6; peers differ in padding, sigma and window, so :data:`SSIM_SETTINGS` is written next to
every number): an 11x11 Gaussian window of sigma 1.5 (scikit-image derives the window from
sigma with ``truncate=3.5``), population covariances, ``data_range=255``, channels scored
separately and averaged (``channel_axis=-1``), the local means filtered with ``mode="reflect"``
at the borders, and the mean of the SSIM map taken after scikit-image crops
``(win_size - 1) // 2 = 5`` px off every border.

mask-SSIM [docs/method.md §6, from PG2]: both images are multiplied by the target pose mask M_Pt first,
then scored as above over the whole frame (so the zeroed background counts as a perfect
match, which is how the field reports it).
"""
from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

#: The settings of every SSIM number the pipeline writes (docs/method.md §6) [field practice, PG2 /
#: Deformable GAN evaluation scripts through scikit-image].
SSIM_SETTINGS: dict = {
    "function": "skimage.metrics.structural_similarity",
    "gaussian_weights": True,
    "sigma": 1.5,
    "use_sample_covariance": False,
    "data_range": 255,
    "channel_axis": -1,
    "input": "uint8 RGB (H, W, 3)",
    "mask_ssim": "both images multiplied by the target pose mask M_Pt, then SSIM",
}

_KWARGS = {k: SSIM_SETTINGS[k] for k in ("gaussian_weights", "sigma", "use_sample_covariance",
                                         "data_range", "channel_axis")}


def _check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    for name, x in (("a", a), ("b", b)):
        if x.ndim != 3 or x.shape[2] != 3 or x.dtype != np.uint8:
            raise ValueError(f"SSIM: image {name} must be (H, W, 3) uint8, got "
                             f"{x.shape} {x.dtype}")
    if a.shape != b.shape:
        raise ValueError(f"SSIM: images differ in shape, {a.shape} and {b.shape}")
    if min(a.shape[:2]) < 11:
        raise ValueError(f"SSIM: images of {a.shape[0]}x{a.shape[1]} are smaller than the "
                         f"11x11 window")
    return a, b


def check_mask(mask: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """A pose mask ``(H, W)`` of 0/1 values (bool, integer or float) as uint8 {0, 1}."""
    m = np.asarray(mask)
    if m.shape != tuple(hw):
        raise ValueError(f"mask must be {tuple(hw)}, got {m.shape}")
    if m.size and not np.isin(m, (0, 1)).all():
        raise ValueError("mask values must be 0 or 1")
    return m.astype(np.uint8)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two ``(H, W, 3)`` uint8 RGB images with :data:`SSIM_SETTINGS`; 1.0 when equal."""
    a, b = _check_pair(a, b)
    return float(structural_similarity(a, b, **_KWARGS))


def mask_ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """SSIM of ``a * mask`` and ``b * mask`` (docs/method.md §6). mask: ``(H, W)`` 0/1 (the target pose
    mask M_Pt at the images' resolution)."""
    a, b = _check_pair(a, b)
    m = check_mask(mask, a.shape[:2])[..., None]
    return float(structural_similarity(a * m, b * m, **_KWARGS))
