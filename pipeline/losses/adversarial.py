"""Adversarial losses, found by name: ``lsgan`` (default) and ``vanilla``.

LSGAN [code, SPT demo / pix2pix ``GANLoss('lsgan')``]: MSE of the patch scores to 1 (real) or 0
(fake). Vanilla: binary cross-entropy with logits (the original GAN). Both average over patches
and batch; with per-sample ``weights`` (e.g. the face loss, which skips samples whose face
points are missing) the average is over the weighted samples only (0 when no weight is set). The generator's loss asks the discriminator to call its output real.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

AdvFn = Callable[[torch.Tensor, bool], torch.Tensor]


def lsgan(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """(D(x) - 1)^2 for real, D(x)^2 for fake, per element; scores: any shape, raw."""
    s = scores.float()
    return F.mse_loss(s, torch.full_like(s, 1.0 if real else 0.0), reduction="none")


def vanilla(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """Binary cross-entropy of the logits ``scores`` against 1 (real) or 0 (fake), per
    element."""
    s = scores.float()
    return F.binary_cross_entropy_with_logits(s, torch.full_like(s, 1.0 if real else 0.0),
                                              reduction="none")


def _reduce(loss: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean of per-element ``loss`` (B, ...); with ``weights`` (B,) the weighted mean of the
    per-sample means (0, graph intact, when every weight is 0)."""
    if weights is None:
        return loss.mean()
    per_sample = loss.flatten(1).mean(1)
    w = weights.to(per_sample.dtype)
    return (per_sample * w).sum() / w.sum().clamp_min(1.0)


#: name -> loss(scores, real) (one line per variant).
ADVERSARIAL_LOSSES: dict[str, AdvFn] = {"lsgan": lsgan, "vanilla": vanilla}


class AdversarialLoss:
    """GAN loss of kind ``name`` ('lsgan' | 'vanilla')."""

    def __init__(self, name: str = "lsgan") -> None:
        if name not in ADVERSARIAL_LOSSES:
            raise ValueError(f"unknown adversarial loss {name!r}; use one of "
                             f"{', '.join(ADVERSARIAL_LOSSES)}")
        self.name = name
        self.fn = ADVERSARIAL_LOSSES[name]

    def generator(self, fake_scores: torch.Tensor, weights: torch.Tensor | None = None
                  ) -> torch.Tensor:
        """The generator's loss: its outputs should be scored real. weights: (B,) or None."""
        return _reduce(self.fn(fake_scores, True), weights)

    def discriminator(self, real_scores: torch.Tensor, fake_scores: torch.Tensor,
                      real_weights: torch.Tensor | None = None,
                      fake_weights: torch.Tensor | None = None) -> torch.Tensor:
        """The discriminator's loss: 0.5 (real -> 1 + fake -> 0) [code, pix2pix: halved]."""
        return 0.5 * (_reduce(self.fn(real_scores, True), real_weights)
                      + _reduce(self.fn(fake_scores, False), fake_weights))
