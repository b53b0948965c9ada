"""The pose detector of SPT (docs/method.md §5): a ResNet generator from an image to 18 keypoint heatmaps.

The authors trained "a ResNet generator with 9 blocks, 3 -> 18 heatmaps" beforehand and froze it
for the pose loss [code, SPT demo `models/networks.py` ResnetGenerator, after Johnson et al.'s
fast-neural-style]:

    reflection pad 3 + conv 7x7 (3 -> C) -> norm -> ReLU
    ``downsamplings`` x [conv 3x3 stride 2 (channels doubled) -> norm -> ReLU]
    ``blocks`` x residual block [reflection pad 1, conv 3x3, norm, ReLU,
                                 reflection pad 1, conv 3x3, norm] + identity
    ``downsamplings`` x [transposed conv 3x3 stride 2, output padding 1 (channels halved)
                         -> norm -> ReLU]
    reflection pad 3 + conv 7x7 (C -> 18)

Differences from the authors' network [choice]: no output activation (their generator ends in
tanh; here the heatmaps are regressed directly, Gaussians in [0, 1]); the normalisation is the
project's :func:`pipeline.models.blocks.make_norm` (instance norm with affine weights, as every
network of this project; theirs has no affine weights and tracks running statistics);
pix2pix initialisation N(0, 0.02) as theirs. The network is fully convolutional: it runs at any
input size whose sides are multiples of ``2**downsamplings``; the output has the input's size.

Tensors:
    images   (B, 3, H, W) float32 in [-1, 1]
    returns  (B, 18, H, W) float32 heatmaps (targets: exp(-d^2 / 2 sigma^2), sigma 6 px at
             256 px, all zero for a missing point; see :func:`pipeline.geometry.pose_heatmaps`)

:func:`heatmaps_to_keypoints` decodes heatmaps into (y, x) keypoints.

Note: the reflection padding's backward pass has no deterministic CUDA kernel, so
``torch.use_deterministic_algorithms(True)`` refuses to backpropagate through this network on
CUDA (the stages enable deterministic mode on CPU only).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from pipeline.labels import NUM_KEYPOINTS
from pipeline.models.blocks import ArchitectureError, NormName, init_weights, make_norm
from pipeline.models.registry import register
from pipeline.torch_utils.misc import assert_shape

#: Image channels of the input (RGB).
IMAGE_CHANNELS = 3
#: Kernel of the first and last convolutions [code, ResnetGenerator: 7x7 after ReflectionPad2d(3)].
OUTER_KERNEL = 7
#: Sub-pixel refinement of :func:`heatmaps_to_keypoints`: a quarter pixel toward the higher
#: neighbour [choice: the usual decoder of heatmap pose estimators, e.g. Newell et al.'s
#: stacked hourglass and Xiao et al.'s SimpleBaseline `get_final_preds`].
SUBPIXEL_SHIFT = 0.25


@dataclass(frozen=True)
class PosenetArch:
    """Everything needed to rebuild the pose detector (stored in the model file).

    height, width: the training input size (px; the network accepts any multiple of
    ``2**downsamplings``); channels: base width (ngf); blocks: residual blocks; downsamplings:
    stride-2 convolutions before the blocks (and transposed ones after); norm: normalisation.
    """

    height: int = 64
    width: int = 64
    channels: int = 16
    blocks: int = 6
    downsamplings: int = 2
    norm: NormName = "instance"

    def __post_init__(self) -> None:
        if self.channels < 1 or self.blocks < 0 or self.downsamplings < 0:
            raise ArchitectureError(f"posenet: channels ({self.channels}) must be >= 1, blocks "
                                    f"({self.blocks}) and downsamplings ({self.downsamplings}) "
                                    f">= 0")
        check_input_size(self.height, self.width, self.downsamplings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_input_size(height: int, width: int, downsamplings: int) -> None:
    """Raise :class:`ArchitectureError` (one line, naming the keys) unless height and width are
    multiples of ``2**downsamplings`` and leave at least 2 px at the bottleneck (instance norm
    needs more than one pixel per channel)."""
    f = 2 ** downsamplings
    if height % f or width % f:
        raise ArchitectureError(
            f"posenet.height x posenet.width = {height} x {width} is not divisible by "
            f"2**posenet.downsamplings = {f}: use multiples of {f} or fewer downsamplings")
    if min(height, width) // f < 2:
        raise ArchitectureError(
            f"posenet.downsamplings = {downsamplings} leaves less than 2 px at {height} x "
            f"{width}: lower posenet.downsamplings")


class ResnetBlock(nn.Module):
    """x + [reflection pad 1, conv 3x3, norm, ReLU, reflection pad 1, conv 3x3, norm](x)
    [code, SPT ResnetBlock with padding 'reflect', no dropout]. (B, C, H, W) -> same."""

    def __init__(self, channels: int, norm: NormName) -> None:
        super().__init__()
        bias = norm != "batch"
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias),
            make_norm(norm, channels), nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias),
            make_norm(norm, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@register("posenet")
class PoseNet(nn.Module):
    """The pose detector: images (B, 3, H, W) in [-1, 1] -> heatmaps (B, 18, H, W) (see the
    module docstring). Built from a :class:`PosenetArch`."""

    ARCH = PosenetArch

    def __init__(self, arch: PosenetArch) -> None:
        super().__init__()
        self.arch = arch
        c, norm = arch.channels, arch.norm
        bias = norm != "batch"
        pad = OUTER_KERNEL // 2
        layers: list[nn.Module] = [nn.ReflectionPad2d(pad),
                                   nn.Conv2d(IMAGE_CHANNELS, c, OUTER_KERNEL, bias=bias),
                                   make_norm(norm, c), nn.ReLU(inplace=True)]
        for i in range(arch.downsamplings):
            c_in, c_out = c * 2 ** i, c * 2 ** (i + 1)
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1, bias=bias), make_norm(norm, c_out),
                       nn.ReLU(inplace=True)]
        inner = c * 2 ** arch.downsamplings
        layers += [ResnetBlock(inner, norm) for _ in range(arch.blocks)]
        for i in reversed(range(arch.downsamplings)):
            c_in, c_out = c * 2 ** (i + 1), c * 2 ** i
            layers += [nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1, bias=bias),
                       make_norm(norm, c_out), nn.ReLU(inplace=True)]
        layers += [nn.ReflectionPad2d(pad), nn.Conv2d(c, NUM_KEYPOINTS, OUTER_KERNEL)]
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        assert_shape(images, (None, IMAGE_CHANNELS, None, None), "posenet images")
        h, w = images.shape[-2:]
        f = 2 ** self.arch.downsamplings
        if h % f or w % f or min(h, w) // f < 2:
            raise ValueError(f"posenet images: {h} x {w} must be multiples of {f} "
                             f"(2**downsamplings) and at least {2 * f} px")
        out = self.model(images)
        assert_shape(out, (images.shape[0], NUM_KEYPOINTS, h, w), "posenet heatmaps")
        return out


@torch.no_grad()
def heatmaps_to_keypoints(heatmaps: torch.Tensor, threshold: float) -> torch.Tensor:
    """Keypoints of heatmaps: (B, 18, H, W) -> (B, 18, 2) float32 (y, x) pixels of the
    heatmaps' frame (pixel centres at integers), -1 in both where the peak < ``threshold``.

    Decoding [choice, the usual heatmap decoder]: the argmax pixel, then a shift of
    :data:`SUBPIXEL_SHIFT` (a quarter pixel) per axis toward the higher of the two neighbours
    along that axis (none at a border or on a tie). For a Gaussian peak at a sub-pixel position
    this keeps the error within a quarter pixel per axis (the argmax alone: half a pixel).
    The result is clipped to the frame.
    """
    assert_shape(heatmaps, (None, NUM_KEYPOINTS, None, None), "heatmaps")
    b, k, h, w = heatmaps.shape
    hm = heatmaps.detach().float().reshape(b * k, h, w)
    flat = hm.reshape(b * k, -1)
    peak, idx = flat.max(dim=1)
    y = torch.div(idx, w, rounding_mode="floor")
    x = idx - y * w
    rows = torch.arange(b * k, device=hm.device)

    def toward_higher(pos: torch.Tensor, size: int, before: torch.Tensor,
                      after: torch.Tensor) -> torch.Tensor:
        inside = (pos > 0) & (pos < size - 1)
        return torch.where(inside, torch.sign(after - before), torch.zeros_like(before))

    y_prev = hm[rows, (y - 1).clamp(min=0), x]
    y_next = hm[rows, (y + 1).clamp(max=h - 1), x]
    x_prev = hm[rows, y, (x - 1).clamp(min=0)]
    x_next = hm[rows, y, (x + 1).clamp(max=w - 1)]
    ky = y.float() + SUBPIXEL_SHIFT * toward_higher(y, h, y_prev, y_next)
    kx = x.float() + SUBPIXEL_SHIFT * toward_higher(x, w, x_prev, x_next)
    kp = torch.stack([ky.clamp(0, h - 1), kx.clamp(0, w - 1)], dim=1)
    kp[peak < threshold] = -1.0
    return kp.reshape(b, k, 2)
