"""The semantic generative network of SPT (docs/method.md §5): E_S, E_P, G_S and the discriminator D_S.

    S~_Pt = G_S( E_S(S_Ps, P_s, M_Ps), E_P(P_t, M_Pt) )          [paper, eq. for S~_Pt]

Shaped like Deformable GAN's generator [paper: "like Deformable GAN's generator but with softmax
output"]: two encoders of (conv, norm, LeakyReLU) blocks that halve the resolution ``depth``
times, and a decoder of transposed convolutions that doubles it back, concatenating at every
scale the features of both encoders (skip connections). With ``deformable_skips`` the source
encoder's features are warped, part by part, by the 10 part affines from the source pose to the
target pose and max-aggregated (Deformable GAN's deformable skip connections) before they are
concatenated; the affine thetas of ``pipeline.torch_utils.warp`` are valid at every feature
scale of the same frame, and the part masks are max-pooled to each scale.

Tensors (B = batch, H x W = map resolution, 10 labels, 18 keypoints, 10 parts):
    src_onehot   (B, 10, H, W) float32  one-hot S_Ps (background included)
    src_heatmaps (B, 18, H, W) float32  P_s Gaussians in [0, 1]
    src_pose_mask(B, 1, H, W)  float32  M_Ps in {0, 1}
    tgt_heatmaps (B, 18, H, W) float32  P_t;  tgt_pose_mask (B, 1, H, W) float32 M_Pt
    theta        (B, 10, 2, 3) float32  affine_grid thetas target -> source (deformable only)
    src_parts    (B, 10, H, W) float32  source part masks in {0, 1} (deformable only)
    part_valid   (B, 10) bool                                           (deformable only)
    returns logits (B, 10, H, W); softmax over dim 1 gives S~_Pt (the loss and inference apply it).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from pipeline.labels import NUM_KEYPOINTS, NUM_LABELS
from pipeline.models.blocks import (MIN_BOTTLENECK, ArchitectureError, ConvBlock, NormName, UpBlock,
                                    channel_plan, check_resolution, init_weights, pre_activation)
from pipeline.models.deformable import deform_features
from pipeline.models.registry import register
from pipeline.torch_utils.misc import assert_shape

#: Number of body parts whose affines warp the deformable skips (docs/method.md §3).
NUM_PARTS = 10
#: Input channels: E_S gets one-hot S_Ps (10), P_s (18), M_Ps (1); E_P gets P_t (18), M_Pt (1).
SOURCE_CHANNELS = NUM_LABELS + NUM_KEYPOINTS + 1
POSE_CHANNELS = NUM_KEYPOINTS + 1
@dataclass(frozen=True)
class SemanticArch:
    """Everything needed to rebuild the semantic networks (stored in the model file).

    height, width: map resolution (px); channels: base width (channels at full resolution);
    depth: number of stride-2 downsamplings; max_channels: cap per scale; norm: normalisation;
    deformable_skips: warp E_S features by the part affines; disc_channels / disc_layers:
    PatchGAN width and number of stride-2 layers of D_S; heatmap_sigma: the Gaussian sigma
    (px at this resolution) of the pose heatmaps it was trained on, 0 = 6 px x height / 256
    (the inputs at inference must be drawn alike).
    """

    height: int = 64
    width: int = 64
    channels: int = 32
    depth: int = 4
    max_channels: int = 256
    norm: NormName = "instance"
    deformable_skips: bool = False
    disc_channels: int = 32
    disc_layers: int = 3
    heatmap_sigma: float = 0.0

    def __post_init__(self) -> None:
        check_resolution(self.height, self.width, self.depth)
        side = min(self.height, self.width) // 2 ** self.disc_layers
        if side < MIN_BOTTLENECK:
            raise ArchitectureError(
                f"semantic.disc_layers = {self.disc_layers} halves {self.height} x {self.width} "
                f"below {MIN_BOTTLENECK} px; use fewer discriminator layers")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Encoder(nn.Module):
    """E_S or E_P: a 3x3 stem conv (no norm) then ``depth`` blocks conv 4x4 / stride 2 ->
    norm -> LeakyReLU [code, Deformable GAN encoder]. With the authors' norm the blocks are
    LeakyReLU -> conv -> norm, the stem is a bare conv and the last block has no norm [code,
    SPT demo encoder]. Returns the features of every scale: a list of ``depth + 1`` tensors,
    scale i of shape (B, channels[i], H / 2**i, W / 2**i)."""

    def __init__(self, c_in: int, channels: list[int], norm: NormName) -> None:
        super().__init__()
        self.c_in = c_in
        n = len(channels) - 1
        if pre_activation(norm):
            self.stem = ConvBlock(c_in, channels[0], 3, 1, norm="none", act=False)
            self.downs = nn.ModuleList(
                ConvBlock(channels[i], channels[i + 1], 4, 2, norm if i < n - 1 else "none",
                          pre=True) for i in range(n))
        else:
            self.stem = ConvBlock(c_in, channels[0], 3, 1, norm="none")
            self.downs = nn.ModuleList(ConvBlock(channels[i], channels[i + 1], 4, 2, norm)
                                       for i in range(n))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [self.stem(x)]
        for down in self.downs:
            feats.append(down(feats[-1]))
        return feats


@register("semantic_generator")
class SemanticGenerator(nn.Module):
    """G_S with its encoders E_S (``source_encoder``) and E_P (``pose_encoder``); see the
    module docstring for the tensors."""

    ARCH = SemanticArch

    def __init__(self, arch: SemanticArch) -> None:
        super().__init__()
        self.arch = arch
        ch = channel_plan(arch.channels, arch.depth, arch.max_channels)
        self.source_encoder = Encoder(SOURCE_CHANNELS, ch, arch.norm)     # E_S
        self.pose_encoder = Encoder(POSE_CHANNELS, ch, arch.norm)         # E_P
        ups = []
        c_in = 2 * ch[arch.depth]
        for i in reversed(range(arch.depth)):
            ups.append(UpBlock(c_in, ch[i], arch.norm))
            c_in = 3 * ch[i]                      # upsampled + E_S skip + E_P skip
        self.ups = nn.ModuleList(ups)
        self.head = nn.Conv2d(c_in, NUM_LABELS, 3, 1, 1)
        init_weights(self)

    def forward(self, src_onehot: torch.Tensor, src_heatmaps: torch.Tensor,
                src_pose_mask: torch.Tensor, tgt_heatmaps: torch.Tensor,
                tgt_pose_mask: torch.Tensor, theta: torch.Tensor | None = None,
                src_parts: torch.Tensor | None = None,
                part_valid: torch.Tensor | None = None) -> torch.Tensor:
        a = self.arch
        b = src_onehot.shape[0]
        _check(src_onehot, (b, NUM_LABELS, a.height, a.width), "src_onehot")
        _check(src_heatmaps, (b, NUM_KEYPOINTS, a.height, a.width), "src_heatmaps")
        _check(src_pose_mask, (b, 1, a.height, a.width), "src_pose_mask")
        _check(tgt_heatmaps, (b, NUM_KEYPOINTS, a.height, a.width), "tgt_heatmaps")
        _check(tgt_pose_mask, (b, 1, a.height, a.width), "tgt_pose_mask")
        src = self.source_encoder(torch.cat([src_onehot, src_heatmaps, src_pose_mask], 1))
        pose = self.pose_encoder(torch.cat([tgt_heatmaps, tgt_pose_mask], 1))
        if a.deformable_skips:
            if theta is None or src_parts is None or part_valid is None:
                raise ValueError("deformable_skips needs theta, src_parts and part_valid")
            _check(theta, (b, NUM_PARTS, 2, 3), "theta")
            _check(src_parts, (b, NUM_PARTS, a.height, a.width), "src_parts")
            _check(part_valid, (b, NUM_PARTS), "part_valid")
            src = deform_features(src, theta, src_parts, part_valid)
        x = torch.cat([src[-1], pose[-1]], 1)
        for k, up in enumerate(self.ups):
            i = a.depth - 1 - k
            x = torch.cat([up(x), src[i], pose[i]], 1)
        return self.head(x)


@register("semantic_discriminator")
class SemanticDiscriminator(nn.Module):
    """D_S: a PatchGAN on (map, pose) [paper: "D_S on maps"; code, pix2pix NLayerDiscriminator:
    conv 4x4 / stride 2 blocks, instance norm, LeakyReLU(0.2)].

    maps: (B, 10, H, W) softmax S~_Pt or one-hot S*_Pt; heatmaps: (B, 18, H, W) the target pose.
    Returns patch scores (B, 1, H', W') (raw: the adversarial loss decides how to read them).
    """

    ARCH = SemanticArch

    def __init__(self, arch: SemanticArch) -> None:
        super().__init__()
        self.arch = arch
        c = arch.disc_channels
        layers: list[nn.Module] = [ConvBlock(NUM_LABELS + NUM_KEYPOINTS, c, 4, 2, norm="none")]
        for n in range(1, arch.disc_layers):
            c_next = min(c * 2, 8 * arch.disc_channels)
            layers.append(ConvBlock(c, c_next, 4, 2, arch.norm))
            c = c_next
        c_next = min(c * 2, 8 * arch.disc_channels)
        layers += [ConvBlock(c, c_next, 3, 1, arch.norm), nn.Conv2d(c_next, 1, 3, 1, 1)]
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, maps: torch.Tensor, heatmaps: torch.Tensor) -> torch.Tensor:
        b = maps.shape[0]
        _check(maps, (b, NUM_LABELS, self.arch.height, self.arch.width), "maps")
        _check(heatmaps, (b, NUM_KEYPOINTS, self.arch.height, self.arch.width), "heatmaps")
        return self.net(torch.cat([maps, heatmaps], 1))


def _check(t: torch.Tensor, shape: tuple[int, ...], name: str) -> None:
    """Shape assertion at the module boundary."""
    assert_shape(t, shape, name)
