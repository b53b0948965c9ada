"""Schema of the `posenet` section: the pose detector of the pose loss and of PCKh (stage
`train_posenet`, docs/method.md §5)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from pipeline.config.training import _TrainingExecution, check_depth


class PosenetParams(_TrainingExecution):
    """Stage `train_posenet`: the pose detector of the pose loss and of PCKh (docs/method.md §5)
    -> models/posenet.safetensors. A ResNet generator (3 -> 18 heatmaps) [code, SPT: 9 blocks,
    64 base channels]; trained on the training images and their keypoints, then frozen."""

    SECTION: ClassVar[str] = "posenet"

    height: int = Field(64, ge=8, le=1024, description="Input image size (px).")
    width: int = Field(64, ge=8, le=1024, description="Input image size (px).")
    channels: int = Field(16, ge=1, le=1024, description="Base width (ResNet generator ngf).")
    blocks: int = Field(6, ge=1, le=32, description="Residual blocks [code: 9].")
    downsamplings: int = Field(2, ge=0, le=5, description="Stride-2 convolutions before the "
                                                          "residual blocks [code: 2].")
    norm: Literal["instance", "batch", "none"] = Field("instance", description="Normalisation.")
    heatmap_sigma: float = Field(0.0, ge=0.0, le=64.0, description="Pose heatmap Gaussian "
                                 "sigma (px at the network's resolution); 0 = 6 px x height / "
                                 "256 [choice; the authors: 6 px at every size, code].")
    lr: float = Field(1e-3, gt=0.0, le=1.0, description="Adam learning rate.")
    beta1: float = Field(0.9, ge=0.0, lt=1.0, description="Adam beta1.")
    beta2: float = Field(0.999, ge=0.0, lt=1.0, description="Adam beta2.")
    batch_size: int = Field(8, ge=1, le=65536, description="Images per step, over all "
                                                           "processes together.")
    iterations: int = Field(600, ge=1, le=10_000_000, description="Optimiser steps.")
    seed: int = Field(0, ge=0, description="Seed of initialisation and sampling.")
    flip: bool = Field(True, description="Random horizontal flips (keypoints mirrored).")
    foreground_weight: float = Field(50.0, ge=0.0, description="Heatmap MSE weighted by "
                                     "(1 + w * target): keypoint pixels count 1 + w times "
                                     "(0 = plain MSE) [choice: plain MSE learns nothing at "
                                     "64 px in the default budget].")
    peak_threshold: float = Field(0.1, ge=0.0, le=1.0, description="A heatmap whose peak is "
                                                                   "lower is a missing point.")
    log_every: int = Field(20, ge=1, description="Steps between points of the loss curves.")
    sample_every: int = Field(300, ge=1, description="Steps between sample grids (PNG).")
    sample_count: int = Field(4, ge=1, le=64, description="Images per sample grid.")

    @model_validator(mode="after")
    def _divisible(self) -> "PosenetParams":
        check_depth("posenet", self.height, self.width, self.downsamplings, "downsamplings")
        return self
