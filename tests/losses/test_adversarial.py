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
