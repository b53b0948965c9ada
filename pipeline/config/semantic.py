"""Schema of the `semantic` section: the semantic generative network G_S and its training
(stage `train_semantic`, docs/method.md §5)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from pipeline.config.training import _TrainingExecution, check_depth


class SemanticParams(_TrainingExecution):
    """Stage `train_semantic`: the semantic generative network (docs/method.md §5) ->
    models/semantic.*.

    Architecture, loss, optimiser and schedule shape the model file; the keys marked
    EXECUTION (device, amp, channels_last, workers, threads, checkpoint_every) only say how the
    run is executed and never rerun the stage.
    """

    SECTION: ClassVar[str] = "semantic"

    height: int = Field(64, ge=8, le=1024, description="Map resolution (px) of the network.")
    width: int = Field(64, ge=8, le=1024, description="Map resolution (px) of the network.")
    channels: int = Field(16, ge=1, le=1024, description="Base width: channels at full "
                                                         "resolution (doubled per scale).")
    depth: int = Field(4, ge=1, le=8, description="Stride-2 downsamplings of the encoders.")
    max_channels: int = Field(128, ge=1, le=4096, description="Channel cap per scale.")
    norm: Literal["instance", "batch", "none"] = Field("instance", description="Normalisation.")
    heatmap_sigma: float = Field(0.0, ge=0.0, le=64.0, description="Pose heatmap Gaussian "
                                 "sigma (px at the network's resolution); 0 = 6 px x height / "
                                 "256 [choice; the authors: 6 px at every size, code].")
    deformable_skips: bool = Field(True, description="Warp the source encoder's skips by the "
                                                      "10 part affines (Deformable GAN).")
    disc_channels: int = Field(16, ge=1, le=1024, description="D_S width (PatchGAN ndf).")
    disc_layers: int = Field(3, ge=1, le=6, description="D_S stride-2 layers (PatchGAN).")
    adversarial: Literal["lsgan", "vanilla"] = Field("lsgan", description="GAN loss.")
    adv_weight: float = Field(0.1, ge=0.0, description="Weight of the adversarial loss "
                                                        "(0 = no discriminator).")
    lr: float = Field(1e-3, gt=0.0, le=1.0, description="Adam learning rate of G_S.")
    disc_lr: float = Field(2e-4, gt=0.0, le=1.0, description="Adam learning rate of D_S.")
    beta1: float = Field(0.5, ge=0.0, lt=1.0, description="Adam beta1.")
    beta2: float = Field(0.999, ge=0.0, lt=1.0, description="Adam beta2.")
    batch_size: int = Field(8, ge=1, le=65536, description="Pairs per step, over all "
                                                           "processes together.")
    iterations: int = Field(500, ge=1, le=10_000_000, description="Optimiser steps.")
    seed: int = Field(0, ge=0, description="Seed of initialisation and sampling.")
    flip: bool = Field(True, description="Random horizontal flips (left/right swapped).")
    log_every: int = Field(20, ge=1, description="Steps between points of the loss curves.")
    sample_every: int = Field(250, ge=1, description="Steps between sample grids (PNG).")
    sample_count: int = Field(4, ge=1, le=64, description="Pairs per sample grid.")
    curve_every: int = Field(50, ge=0, description="Steps between two scorings of the test "
                                                  "pairs for the learning curves (mIoU; "
                                                  "also at step 0 and the last; 0 = off).")
    curve_pairs: int = Field(48, ge=1, le=100_000, description="Test pairs the learning "
                                                               "curves score (evenly spaced; "
                                                               "all when fewer).")

    @model_validator(mode="after")
    def _divisible(self) -> "SemanticParams":
        check_depth("semantic", self.height, self.width, self.depth)
        return self
