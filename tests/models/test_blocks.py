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


def test_resize_conv_upsamples_like_nearest_and_is_selected_by_name():
    from pipeline.models.blocks import (ArchitectureError, ResizeConvBlock, up_block,
                                        upsample_nearest2x)
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    y = upsample_nearest2x(x)
    assert torch.equal(y, torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest"))
    assert torch.equal(y[0, 1, 2:4, 6:8], x[0, 1, 1, 3].expand(2, 2))   # hand-checked block
    x.requires_grad_(True)
    upsample_nearest2x(x).sum().backward()
    assert torch.equal(x.grad, torch.full_like(x, 4.0))     # each pixel feeds 2 x 2 outputs
    assert isinstance(up_block("nearest", 8, 4), ResizeConvBlock)
    assert isinstance(up_block("transposed", 8, 4), UpBlock)
    assert up_block("nearest", 8, 4)(torch.randn(2, 8, 8, 6)).shape == (2, 4, 16, 12)
    with pytest.raises(ArchitectureError, match="bilinear"):
        up_block("bilinear", 8, 4)  # type: ignore[arg-type]
