"""Pose loss: MSE of a frozen detector's heatmaps, resizing to the detector's trained size."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.losses.pose import pose_loss, trained_size


class Detector(nn.Module):
    """A stand-in detector: 18 channels = a fixed 1x1 conv of the image; records its input."""

    def __init__(self, height: int | None = None, width: int | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 18, 1)
        if height is not None:
            self.arch = SimpleNamespace(height=height, width=width)
        self.seen: tuple[int, ...] = ()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen = tuple(x.shape)
        return self.conv(x)


def test_mse_at_own_size_and_gradient_into_images():
    torch.manual_seed(0)
    net = Detector().requires_grad_(False)
    images = (torch.rand(2, 3, 8, 8) * 2 - 1).requires_grad_(True)
    heat = torch.rand(2, 18, 8, 8)
    loss = pose_loss(net, images, heat)
    assert loss.item() == pytest.approx(F.mse_loss(net.conv(images), heat).item(), rel=1e-6)
    loss.backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert all(p.grad is None for p in net.parameters())
    assert net.seen == (2, 3, 8, 8)


def test_resized_to_the_trained_size():
    torch.manual_seed(0)
    net = Detector(4, 4).requires_grad_(False)
    assert trained_size(net) == (4, 4)
    images = torch.rand(1, 3, 8, 8) * 2 - 1
    heat = torch.zeros(1, 18, 8, 8)
    heat[0, 0, :2, :2] = 1.0                      # area: the top-left 4x4 cell -> 1.0
    loss = pose_loss(net, images, heat)
    assert net.seen == (1, 3, 4, 4)
    small_img = F.interpolate(images, size=(4, 4), mode="bilinear", align_corners=False,
                              antialias=True)
    small_heat = torch.zeros(1, 18, 4, 4)
    small_heat[0, 0, 0, 0] = 1.0
    assert loss.item() == pytest.approx(F.mse_loss(net.conv(small_img), small_heat).item(),
                                        rel=1e-6)


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="heatmaps"):
        pose_loss(Detector(), torch.zeros(1, 3, 8, 8), torch.zeros(1, 17, 8, 8))
