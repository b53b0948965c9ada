"""Schema of the `loss` section: loss weights and variants of the appearance stage
(docs/method.md §5)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from pipeline.config.base import _Section


class LossParams(_Section):
    """Loss weights and variants of the appearance stage, defaulting to the authors' values
    [code, SPT demo / paper, docs/method.md §5]."""

    SECTION: ClassVar[str] = "loss"

    adversarial: Literal["lsgan", "vanilla"] = Field("lsgan", description="GAN loss [code].")
    adv: float = Field(1.0, ge=0.0, description="Adversarial loss of D_A on both generated "
                                                "images of the cycle [code: 1].")
    face: bool = Field(True, description="Face adversarial loss with D_F on the head box "
                                         "[code: on; paper: off for Market-1501].")
    face_weight: float = Field(1.0, ge=0.0, description="Weight of the face loss [code: 1].")
    pose: float = Field(700.0, ge=0.0, description="Pose loss: MSE of the frozen detector's "
                                                   "heatmaps, per generated image [code: 700].")
    content: float = Field(0.03, ge=0.0, description="Content loss: MSE of VGG16 relu2_1 "
                                                      "features of I~_Ps and I_s [code: 0.03].")
    cycle_l1: float = Field(10.0, ge=0.0, description="Pixel L1 of I~_Ps and I_s (images in "
                                                      "[-1, 1]) [choice: CycleGAN's 10; not "
                                                      "in the authors' losses: 0].")
    style: Literal["semantic", "mask", "patch"] = Field(
        "semantic", description="Style loss regions: semantic | mask | patch [paper].")
    style_weight: float = Field(1.0, ge=0.0, description="Weight of the style loss [code: 1].")
    patch_size: float = Field(0.125, gt=0.0, le=1.0, description="style=patch: patch side as "
                                                                 "a share of the image height.")
    semantic_ce: float = Field(1.0, ge=0.0, description="e2e joint phase: weight of G_S's "
                                                        "pose-weighted cross-entropy.")
    semantic_adv: float = Field(0.1, ge=0.0, description="e2e joint phase: weight of G_S's "
                                "adversarial loss against D_S (from models/semantic_disc"
                                "riminator.safetensors) [paper; = semantic.adv_weight].")
    vgg_input: Literal["imagenet", "authors"] = Field(
        "imagenet", description="How images in [-1, 1] enter VGG: mapped to [0, 1] then "
                                "ImageNet mean/std (torchvision's convention) or straight into "
                                "the mean/std normalisation [code, SPT demo Normalization.py].")
    require_imagenet_vgg: bool = Field(False, description="Refuse to train without ImageNet "
                                       "VGG16 weights in loss.vgg_weights (the paper profiles).")
    vgg_scale: float = Field(0.0, ge=0.0, description="Factor on the VGG features of the "
                             "content and style losses (0 = the weights' own: 1 for ImageNet "
                             "weights, docs/losses.md for the offline default).")
    vgg_weights: str = Field("", description="Local ImageNet VGG16 state dict in torchvision's "
                                             "format ('' = the offline default, docs/losses.md).")
