"""Peer-compatible SSIM: SSIM as the field's published tables computed it.

NOT the pipeline's SSIM (:mod:`pipeline.metrics.ssim`, docs/method.md §6, fixed ``data_range=255``):
this mode reproduces the evaluation scripts of Deformable GAN (``test.py`` ``ssim_score``) and
Pose-Transfer (``tool/getMetrics_market.py``, ``tool/getMetrics_fashion.py``), whose numbers
most later papers copy [code, AliaksandrSiarohin/pose-gan and tengteng95/Pose-Transfer]:

- ``compare_ssim(reference, generated, gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, multichannel=True, data_range=generated.max() -
  generated.min())`` on uint8 RGB images. Today's scikit-image spells ``multichannel=True`` as
  ``channel_axis=-1`` (each channel scored, then averaged); the 11x11 window (truncate 3.5),
  reflect-mode filtering and the 5 px border crop are the same in both versions.
- **Per-image data range**: the generated image's own ``max - min`` over all pixels and
  channels, not 255. A low-contrast generated image thus gets smaller stabilising constants
  C1, C2, and a different score than with 255.
- **DeepFashion padding**: Pose-Transfer's ``getMetrics_fashion.py`` pads every 256x176 image
  (``addBounding(image, bound=40)``) to 256x256 with white (255) columns, 40 on the left and 40
  on the right, before scoring, and the data range is taken after padding (so it is
  ``255 - min``). Here ``pad_to`` generalises it: an image narrower than ``pad_to`` gets
  ``(pad_to - W) // 2`` white columns on the left and the rest on the right (40 and 40 for 176
  -> 256); an image at least ``pad_to`` wide is left alone. Market-1501 (128x64) is not padded.
- **mask variant** (Pose-Transfer's Market script, "SSIM score masked"): both images multiplied
  by the pose mask first, then scored the same way (data range of the masked generated image).
  Here the mask is the target pose mask M_Pt; padding, if any, comes after the masking.

A constant generated image has data range 0, where the formula can be 0/0; such a pair is
stored as NaN in the per-pair values and left out of the means (counted in ``"undefined"``).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from skimage.metrics import structural_similarity

from pipeline.metrics.ssim import check_mask

#: DeepFashion's peer padding [code, Pose-Transfer getMetrics_fashion.py: 176 + 2 * 40].
DEEPFASHION_PAD_TO = 256
#: Colour of the padding [code, addBounding: ``np.ones(...) * 255``].
PAD_VALUE = 255

#: Every setting of a peer-compatible SSIM number (module docstring).
PEER_SSIM_SETTINGS: dict = {
    "label": "peer-compatible SSIM (Deformable GAN / Pose-Transfer evaluation scripts); "
             "not comparable with the pipeline's SSIM (data_range=255)",
    "function": "skimage.metrics.structural_similarity(true, generated, ...)",
    "gaussian_weights": True,
    "sigma": 1.5,
    "use_sample_covariance": False,
    "channel_axis": -1,
    "multichannel": "True in the peers' compare_ssim (= channel_axis=-1)",
    "data_range": "per image: generated.max() - generated.min(), after masking and padding",
    "input": "uint8 RGB (H, W, 3)",
    "padding": "white (255) columns up to pad_to when W < pad_to, (pad_to - W) // 2 on the "
               "left, the rest on the right (Pose-Transfer addBounding: 176 -> 256, 40 + 40)",
    "mask": "both images multiplied by the target pose mask M_Pt, then padded and scored",
}


def pad_width(image: np.ndarray, pad_to: int | None) -> np.ndarray:
    """``(H, W, 3)`` image padded with white to ``pad_to`` columns, centred (module docstring);
    unchanged when ``pad_to`` is None or ``W >= pad_to``."""
    w = image.shape[1]
    if pad_to is None or w >= pad_to:
        return image
    left = (pad_to - w) // 2
    out = np.full((image.shape[0], pad_to, image.shape[2]), PAD_VALUE, dtype=image.dtype)
    out[:, left:left + w] = image
    return out


def _check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    for name, x in (("generated", a), ("true", b)):
        if x.ndim != 3 or x.shape[2] != 3 or x.dtype != np.uint8:
            raise ValueError(f"peer SSIM: {name} image must be (H, W, 3) uint8, got "
                             f"{x.shape} {x.dtype}")
    if a.shape != b.shape:
        raise ValueError(f"peer SSIM: images differ in shape, {a.shape} and {b.shape}")
    if min(a.shape[:2]) < 11:
        raise ValueError(f"peer SSIM: images of {a.shape[0]}x{a.shape[1]} are smaller than "
                         "the 11x11 window")
    return a, b


def peer_ssim(a: np.ndarray, b: np.ndarray, pad_to: int | None = None) -> float:
    """Peer-compatible SSIM of a generated image ``a`` against its true target ``b``, both
    ``(H, W, 3)`` uint8 RGB (module docstring). pad_to: None (Market-1501, Deformable GAN) or
    256 (DeepFashion as Pose-Transfer scores it). May be NaN for a constant ``a``."""
    a, b = _check_pair(a, b)
    if pad_to is not None and int(pad_to) < 1:
        raise ValueError(f"peer SSIM: pad_to must be a positive width or None, got {pad_to}")
    a, b = pad_width(a, pad_to), pad_width(b, pad_to)
    data_range = float(a.max()) - float(a.min())
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(structural_similarity(
            b, a, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
            channel_axis=-1, data_range=data_range))


def _numpy(x: np.ndarray | torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


class PeerSSIM:
    """Peer-compatible SSIM (and its mask variant when masks are given), per pair, accumulated
    over batches.

    pad_to: None (default: no padding; Market-1501 and the pipeline's own square images) or the
    width to pad narrower images to (256 for DeepFashion's 176-wide images, as Pose-Transfer).
    Per-pair values stay in :attr:`values` and :attr:`mask_values` (NaN = undefined).
    """

    def __init__(self, pad_to: int | None = None) -> None:
        if pad_to is not None and int(pad_to) < 1:
            raise ValueError(f"peer SSIM: pad_to must be a positive width or None, got {pad_to}")
        self.pad_to = None if pad_to is None else int(pad_to)
        self.values: list[float] = []
        self.mask_values: list[float] = []
        self.padded = 0

    def __len__(self) -> int:
        return len(self.values)

    def update(self, pred: np.ndarray | torch.Tensor, true: np.ndarray | torch.Tensor,
               masks: np.ndarray | torch.Tensor | None = None) -> None:
        """Score a batch. pred, true: ``(B, H, W, 3)`` uint8 RGB of equal shape; masks:
        ``(B, H, W)`` 0/1 target pose masks, optional (then also the mask variant)."""
        p, t = _numpy(pred), _numpy(true)
        if p.ndim != 4 or p.shape != t.shape:
            raise ValueError(f"peer SSIM: pred {p.shape} and true {t.shape} must be equal "
                             "(B, H, W, 3) batches")
        m = None if masks is None else _numpy(masks)
        if m is not None and m.shape != p.shape[:3]:
            raise ValueError(f"peer SSIM: masks must be (B, H, W) = {p.shape[:3]}, got {m.shape}")
        if m is None and self.mask_values:
            raise ValueError("peer SSIM: masks were given before; give them for every batch")
        if m is not None and self.values and not self.mask_values:
            raise ValueError("peer SSIM: masks were not given before; give them for no batch")
        for i, (pi, ti) in enumerate(zip(p, t)):
            self.values.append(peer_ssim(pi, ti, self.pad_to))
            self.padded += int(self.pad_to is not None and pi.shape[1] < self.pad_to)
            if m is not None:
                mi = check_mask(m[i], pi.shape[:2])[..., None]
                self.mask_values.append(peer_ssim(pi * mi, ti * mi, self.pad_to))

    def merge(self, other: "PeerSSIM") -> None:
        """Append another accumulator's pairs (e.g. from another process)."""
        self.values += other.values
        self.mask_values += other.mask_values
        self.padded += other.padded

    def result(self) -> dict:
        """{"peer_ssim", "peer_mask_ssim" (means over defined pairs; None when none or when no
        masks were given), "pairs", "undefined" (NaN pairs), "settings"}."""
        def mean(values: list[float]) -> float | None:
            ok = [v for v in values if math.isfinite(v)]
            return float(np.mean(ok)) if ok else None
        settings = {**PEER_SSIM_SETTINGS, "pad_to": self.pad_to, "padded_pairs": self.padded,
                    "pairs": len(self)}
        return {"peer_ssim": mean(self.values), "peer_mask_ssim": mean(self.mask_values),
                "pairs": len(self),
                "undefined": sum(not math.isfinite(v) for v in self.values),
                "settings": settings}
