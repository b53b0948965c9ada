"""The pose-detector scheme: trains the ResNet-generator heatmap network (docs/method.md §5, pose loss).

One step: H~ = PoseNet(image) and the foreground-weighted MSE against the target heatmaps H
(the Gaussians of the true keypoints, all zero for a missing point)
[code, SPT: a ResNet generator 3 -> 18 trained beforehand to regress heatmaps]; Adam:

    L = mean over B x 18 x H x W of (1 + w * H) * (H~ - H)^2,  w = posenet.foreground_weight

[choice] The weight: at the default 64 px input a keypoint's Gaussian (sigma 1.5 px) covers
about 0.35% of its channel, so with the plain MSE (weight 0) the all-zero output is a deep
local minimum: measured on the default data, 600 steps of plain MSE end with peaks of ~0.05
and test PCKh@0.5 0.01 (0.18 when every argmax is taken, however low). With weight 50 the
same steps reach ~0.64, the peaks ~0.7. The background term is unchanged, so far from any
keypoint the detector is still pushed to 0, and at a keypoint the target is still the
Gaussian: the pose loss's targets.

Batch keys (from :class:`pipeline.datasets.images.PoseImageDataset`): image (B, 3, H, W) in
[-1, 1], heatmaps (B, 18, H, W).
"""
from __future__ import annotations

import torch

from pipeline.config.posenet import PosenetParams
from pipeline.models.blocks import to_memory_format
from pipeline.models.posenet import PoseNet, PosenetArch
from pipeline.torch_utils.device import autocast, grad_scaler
from pipeline.torch_utils.distributed import DistInfo
from pipeline.training.scheme import TrainingScheme

#: Batch keys the scheme moves to the device.
INPUT_KEYS = ("image", "heatmaps")


def heatmap_loss(pred: torch.Tensor, target: torch.Tensor,
                 foreground_weight: float) -> torch.Tensor:
    """Foreground-weighted MSE of heatmaps (B, 18, H, W): mean of (1 + w * target) *
    (pred - target)^2, in float32; w = 0 gives the plain MSE."""
    pred, target = pred.float(), target.float()
    return ((1.0 + foreground_weight * target) * (pred - target).square()).mean()


def arch_of(params: PosenetParams) -> PosenetArch:
    """The network architecture of a ``posenet`` params section."""
    return PosenetArch(height=params.height, width=params.width, channels=params.channels,
                       blocks=params.blocks, downsamplings=params.downsamplings,
                       norm=params.norm)


class PosenetScheme(TrainingScheme):
    """PoseNet with Adam, AMP, channels_last and DDP (see the module docstring)."""

    name = "posenet"

    def __init__(self, params: PosenetParams, dist: DistInfo) -> None:
        super().__init__(dist, params, arch_of(params))
        net = self.place(PoseNet(self.arch))
        self.networks = {"posenet": net}
        self.optimizers = {"posenet": torch.optim.Adam(net.parameters(), params.lr,
                                                       (params.beta1, params.beta2))}
        self.scaler = grad_scaler(self.device, params.amp)
        self.net_train = self.wrap(net)
        self.input: dict[str, torch.Tensor] = {}
        self.output: torch.Tensor | None = None

    @property
    def posenet(self) -> PoseNet:
        return self.networks["posenet"]  # type: ignore[return-value]

    # ---------------------------------------------------------------- template
    def set_input(self, batch: dict[str, torch.Tensor]) -> None:
        self.input = self.to_device(batch, INPUT_KEYS)

    def forward(self) -> None:
        with autocast(self.device, self.amp):
            self.output = self.net_train(to_memory_format(self.input["image"],
                                                          self.channels_last))

    def optimize_parameters(self) -> dict[str, torch.Tensor]:
        self.forward()
        assert self.output is not None
        loss = heatmap_loss(self.output, self.input["heatmaps"],
                                self.params.foreground_weight)
        opt = self.optimizers["posenet"]
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(opt)
        self.scaler.update()
        return {"loss_heatmap": loss.detach()}

    @torch.no_grad()
    def predict(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Heatmaps (B, 18, H, W) float32 of a batch's images, in eval mode."""
        image = to_memory_format(batch["image"].to(self.device), self.channels_last)
        with self.evaluating(self.posenet), autocast(self.device, self.amp):
            return self.posenet(image).float()
