"""LSGAN (default) and vanilla GAN losses."""
from __future__ import annotations

import math

import pytest
import torch

from pipeline.losses.adversarial import ADVERSARIAL_LOSSES, AdversarialLoss


def test_lsgan_values():
    adv = AdversarialLoss()
    assert adv.name == "lsgan"
    ones, zeros = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    assert adv.generator(ones).item() == 0.0
    assert adv.generator(zeros).item() == 1.0
    assert adv.discriminator(ones, zeros).item() == 0.0
    assert adv.discriminator(zeros, ones).item() == 1.0


def test_vanilla_values():
    adv = AdversarialLoss("vanilla")
    zeros = torch.zeros(4)
    assert math.isclose(adv.generator(zeros).item(), math.log(2), rel_tol=1e-6)
    assert math.isclose(adv.discriminator(zeros, zeros).item(), math.log(2), rel_tol=1e-6)
    assert adv.discriminator(torch.full((4,), 20.0), torch.full((4,), -20.0)).item() < 1e-6


def test_unknown_loss_is_refused():
    assert set(ADVERSARIAL_LOSSES) == {"lsgan", "vanilla"}
    with pytest.raises(ValueError, match="lsgan"):
        AdversarialLoss("wgan")


def test_weighted_samples_count_alone():
    """Per-sample weights (the face loss skips samples without face points): the weighted mean
    equals the plain mean over the kept samples; no kept sample gives 0 with a graph."""
    from pipeline.losses.adversarial import AdversarialLoss

    scores = torch.tensor([[0.0, 2.0], [1.0, 1.0], [5.0, 5.0]]).view(3, 1, 1, 2)
    scores.requires_grad_(True)
    adv = AdversarialLoss("lsgan")
    keep = torch.tensor([1.0, 1.0, 0.0])
    assert torch.isclose(adv.generator(scores, keep), adv.generator(scores[:2]))
    assert torch.isclose(adv.generator(scores, keep), torch.tensor(0.5))   # (1 + 1 + 0 + 0) / 4
    none = adv.generator(scores, torch.zeros(3))
    assert none.item() == 0.0 and none.requires_grad
    d = adv.discriminator(scores, scores, keep, torch.tensor([0.0, 0.0, 1.0]))
    assert torch.isclose(d, 0.5 * (adv.generator(scores[:2]) + (scores[2] ** 2).mean()))
