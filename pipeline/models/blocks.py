"""Convolutional building blocks shared by the networks (Deformable GAN / pix2pix style).

Every block maps ``(B, C_in, H, W)`` float tensors to ``(B, C_out, H', W')``. Normalisation is
chosen by name (:data:`NORMS`); instance norm is the default of the paper's networks
[code, SPT demo / Deformable GAN: InstanceNorm blocks].
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

#: LeakyReLU slope of the encoders and discriminators [code, Deformable GAN / pix2pix: 0.2].
LEAKY_SLOPE = 0.2

NormName = Literal["instance", "batch", "none", "authors"]
UpsampleName = Literal["transposed", "nearest"]
#: Smallest bottleneck side: instance norm needs more than one pixel per channel.
MIN_BOTTLENECK = 2


class ArchitectureError(ValueError):
    """A network shape that cannot work (the message says which parameter to change)."""

NORMS: tuple[str, ...] = ("instance", "batch", "none", "authors")
#: eps of the authors' per-sample normalisation [code, SPT demo: ``InstanceNorm3d(1,
#: eps=1e-3, affine=True)``].
SAMPLE_NORM_EPS = 1e-3


class SampleNorm(nn.Module):
    """The authors' normalisation [code, SPT demo: the feature map unsqueezed to
    (B, 1, C, H, W) through ``InstanceNorm3d(1, eps=1e-3, affine=True)``]: ONE mean and
    (biased) variance per sample over C, H and W, and one scalar scale and shift for the whole
    layer. Unlike per-channel instance norm, it keeps the differences between channels' means
    (for instance a feature that says "this image is red"). (B, C, H, W) -> same shape."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.group_norm(x, 1, eps=SAMPLE_NORM_EPS) * self.weight + self.bias


def make_norm(name: NormName, channels: int) -> nn.Module:
    """A 2-D normalisation layer by name: 'instance' (per channel, affine), 'batch', 'none'
    (identity) or 'authors' (:class:`SampleNorm`)."""
    if name == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if name == "batch":
        return nn.BatchNorm2d(channels)
    if name == "none":
        return nn.Identity()
    if name == "authors":
        return SampleNorm()
    raise ValueError(f"unknown norm {name!r}; use one of {', '.join(NORMS)}")


def pre_activation(norm: NormName) -> bool:
    """True when blocks run activation -> conv -> norm: the authors' order, which comes with
    their normalisation [code, SPT demo: ``LeakyReLU`` / ``ReLU`` before each conv, the norm
    after it]; every other norm keeps conv -> norm -> activation."""
    return norm == "authors"


class ConvBlock(nn.Sequential):
    """conv (k x k, stride s, 'same'-style padding) -> norm -> LeakyReLU(0.2); with the
    authors' norm LeakyReLU(0.2) -> conv -> norm (:func:`pre_activation`).

    kernel 4 / stride 2 halves H and W (the encoders' downsampling [code, Deformable GAN]);
    kernel 3 / stride 1 keeps them. ``act=False`` leaves the activation out, ``norm="none"``
    the norm; ``pre`` puts the activation first (default: :func:`pre_activation` of ``norm``;
    the authors' blocks without a norm pass ``pre=True``).
    """

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, stride: int = 1,
                 norm: NormName = "instance", act: bool = True, pre: bool | None = None) -> None:
        pad = (kernel - 1) // 2 if stride == 1 else (kernel - stride) // 2
        pre = pre_activation(norm) if pre is None else pre
        layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, stride, pad,
                                             bias=norm != "batch"), make_norm(norm, c_out)]
        if act:
            activation = nn.LeakyReLU(LEAKY_SLOPE, inplace=not pre)
            layers = [activation, *layers] if pre else [*layers, activation]
        super().__init__(*layers)


class UpBlock(nn.Sequential):
    """Transposed conv 4x4 stride 2 (doubles H and W) -> norm -> ReLU [code, Deformable GAN
    decoder: Conv2DTranspose]; with the authors' norm ReLU -> transposed conv -> norm [code,
    SPT demo]. Transposed convolution (rather than nearest upsampling) keeps the backward pass
    deterministic under CUDA's deterministic mode."""

    def __init__(self, c_in: int, c_out: int, norm: NormName = "instance") -> None:
        conv = nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=norm != "batch")
        if pre_activation(norm):
            super().__init__(nn.ReLU(inplace=False), conv, make_norm(norm, c_out))
        else:
            super().__init__(conv, make_norm(norm, c_out), nn.ReLU(inplace=True))


def upsample_nearest2x(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, 2H, 2W), every pixel repeated 2 x 2. Written as expand + reshape
    so that its backward is a plain sum: deterministic on every device (CUDA's
    ``upsample_nearest2d`` backward uses atomic adds)."""
    b, c, h, w = x.shape
    return x[:, :, :, None, :, None].expand(b, c, h, 2, w, 2).reshape(b, c, 2 * h, 2 * w)


class ResizeConvBlock(nn.Module):
    """Nearest 2x upsampling -> conv 3x3 -> norm -> ReLU: the resize-convolution that avoids
    the checkerboard pattern of transposed convolutions whose kernel (4) the stride (2) divides
    unevenly across overlaps [Odena, Dumoulin & Olah, "Deconvolution and Checkerboard
    Artifacts", Distill 2016]. Same shapes as :class:`UpBlock`."""

    def __init__(self, c_in: int, c_out: int, norm: NormName = "instance") -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, 1, 1, bias=norm != "batch")
        self.norm = make_norm(norm, c_out)
        self.act = nn.ReLU(inplace=not pre_activation(norm))
        self.pre = pre_activation(norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre:                                  # the authors' order (:class:`UpBlock`)
            return self.norm(self.conv(upsample_nearest2x(self.act(x))))
        return self.act(self.norm(self.conv(upsample_nearest2x(x))))


def up_block(kind: UpsampleName, c_in: int, c_out: int, norm: NormName = "instance") -> nn.Module:
    """The decoder block that doubles H and W: ``transposed`` (:class:`UpBlock`) or
    ``nearest`` (:class:`ResizeConvBlock`)."""
    if kind == "transposed":
        return UpBlock(c_in, c_out, norm)
    if kind == "nearest":
        return ResizeConvBlock(c_in, c_out, norm)
    raise ArchitectureError(f"unknown upsampling {kind!r}: use 'transposed' or 'nearest'")


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """pix2pix initialisation: conv weights N(0, gain), norm weights N(1, gain), biases 0
    [code, pytorch-CycleGAN-and-pix2pix `init_weights('normal')`]. Uses torch's global RNG."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.InstanceNorm2d, nn.BatchNorm2d, SampleNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


def channel_plan(base: int, depth: int, max_channels: int) -> list[int]:
    """Channels at each scale 0..depth: ``min(base * 2**i, max_channels)``."""
    return [min(base * 2 ** i, max_channels) for i in range(depth + 1)]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def to_memory_format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``x`` in channels_last layout when asked (4-D tensors only), else unchanged."""
    if channels_last and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def patch_discriminator(c_in: int, channels: int, layers: int,
                        norm: NormName = "instance") -> nn.Sequential:
    """A PatchGAN trunk [code, pix2pix NLayerDiscriminator: ndf, n_layers, width doubling
    capped at 8 ndf, no norm on the first layer, LeakyReLU(0.2)]: ``layers`` blocks conv 4x4 /
    stride 2, then conv 3x3 -> norm -> LeakyReLU and a 3x3 conv to one score per patch.

    (B, c_in, H, W) -> (B, 1, H // 2**layers, W // 2**layers) raw scores. The stride-1 convs
    are 3x3 ('same' size) where pix2pix uses 4x4 with padding 1 (which trims a pixel each), the
    layout of :class:`pipeline.models.semantic.SemanticDiscriminator`.
    """
    c = channels
    body: list[nn.Module] = [ConvBlock(c_in, c, 4, 2, norm="none")]
    for _ in range(1, layers):
        c_next = min(c * 2, 8 * channels)
        body.append(ConvBlock(c, c_next, 4, 2, norm))
        c = c_next
    c_next = min(c * 2, 8 * channels)
    body += [ConvBlock(c, c_next, 3, 1, norm), nn.Conv2d(c_next, 1, 3, 1, 1)]
    return nn.Sequential(*body)


def check_resolution(height: int, width: int, depth: int, prefix: str = "semantic") -> None:
    """Raise :class:`ArchitectureError` (one line, naming the keys) unless ``depth`` halvings
    of height x width give integer sides of at least :data:`MIN_BOTTLENECK` px."""
    f = 2 ** depth
    if height % f or width % f:
        raise ArchitectureError(
            f"{prefix}.height x {prefix}.width = {height} x {width} is not divisible by "
            f"2**{prefix}.depth = {f}: use a resolution that is a multiple of {f} "
            f"(e.g. {max(f, height // f * f)} x {max(f, width // f * f)}) or a smaller depth")
    if min(height, width) // f < MIN_BOTTLENECK:
        raise ArchitectureError(
            f"{prefix}.depth = {depth} leaves a {height // f} x {width // f} bottleneck at "
            f"{height} x {width}; lower {prefix}.depth to at most "
            f"{max(0, (min(height, width) // MIN_BOTTLENECK).bit_length() - 1)}")
