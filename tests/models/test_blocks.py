"""Building blocks: shapes of down/up blocks, norm by name, channel plan."""
from __future__ import annotations

import pytest
import torch

from pipeline.models.blocks import ConvBlock, UpBlock, channel_plan, make_norm


def test_down_and_up_blocks_halve_and_double():
    x = torch.rand(2, 4, 16, 12)
    y = ConvBlock(4, 8, 4, 2)(x)
    assert y.shape == (2, 8, 8, 6)
    assert UpBlock(8, 4)(y).shape == (2, 4, 16, 12)
    assert ConvBlock(4, 6, 3, 1)(x).shape == (2, 6, 16, 12)


def test_norm_by_name_and_channel_plan():
    assert isinstance(make_norm("instance", 4), torch.nn.InstanceNorm2d)
    assert isinstance(make_norm("none", 4), torch.nn.Identity)
    with pytest.raises(ValueError, match="unknown norm"):
        make_norm("group", 4)
    assert channel_plan(16, 4, 64) == [16, 32, 64, 64, 64]
