"""Schema of the `appearance` section: the appearance generative network G_A, its
discriminators and the training scheme (stage `train_appearance`, docs/method.md §5)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from pipeline.config.training import _TrainingExecution, check_depth


class AppearanceParams(_TrainingExecution):
    """Stage `train_appearance`: the appearance generative network G_A (with E_A, E'_S), its
    discriminators D_A and D_F, and the training scheme (docs/method.md §5) ->
    models/appearance/."""

    SECTION: ClassVar[str] = "appearance"

    scheme: Literal["baseline", "ts_pred", "ts_gt", "e2e"] = Field(
        "e2e", description="baseline | ts_pred | ts_gt | e2e [paper, section 4.4].")
    height: int = Field(64, ge=8, le=1024, description="Image resolution (px) of G_A.")
    width: int = Field(64, ge=8, le=1024, description="Image resolution (px) of G_A.")
    channels: int = Field(16, ge=1, le=1024, description="Base width of G_A [code: 64].")
    depth: int = Field(4, ge=1, le=8, description="Stride-2 downsamplings of E_A and E'_S.")
    max_channels: int = Field(128, ge=1, le=4096, description="Channel cap per scale "
                                                              "[code: 512].")
    norm: Literal["instance", "batch", "none", "authors"] = Field(
        "instance", description="Normalisation of G_A: per-channel instance norm [choice] or "
                                "the authors' (activation -> conv -> one norm per sample over "
                                "C, H, W with a scalar scale and shift; no norm on the last "
                                "encoder block) [code].")
    heatmap_sigma: float = Field(0.0, ge=0.0, le=64.0, description="Pose heatmap Gaussian "
                                 "sigma (px at the network's resolution); 0 = 6 px x height / "
                                 "256 [choice; the authors: 6 px at every size, code].")
    deformable_skips: bool = Field(True, description="Warp E_A's skips by the 10 part "
                                                     "affines [code, SPT demo].")
    warped_skips: int = Field(4, ge=0, le=9, description="How many of E_A's finest skip scales "
                              "the part affines warp (all of them when it exceeds depth + 1) [code: "
                              "every scale down to 16 px; Deformable GAN: 4].")
    upsample: Literal["transposed", "nearest"] = Field(
        "nearest", description="Decoder upsampling of G_A: nearest 2x + conv 3x3 [choice: no "
                               "checkerboard] or transposed conv 4x4 [code].")
    image_skip: bool = Field(True, description="The part-warped source image joins G_A's last "
                                               "skip [choice; not in the authors' generator].")
    blend: bool = Field(True, description="G_A's output is the part-warped source laid over "
                                          "the rendered image with a predicted opacity "
                                          "[choice; not in the authors' generator].")
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="Dropout of the first decoder "
                                                            "blocks [code: 0.5 in three].")
    disc_channels: int = Field(16, ge=1, le=1024, description="D_A width [code: ndf 64].")
    disc_layers: int = Field(3, ge=1, le=6, description="D_A stride-2 layers [code: 3].")
    face_size: int = Field(16, ge=8, le=1024, description="Side (px) of the face crop of D_F "
                                                        "[code: the image side, 256].")
    face_clip: bool = Field(False, description="Clip the head box to the image before the "
                                               "crop [code: clipped; choice: unclipped, no "
                                               "stretched crops at the border].")
    lr: float = Field(2e-4, gt=0.0, le=1.0, description="Adam learning rate of G_A.")
    disc_lr: float = Field(2e-4, gt=0.0, le=1.0, description="Adam learning rate of D_A, D_F.")
    semantic_lr: float = Field(1e-4, gt=0.0, le=1.0, description="Adam learning rate of G_S "
                                                                 "in the joint phase (e2e).")
    beta1: float = Field(0.5, ge=0.0, lt=1.0, description="Adam beta1.")
    beta2: float = Field(0.999, ge=0.0, lt=1.0, description="Adam beta2.")
    batch_size: int = Field(4, ge=1, le=65536, description="Pairs per step, over all "
                                                           "processes together.")
    iterations: int = Field(600, ge=1, le=10_000_000, description="Optimiser steps in all.")
    joint_iterations: int = Field(150, ge=0, le=10_000_000, description="e2e: the last steps, "
                                  "where G_S and G_A are optimised jointly (the first ones "
                                  "train G_A on G_S's predictions, as ts_pred).")
    seed: int = Field(0, ge=0, description="Seed of initialisation and sampling.")
    flip: bool = Field(True, description="Random horizontal flips (left/right swapped).")
    log_every: int = Field(20, ge=1, description="Steps between points of the loss curves.")
    sample_every: int = Field(300, ge=1, description="Steps between sample grids (PNG).")
    sample_count: int = Field(4, ge=1, le=64, description="Pairs per sample grid.")
    curve_every: int = Field(100, ge=0, description="Steps between two scorings of the test "
                                                    "pairs for the learning curves (SSIM, "
                                                    "LPIPS, MediaPipe PCKh; also at step 0 "
                                                    "and the last; 0 = off).")
    curve_pairs: int = Field(16, ge=1, le=100_000, description="Test pairs the learning "
                                                               "curves score (evenly spaced; "
                                                               "all when fewer).")

    @model_validator(mode="after")
    def _consistent(self) -> "AppearanceParams":
        check_depth("appearance", self.height, self.width, self.depth)
        if self.joint_iterations > self.iterations:
            raise ValueError(f"appearance.joint_iterations = {self.joint_iterations} exceeds "
                             f"appearance.iterations = {self.iterations}")
        return self
