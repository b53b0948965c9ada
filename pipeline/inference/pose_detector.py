"""The trained pose detector (models/posenet.safetensors) as a keypoint finder: heatmaps
decoded at the network's input size and scaled to the frame of the images it was given.

    detector = PoseDetector.load(paths.posenet_model, threshold=0.1, device=torch.device("cpu"))
    keypoints = detector.keypoints(images)          # (B, H, W, 3) uint8 -> (B, 18, 2)

Used by the pose detector's own evaluation, the PCKh of generated images in the `evaluate`
stage (docs/method.md §6: PCKh against the wanted pose) and the applications.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.geometry import scale_keypoints
from pipeline.inference.model_files import load_network
from pipeline.models.posenet import PoseNet, heatmaps_to_keypoints


def decode_keypoints(heatmaps: torch.Tensor, threshold: float,
                     frame_hw: tuple[int, int]) -> np.ndarray:
    """(B, 18, h, w) heatmaps -> (B, 18, 2) float32 (y, x) keypoints in pixels of a
    ``frame_hw`` frame (decoded at the heatmaps' size, then scaled); -1 = peak below
    ``threshold``."""
    kp = heatmaps_to_keypoints(heatmaps, threshold).cpu().numpy()
    return scale_keypoints(kp, tuple(heatmaps.shape[-2:]), frame_hw)


@dataclass
class PoseDetector:
    """The frozen pose detector for uint8 images of any size: images are resized (bilinear)
    to its input resolution and the keypoints scaled back."""

    net: nn.Module
    threshold: float
    device: torch.device

    def __post_init__(self) -> None:
        self.net.to(self.device).eval()

    @classmethod
    def load(cls, path: Path, threshold: float, device: torch.device) -> "PoseDetector":
        """The detector of model file ``path`` (:class:`ModelFileError` when missing or not a
        pose detector)."""
        return cls(load_network(path, PoseNet, "train_posenet", device), threshold, device)

    @torch.no_grad()
    def keypoints(self, images: np.ndarray) -> np.ndarray:
        """images: (B, H, W, 3) uint8 -> (B, 18, 2) float32 (y, x) pixels of that frame, -1 =
        not found."""
        arch = self.net.arch
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
        x = (x / 127.5 - 1.0).to(self.device)
        hw = tuple(images.shape[1:3])
        if hw != (arch.height, arch.width):
            x = F.interpolate(x, size=(arch.height, arch.width), mode="bilinear",
                              align_corners=False)
        return decode_keypoints(self.net(x), self.threshold, hw)
