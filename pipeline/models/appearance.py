"""The appearance generative network of SPT (docs/method.md §5): G_A with its encoders E_A and E'_S, the
image discriminator D_A and the face discriminator D_F.

    I~_Pt = G_A( E_A(I_Ps, P_s, S_Ps), E'_S(P_t, S~_Pt) )          [paper; code, SPT demo]

Generator (after the authors' ``Global_Generator`` [code, SPT demo
``models/GlobalLocalPRDemo_models.py``], itself Deformable GAN's): two encoders, E_A on the
source image, its pose and its parsing, E'_S on the target pose and the (predicted) target
parsing; each is a 3x3 stem then ``depth`` blocks conv 4x4 / stride 2 -> norm -> LeakyReLU(0.2)
(:class:`pipeline.models.semantic.Encoder`), widths ``channel_plan(channels, depth,
max_channels)`` [code: 64, 128, 256, 512, 512, 512 at 128 px]. A U-Net-like decoder doubles
the resolution ``depth`` times; at every scale it concatenates the skips of both encoders. Its
upsampling (``upsample``) is nearest 2x + conv 3x3 by default [choice: Odena et al. 2016; the
authors' 4x4 / stride-2 transposed convolutions, ``"transposed"``, covered the default run's
images with a checkerboard grid, measured in docs/appearance-network.md] or transposed [code]. As in the authors' decoder, the block that outputs scale i has the
width of encoder scale i + 1 [code: decoder 512, 512, 512, 256, 128 against encoder 512, 512,
256, 128, 64], the first ``dropout_blocks`` blocks apply channel dropout [code: ``Dropout2d`` in
the first three], and a 3x3 convolution and tanh give the image.

Deformable skips [code, SPT demo / Deformable GAN ``concatenate_skips``: ``if i < 4``]: E_A's
skips at the :data:`WARPED_SKIPS` finest scales are warped part by part by the 10 part affines
from the source to the target pose and max-aggregated
(:func:`pipeline.models.deformable.deform_features`); the coarser scales go to the decoder as
they are. That max is a union only for non-negative features (it drops negative values), so E_A's
skips at those scales enter the decoder through a ReLU in BOTH modes [choice]: with identity
affines and the whole-frame torso part, deformable skips change nothing (tested), and
``deformable_skips`` is a pure "warp or not" switch.

Image skip (``image_skip``, [choice], not in the authors' generator, ``appearance.image_skip: true``
by default): the source image itself, warped part by part into the target pose and painted
front to back exactly as the part-warp reference of the evaluation (plus its coverage, 4
channels), joins the decoder's last skip, in front of the output convolution. The deformable
skips carry warped FEATURES, which the decoder must learn to turn back into colours; with the
default data's CPU budget (600 steps) the authors' generator did not learn to (docs/appearance-network.md,
"Appearance generative network"), and the image skip gives it the warped colours directly.

Blended output (``blend``, [choice], not in the authors' generator, ``appearance.blend: true`` by
default): the head gives a fourth channel, an opacity logit; the output is the warped source
image laid over the rendered one, ``alpha * W + (1 - alpha * A) * R``, with W the image skip's
premultiplied warped colours, A its coverage, R = tanh of the head's colours and alpha =
sigmoid(logit) (the warped layer's opacity is alpha * A): the attention-mask composition of
GANimation (Pumarola et al., ECCV 2018) and Liquid Warping GAN (Liu et al., ICCV 2019). The
logit's bias starts at
:data:`BLEND_BIAS` (alpha = 0.88), so G_A starts near the part-warp reference and renders only
where its losses say the warp is wrong. Without it the unsupervised cycle did not keep the
source's colours within the CPU budget, even with the image skip
(docs/appearance-network.md, "Results on the default data").

``use_maps = False`` is the paper's Baseline scheme: no semantic map anywhere (E_A gets the
image and P_s, E'_S only P_t, D_A is conditioned on the target pose instead of the parsing).

Not reproduced [choice]: the authors' 256 px model fades a local enhancer (a 256 px encoder and
decoder pair of half width) in over a 128 px global generator; here ONE generator runs at the
configured resolution (any multiple of ``2**depth``, e.g. 256 x 256 with depth 6 and
channels 32 has the authors' widths at every scale: 32 at 256 px up to 512). The authors'
normalisation (one mean and variance per sample over all channels, after activation -> conv)
is ``norm="authors"`` (:class:`pipeline.models.blocks.SampleNorm`); the default is the
project's per-channel instance norm (:func:`pipeline.models.blocks.make_norm`) [choice]. D_A
and D_F keep per-channel instance norm either way (:func:`disc_norm`).

Tensors (B = batch, H x W = image resolution, 18 keypoints, 10 labels, 10 parts):
    src_image    (B, 3, H, W)   float32 in [-1, 1]  I_Ps
    src_heatmaps (B, 18, H, W)  float32 in [0, 1]   P_s
    tgt_heatmaps (B, 18, H, W)  float32 in [0, 1]   P_t
    src_maps     (B, 10, H, W)  float32 soft/one-hot S_Ps (use_maps only; background = 0)
    tgt_maps     (B, 10, H, W)  float32 softmax S~_Pt or one-hot map (use_maps only)
    theta        (B, 10, 2, 3)  float32 affine_grid thetas target -> source (deformable only)
    src_parts    (B, 10, H, W)  float32 source part masks in {0, 1} (deformable only)
    part_valid   (B, 10)        bool                                 (deformable only)
    returns      (B, 3, H, W)   image in (-1, 1) (tanh)
D_A: image (B, 3, H, W) + cond (B, 10, H, W) one-hot map (use_maps) or (B, 18, H, W) heatmaps
    -> (B, 1, H / 2**disc_layers, W / 2**disc_layers) raw patch scores.
D_F: face crops (B, 3, face_size, face_size) -> (B, 1, face_size / 2**face_layers, ...) scores.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.labels import NUM_KEYPOINTS, NUM_LABELS, NUM_PARTS
from pipeline.models.blocks import (MIN_BOTTLENECK, ArchitectureError, NormName, UpsampleName,
                                    channel_plan, check_resolution, init_weights,
                                    patch_discriminator, pre_activation, up_block)
from pipeline.models.deformable import deform_features
from pipeline.models.registry import register
from pipeline.models.semantic import Encoder
from pipeline.torch_utils.misc import assert_shape
from pipeline.torch_utils.warp import paint_parts

#: Image channels (RGB).
IMAGE_CHANNELS = 3
#: Number of the finest scales whose E_A skips are warped [code, SPT demo
#: ``Global_Generator.concatenate_skips`` and Deformable GAN: ``if i < 4``].
WARPED_SKIPS = 4
#: Decoder blocks with dropout by default [code, SPT demo ``decoder``: the first three].
DROPOUT_BLOCKS = 3
#: Channels of the image skip (``image_skip``): the part-warped source image (3) and its
#: coverage (1).
IMAGE_SKIP_CHANNELS = 4
#: Initial bias of the opacity logit of the blended output (``blend``): sigmoid(2) = 0.88 of
#: the warped source where it lands [choice: start near the part-warp reference].
BLEND_BIAS = 2.0


def disc_norm(norm: NormName) -> NormName:
    """The discriminators' norm for G_A's ``norm``: the authors' per-sample norm and block
    order are their generator's; their D_A and D_F are pix2pix PatchGANs with per-channel
    instance norm after each conv [code, SPT demo ``models/networks.py``], so ``authors``
    gives ``instance`` here."""
    return "instance" if norm == "authors" else norm


def max_stride2_layers(side: int) -> int:
    """The most stride-2 (4x4, padding 1) layers that leave ``side`` at least
    :data:`MIN_BOTTLENECK` px (each halves it, rounding down); 0 when even one does not."""
    n = 0
    while side // 2 ** (n + 1) >= MIN_BOTTLENECK:
        n += 1
    return n


@dataclass(frozen=True)
class AppearanceArch:
    """Everything needed to rebuild G_A, D_A and D_F (stored in the model files).

    height, width: image resolution (px); channels: base width (full resolution); depth:
    stride-2 downsamplings of E_A and E'_S; max_channels: cap per scale; norm: normalisation;
    deformable_skips: warp E_A's skips by the part affines; use_maps: semantic maps in E_A,
    E'_S and D_A (False = the Baseline scheme); upsample: the decoder's upsampling, "nearest"
    (resize-convolution) or "transposed" (files written before this key existed hold
    transposed weights and do not load: retrain them); image_skip: the source image warped part by
    part into the target pose, and its coverage, join the decoder's last skip (False, the
    authors' generator, is the default here so that files written before the key existed
    load as what they are); blend: the output is the warped source laid over the rendered
    image with a predicted opacity (module docstring; False, the authors' plain tanh output, by
    default for the same reason); dropout: channel dropout probability of the first
    ``dropout_blocks`` decoder blocks (train mode only; blocks beyond ``depth`` are ignored);
    warped_skips: how many of E_A's finest skip scales the part affines warp (module
    docstring; files written before the key existed warp 4);
    disc_channels / disc_layers: width and stride-2 layers of D_A [code: ndf 64, 3 layers];
    face_size: side (px) of D_F's square face crop; face_layers: stride-2 layers of D_F
    (None: ``min(disc_layers, most that leave >= 2 px)``, filled in at construction so that
    :meth:`to_dict` stores the number); heatmap_sigma: the Gaussian sigma (px at this
    resolution) of the pose heatmaps G_A was trained on, 0 = 6 px x height / 256. Invalid shapes raise a one-line
    :class:`ArchitectureError` naming the ``train.*`` key.
    """

    height: int = 64
    width: int = 64
    channels: int = 16
    depth: int = 4
    max_channels: int = 128
    norm: NormName = "instance"
    deformable_skips: bool = True
    use_maps: bool = True
    upsample: UpsampleName = "nearest"
    image_skip: bool = False
    blend: bool = False
    dropout: float = 0.5
    dropout_blocks: int = DROPOUT_BLOCKS
    warped_skips: int = WARPED_SKIPS
    disc_channels: int = 16
    disc_layers: int = 3
    face_size: int = 16
    face_layers: int | None = None
    heatmap_sigma: float = 0.0

    def __post_init__(self) -> None:
        check_resolution(self.height, self.width, self.depth, prefix="appearance")
        for key in ("channels", "max_channels", "disc_channels"):
            if getattr(self, key) < 1:
                raise ArchitectureError(f"train.{key} = {getattr(self, key)} must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ArchitectureError(f"appearance.dropout = {self.dropout} must be in [0, 1)")
        if self.dropout_blocks < 0:
            raise ArchitectureError(f"appearance.dropout_blocks = {self.dropout_blocks} must be >= 0")
        if self.warped_skips < 0:
            raise ArchitectureError(f"appearance.warped_skips = {self.warped_skips} must be >= 0")
        fit = max_stride2_layers(min(self.height, self.width))
        if not 1 <= self.disc_layers <= fit:
            raise ArchitectureError(
                f"appearance.disc_layers = {self.disc_layers} does not fit {self.height} x "
                f"{self.width}: D_A needs 1 to {fit} stride-2 layers to leave >= "
                f"{MIN_BOTTLENECK} px")
        face_fit = max_stride2_layers(self.face_size)
        if face_fit < 1:
            raise ArchitectureError(f"appearance.face_size = {self.face_size} is too small for D_F: "
                                    f"use at least {2 * MIN_BOTTLENECK} px")
        if self.face_layers is None:
            object.__setattr__(self, "face_layers", min(self.disc_layers, face_fit))
        elif not 1 <= self.face_layers <= face_fit:
            raise ArchitectureError(
                f"face_layers = {self.face_layers} does not fit appearance.face_size = "
                f"{self.face_size}: D_F needs 1 to {face_fit} stride-2 layers to leave >= "
                f"{MIN_BOTTLENECK} px")

    @property
    def map_channels(self) -> int:
        """Channels of one semantic map input: 10 with use_maps, else 0."""
        return NUM_LABELS if self.use_maps else 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@register("appearance_generator")
class AppearanceGenerator(nn.Module):
    """G_A with E_A (``appearance_encoder``) and E'_S (``target_encoder``); one generator at
    any resolution (no local enhancer, see the module docstring, which lists the tensors).

    forward(src_image, src_heatmaps, tgt_heatmaps, src_maps=None, tgt_maps=None, theta=None,
    src_parts=None, part_valid=None) -> (B, 3, H, W) in (-1, 1). The maps must be given iff
    ``arch.use_maps``; theta, src_parts and part_valid are needed with ``deformable_skips``
    (and ignored without).
    """

    ARCH = AppearanceArch

    def __init__(self, arch: AppearanceArch) -> None:
        super().__init__()
        self.arch = arch
        ch = channel_plan(arch.channels, arch.depth, arch.max_channels)
        self.appearance_encoder = Encoder(IMAGE_CHANNELS + NUM_KEYPOINTS + arch.map_channels,
                                          ch, arch.norm)                          # E_A
        self.target_encoder = Encoder(NUM_KEYPOINTS + arch.map_channels, ch, arch.norm)  # E'_S
        ups, drops = [], []
        c_in = 2 * ch[arch.depth]
        for k in range(arch.depth):
            i = arch.depth - 1 - k                     # the scale this block outputs
            ups.append(up_block(arch.upsample, c_in, ch[i + 1], arch.norm))
            dropped = k < arch.dropout_blocks and arch.dropout > 0
            drops.append(nn.Dropout2d(arch.dropout) if dropped else nn.Identity())
            c_in = ch[i + 1] + 2 * ch[i]               # upsampled + E_A skip + E'_S skip
        self.ups = nn.ModuleList(ups)
        self.drops = nn.ModuleList(drops)
        if arch.image_skip:
            c_in += IMAGE_SKIP_CHANNELS
        self.head = nn.Conv2d(c_in, IMAGE_CHANNELS + int(arch.blend), 3, 1, 1)
        init_weights(self)
        if arch.blend:
            with torch.no_grad():
                self.head.bias[IMAGE_CHANNELS] = BLEND_BIAS

    def forward(self, src_image: torch.Tensor, src_heatmaps: torch.Tensor,
                tgt_heatmaps: torch.Tensor, src_maps: torch.Tensor | None = None,
                tgt_maps: torch.Tensor | None = None, theta: torch.Tensor | None = None,
                src_parts: torch.Tensor | None = None,
                part_valid: torch.Tensor | None = None) -> torch.Tensor:
        a = self.arch
        b, hw = src_image.shape[0], (a.height, a.width)
        assert_shape(src_image, (b, IMAGE_CHANNELS, *hw), "src_image")
        assert_shape(src_heatmaps, (b, NUM_KEYPOINTS, *hw), "src_heatmaps")
        assert_shape(tgt_heatmaps, (b, NUM_KEYPOINTS, *hw), "tgt_heatmaps")
        src_in, tgt_in = [src_image, src_heatmaps], [tgt_heatmaps]
        if a.use_maps:
            if src_maps is None or tgt_maps is None:
                raise ValueError("G_A with use_maps needs src_maps (S_Ps) and tgt_maps (S~_Pt)")
            assert_shape(src_maps, (b, NUM_LABELS, *hw), "src_maps")
            assert_shape(tgt_maps, (b, NUM_LABELS, *hw), "tgt_maps")
            src_in.append(src_maps)
            tgt_in.append(tgt_maps)
        elif src_maps is not None or tgt_maps is not None:
            raise ValueError("G_A without use_maps (baseline) takes no src_maps / tgt_maps")
        app = self.appearance_encoder(torch.cat(src_in, 1))
        tgt = self.target_encoder(torch.cat(tgt_in, 1))
        n = min(a.warped_skips, len(app))
        warped = [F.relu(f) for f in app[:n]]
        if a.deformable_skips:
            if theta is None or src_parts is None or part_valid is None:
                raise ValueError("deformable_skips needs theta, src_parts and part_valid")
            assert_shape(theta, (b, NUM_PARTS, 2, 3), "theta")
            assert_shape(src_parts, (b, NUM_PARTS, *hw), "src_parts")
            assert_shape(part_valid, (b, NUM_PARTS), "part_valid")
            warped = deform_features(warped, theta, src_parts, part_valid)
        app = warped + app[n:]
        x = torch.cat([app[-1], tgt[-1]], 1)
        for k, (up, drop) in enumerate(zip(self.ups, self.drops)):
            i = a.depth - 1 - k
            x = torch.cat([drop(up(x)), app[i], tgt[i]], 1)
        if pre_activation(a.norm):
            x = F.relu(x)                     # the authors' head: ReLU -> conv [code]
        skip = (self.warped_image(src_image, theta, src_parts, part_valid)
                if a.image_skip or a.blend else None)
        if a.image_skip:
            x = torch.cat([x, skip], 1)       # the warped colours, not through the ReLU
        y = self.head(x)
        if not a.blend:
            return torch.tanh(y)
        assert skip is not None
        return self.blend_output(y, skip)

    @staticmethod
    def blend_output(head: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """The blended output (``blend``): ``head`` ``(B, 4, H, W)`` (colour logits, opacity
        logit), ``skip`` ``(B, 4, H, W)`` (:meth:`warped_image`: premultiplied warped colours W
        in [-1, 1], coverage A in [0, 1]) -> ``alpha * W + (1 - alpha * A) * tanh(colours)``
        with ``alpha = sigmoid(logit)``, in [-1, 1]: the warped source laid "over" the rendered
        image with opacity ``alpha * A``."""
        rendered = torch.tanh(head[:, :IMAGE_CHANNELS])
        alpha = torch.sigmoid(head[:, IMAGE_CHANNELS:])
        warped, covered = skip[:, :IMAGE_CHANNELS], skip[:, IMAGE_CHANNELS:]
        return alpha * warped + (1.0 - alpha * covered) * rendered

    def warped_image(self, src_image: torch.Tensor, theta: torch.Tensor | None,
                     src_parts: torch.Tensor | None, part_valid: torch.Tensor | None
                     ) -> torch.Tensor:
        """The image skip: ``(B, 4, H, W)``, the source image (``(B, 3, H, W)`` in [-1, 1])
        warped part by part into the target pose and painted front to back
        (:func:`pipeline.torch_utils.warp.paint_parts`, the composition of the part-warp
        reference), in [-1, 1] and 0 where no part lands, then the coverage in [0, 1].
        Without ``deformable_skips`` the source image as it is, with coverage 1."""
        if not self.arch.deformable_skips:
            return torch.cat([src_image, torch.ones_like(src_image[:, :1])], 1)
        painted, covered = paint_parts(src_image + 1.0, theta, src_parts, part_valid)
        return torch.cat([painted - covered, covered], 1)


@register("appearance_discriminator")
class ImageDiscriminator(nn.Module):
    """D_A: a PatchGAN on (image, condition) [code, SPT demo: pix2pix NLayerDiscriminator on
    image + parsing; ndf ``disc_channels``, ``disc_layers`` stride-2 layers, instance norm].

    forward(image (B, 3, H, W), cond) -> (B, 1, H / 2**disc_layers, W / 2**disc_layers) raw
    scores (the adversarial loss decides how to read them). cond: (B, 10, H, W) soft or one-hot
    parsing when ``use_maps``, else (B, 18, H, W) pose heatmaps (Baseline).
    """

    ARCH = AppearanceArch

    def __init__(self, arch: AppearanceArch) -> None:
        super().__init__()
        self.arch = arch
        self.cond_channels = NUM_LABELS if arch.use_maps else NUM_KEYPOINTS
        self.net = patch_discriminator(IMAGE_CHANNELS + self.cond_channels, arch.disc_channels,
                                       arch.disc_layers, disc_norm(arch.norm))
        init_weights(self)

    def forward(self, image: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        b, hw = image.shape[0], (self.arch.height, self.arch.width)
        assert_shape(image, (b, IMAGE_CHANNELS, *hw), "image")
        assert_shape(cond, (b, self.cond_channels, *hw),
                     "cond (parsing map)" if self.arch.use_maps else "cond (pose heatmaps)")
        return self.net(torch.cat([image, cond], 1))


@register("face_discriminator")
class FaceDiscriminator(nn.Module):
    """D_F: a small PatchGAN on face crops [code, SPT demo ``netD_face``: the same
    NLayerDiscriminator on the 3-channel crop of the head box]; ``face_layers`` stride-2 layers
    of width ``disc_channels``.

    forward(face (B, 3, face_size, face_size) in [-1, 1]) -> (B, 1, face_size / 2**face_layers,
    face_size / 2**face_layers) raw scores.
    """

    ARCH = AppearanceArch

    def __init__(self, arch: AppearanceArch) -> None:
        super().__init__()
        self.arch = arch
        assert arch.face_layers is not None            # filled in by AppearanceArch
        self.net = patch_discriminator(IMAGE_CHANNELS, arch.disc_channels, arch.face_layers,
                                       disc_norm(arch.norm))
        init_weights(self)

    def forward(self, face: torch.Tensor) -> torch.Tensor:
        s = self.arch.face_size
        assert_shape(face, (face.shape[0], IMAGE_CHANNELS, s, s), "face")
        return self.net(face)
