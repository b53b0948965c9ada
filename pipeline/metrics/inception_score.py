"""Inception Score and mask-IS of generated images (docs/method.md §6), only from a local logits file.

IS [Salimans et al. 2016] = ``exp(E_x KL(p(y|x) || p(y)))`` with ``p(y|x)`` the softmax of the
Inception logits of image x and ``p(y)`` their mean over the images. As in OpenAI's reference
code (used by PG2, Deformable GAN and Pose-Transfer, with 10 splits): the N images are cut into
``splits`` consecutive parts ``[k N // splits, (k + 1) N // splits)``, the score is computed per
part, and the mean and the (population) standard deviation over parts are reported. Here the
softmax is taken in float64 through log-softmax.

mask-IS [PG2; Deformable GAN ``create_masked_image``]: the generated images are multiplied by
the target pose mask M_Pt first (background set to black), then scored as above.

No offline package ships Inception logits (docs/method.md §6), so the network is a local TorchScript file
(format: :class:`pipeline.metrics.inception.InceptionLogits`). With ``weights=''`` nothing is
computed: :meth:`InceptionScore.update` only counts images and :meth:`InceptionScore.result`
reports ``{"is": None, "computed": False, "reason": ...}``, never a number.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pipeline.metrics.inception import (INPUT_SETTINGS, InceptionLogits, apply_masks,
                                        check_image_batch)

#: Why IS is not computed without a weights file (docs/method.md §6).
NOT_COMPUTED = ("no Inception logits weights given (weights=''): no offline package ships "
                "them (docs/method.md §6); give a local TorchScript file mapping (N, 3, 299, 299) in "
                "[-1, 1] to logits (N, C)")


def inception_score(logits: np.ndarray, splits: int = 1) -> tuple[float, float]:
    """(mean, std) over ``splits`` consecutive parts of ``exp(mean_x KL(p(y|x) || p(y)))``.

    logits: (N, C) float, C >= 2 classes; the softmax of each row is p(y|x). 1.0 when every
    image gets the same distribution; C when the images are split evenly over C classes, each
    with certainty.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(f"IS: logits must be (N, C) with C >= 2, got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("IS: logits hold NaN or infinite values")
    n = len(z)
    if not 1 <= splits <= n:
        raise ValueError(f"IS: splits must be in 1..N = {n}, got {splits}")
    zmax = z.max(axis=1, keepdims=True)
    log_p = z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
    scores = []
    for k in range(splits):
        part = log_p[k * n // splits:(k + 1) * n // splits]
        p = np.exp(part)
        log_py = np.log(p.mean(axis=0))
        kl = (p * (part - log_py)).sum(axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


class InceptionScore:
    """IS (or mask-IS with ``masked=True``) of generated images, accumulated over batches.

    weights: a local TorchScript logits file, or '' (not computed; module docstring).
    device, batch_size: where and in how large batches the network runs. splits: parts of the
    image set (OpenAI's code uses 10; 1 suits the default 48 test pairs). The logits of the
    scored images stay in :attr:`logits` (list of (B, C)).
    """

    def __init__(self, weights: str | Path = "", device: str = "cpu", batch_size: int = 32,
                 splits: int = 1, masked: bool = False) -> None:
        if int(splits) < 1:
            raise ValueError(f"IS: splits must be >= 1, got {splits}")
        self.splits = int(splits)
        self.masked = bool(masked)
        self.weights = str(weights)
        self.network = InceptionLogits(weights, device, batch_size) if self.weights else None
        self.logits: list[np.ndarray] = []
        self.images = 0

    @property
    def name(self) -> str:
        return "mask-IS" if self.masked else "IS"

    def update(self, pred: np.ndarray | torch.Tensor, true: np.ndarray | torch.Tensor,
               masks: np.ndarray | torch.Tensor | None = None) -> None:
        """Add a batch. pred: ``(B, H, W, 3)`` uint8 RGB generated images (scored); true: their
        targets, same shape (unused: IS needs no reference); masks: ``(B, H, W)`` 0/1 target
        pose masks, required when masked. Without weights only the images are counted."""
        p = check_image_batch(pred, f"{self.name}: pred")
        t = check_image_batch(true, f"{self.name}: true")
        if p.shape != t.shape:
            raise ValueError(f"{self.name}: pred {p.shape} and true {t.shape} must have equal "
                             "shapes")
        if self.masked:
            p = apply_masks(p, masks, self.name)
        self.images += len(p)
        if self.network is not None:
            self.logits.append(self.network(p))

    def merge(self, other: "InceptionScore") -> None:
        """Append another accumulator's images (e.g. from another process)."""
        self.logits += other.logits
        self.images += other.images

    def settings(self) -> dict:
        out = {
            "function": ("pipeline.metrics.inception_score.inception_score: exp(E_x KL(p(y|x) "
                         "|| p(y))), mean and std over consecutive splits (OpenAI's code)"),
            "masked": self.masked,
            "mask": ("generated image multiplied by the target pose mask M_Pt" if self.masked
                     else "none"),
            "splits": self.splits,
            "images": self.images,
            "weights": self.weights,
            "sha256": self.network.sha256 if self.network is not None else None,
        }
        if self.network is not None:
            out.update(INPUT_SETTINGS)
        return out

    def result(self) -> dict:
        """{"is": mean (None when not computed), "is_std", "computed", "images", "settings"}
        plus "reason" when not computed (no weights, or fewer images than splits)."""
        settings = self.settings()
        reason = None
        if self.network is None:
            reason = NOT_COMPUTED
        elif self.images < self.splits:
            reason = f"{self.images} images are fewer than splits = {self.splits}"
        if reason is not None:
            return {"is": None, "is_std": None, "computed": False, "reason": reason,
                    "images": self.images, "settings": settings}
        mean, std = inception_score(np.concatenate(self.logits), self.splits)
        return {"is": mean, "is_std": std, "computed": True, "images": self.images,
                "settings": settings}
