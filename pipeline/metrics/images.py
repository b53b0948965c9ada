"""Image quality of generated images against true targets: SSIM, mask-SSIM and L1 per pair,
accumulated over batches (docs/method.md §6).

- :func:`to_uint8`: network images ``(B, 3, H, W)`` in [-1, 1] -> ``(B, H, W, 3)`` uint8, the
  inverse of :func:`pipeline.datasets.transforms.image_to_tensor`; every metric scores the
  uint8 images (what one would save as PNG), as the field's evaluation scripts do.
- :class:`ImageScores`: per-pair SSIM (:func:`pipeline.metrics.ssim.ssim`), mask-SSIM
  (:func:`pipeline.metrics.ssim.mask_ssim`, target pose mask) and L1
  (:func:`pipeline.metrics.l1.l1`, [0, 1] units), their means over pairs, and the per-pair
  values (for worst / median / best sample grids).
"""
from __future__ import annotations

import numpy as np
import torch

from pipeline.metrics.l1 import l1
from pipeline.metrics.ssim import SSIM_SETTINGS, check_mask, mask_ssim, ssim

__all__ = ["ImageScores", "SSIM_SETTINGS", "to_uint8"]


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """``(B, 3, H, W)`` float images in [-1, 1] -> ``(B, H, W, 3)`` uint8 RGB.

    ``u = floor((x + 1) * 127.5 + 0.5)`` computed in float64 (round half up), clipped to
    0..255, so values outside [-1, 1] saturate. It inverts
    :func:`pipeline.datasets.transforms.image_to_tensor` exactly on every uint8 value (its
    float32 ``u / 127.5 - 1`` scales back to within 1e-4 of ``u``, far from a half step).
    Non-finite values are an error (a diverged generator must not score as black or white).
    """
    if not isinstance(images, torch.Tensor):
        images = torch.as_tensor(images)
    if images.ndim != 4 or images.shape[1] != 3 or not images.is_floating_point():
        raise ValueError(f"images must be (B, 3, H, W) float, got {tuple(images.shape)} "
                         f"{images.dtype}")
    x = images.detach().to("cpu", torch.float64)
    if not torch.isfinite(x).all():
        raise ValueError("images hold NaN or infinite values")
    u = torch.floor((x + 1.0) * 127.5 + 0.5).clamp_(0, 255)
    return u.to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def _numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


class ImageScores:
    """Per-pair SSIM, mask-SSIM and L1 of uint8 images, accumulated over batches.

    >>> s = ImageScores(); s.update(to_uint8(fake), to_uint8(real), masks); s.result()["ssim"]

    The per-pair values stay in :attr:`ssim_values`, :attr:`mask_ssim_values` and
    :attr:`l1_values` (update order), e.g. to pick the worst, median and best pairs.
    """

    def __init__(self) -> None:
        self.ssim_values: list[float] = []
        self.mask_ssim_values: list[float] = []
        self.l1_values: list[float] = []

    def __len__(self) -> int:
        return len(self.ssim_values)

    def update(self, pred: torch.Tensor | np.ndarray, true: torch.Tensor | np.ndarray,
               masks: torch.Tensor | np.ndarray) -> None:
        """Score a batch. pred, true: ``(B, H, W, 3)`` uint8 RGB (:func:`to_uint8`); masks:
        ``(B, H, W)`` 0/1 target pose masks M_Pt (bool, integer or float) for mask-SSIM."""
        p, t, m = _numpy(pred), _numpy(true), _numpy(masks)
        if p.ndim != 4 or p.shape != t.shape:
            raise ValueError(f"prediction {p.shape} and truth {t.shape} must be equal "
                             f"(B, H, W, 3) batches")
        if m.shape != p.shape[:3]:
            raise ValueError(f"masks must be (B, H, W) = {p.shape[:3]}, got {m.shape}")
        for pi, ti, mi in zip(p, t, m):
            self.ssim_values.append(ssim(pi, ti))
            self.mask_ssim_values.append(mask_ssim(pi, ti, check_mask(mi, pi.shape[:2])))
            self.l1_values.append(l1(pi, ti))

    def merge(self, other: "ImageScores") -> None:
        """Append another accumulator's pairs (e.g. from another process)."""
        self.ssim_values += other.ssim_values
        self.mask_ssim_values += other.mask_ssim_values
        self.l1_values += other.l1_values

    def result(self, digits: int = 4) -> dict:
        """{"ssim", "mask_ssim", "l1" (means over pairs, rounded to ``digits``; None when no
        pair was scored), "pairs"}."""
        def mean(values: list[float]) -> float | None:
            return round(float(np.mean(values)), digits) if values else None
        return {"ssim": mean(self.ssim_values), "mask_ssim": mean(self.mask_ssim_values),
                "l1": mean(self.l1_values), "pairs": len(self)}
