"""The semantic scheme: trains G_S (with E_S, E_P) against pseudo targets, and D_S (docs/method.md §5).

One step (pix2pix order [code, pytorch-CycleGAN-and-pix2pix]):
1. forward: logits = G_S(S_Ps, P_s, M_Ps, P*_t, M*_Pt), S~_Pt = softmax(logits);
2. D_S step (when ``adv_weight > 0``): real = (one-hot S*_Pt, P*_t), fake = (S~_Pt detached,
   P*_t), scored in ONE forward of the concatenated batch (instance norm is per sample, so this
   equals two forwards; DDP needs one forward per backward);
3. G_S step: L = L_ce(S~_Pt, S*_Pt, M*_Pt) + adv_weight * L_adv(D_S(S~_Pt, P*_t)), with D_S
   frozen and called unwrapped (its DDP wrapper is for its own step only).

Batch keys (from :mod:`pipeline.datasets.pairs`): src_labels (B, H, W) int64,
src_heatmaps / tgt_heatmaps (B, 18, H, W), src_pose_mask / tgt_pose_mask (B, 1, H, W),
tgt_labels (B, H, W) int64, and for deformable skips theta (B, 10, 2, 3), src_parts
(B, 10, H, W), part_valid (B, 10) bool.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from pipeline.config.semantic import SemanticParams
from pipeline.inference.semantic_inputs import SEMANTIC_INPUT_KEYS as INPUT_KEYS
from pipeline.inference.semantic_inputs import one_hot_maps, semantic_logits
from pipeline.losses.adversarial import AdversarialLoss
from pipeline.losses.semantic_ce import pose_weighted_ce
from pipeline.models.blocks import to_memory_format
from pipeline.models.semantic import SemanticArch, SemanticDiscriminator, SemanticGenerator
from pipeline.torch_utils.device import autocast, grad_scaler
from pipeline.torch_utils.distributed import DistInfo
from pipeline.training.scheme import TrainingScheme, set_requires_grad


def arch_of(params: SemanticParams) -> SemanticArch:
    """The network architecture of a ``semantic`` params section."""
    return SemanticArch(height=params.height, width=params.width, channels=params.channels,
                        depth=params.depth, max_channels=params.max_channels, norm=params.norm,
                        deformable_skips=params.deformable_skips,
                        disc_channels=params.disc_channels, disc_layers=params.disc_layers,
                        heatmap_sigma=params.heatmap_sigma)


class SemanticScheme(TrainingScheme):
    """G_S + D_S with Adam, AMP, channels_last and DDP (see the module docstring)."""

    name = "semantic"

    def __init__(self, params: SemanticParams, dist: DistInfo) -> None:
        super().__init__(dist, params, arch_of(params))
        self.adv_weight = float(params.adv_weight)
        g = self.place(SemanticGenerator(self.arch))
        d = self.place(SemanticDiscriminator(self.arch))
        self.networks = {"generator": g, "discriminator": d}
        betas = (params.beta1, params.beta2)
        self.optimizers = {"generator": torch.optim.Adam(g.parameters(), params.lr, betas),
                           "discriminator": torch.optim.Adam(d.parameters(), params.disc_lr,
                                                             betas)}
        self.scaler = grad_scaler(self.device, params.amp)
        self.adversarial = AdversarialLoss(params.adversarial)
        self.g_train, self.d_train = self.wrap(g), self.wrap(d)
        self.input: dict[str, torch.Tensor] = {}
        self.logits: torch.Tensor | None = None

    @property
    def generator(self) -> SemanticGenerator:
        return self.networks["generator"]  # type: ignore[return-value]

    @property
    def discriminator(self) -> SemanticDiscriminator:
        return self.networks["discriminator"]  # type: ignore[return-value]

    # ---------------------------------------------------------------- template
    def set_input(self, batch: dict[str, torch.Tensor]) -> None:
        self.input = self.to_device(batch, INPUT_KEYS)

    def _g_args(self, x: dict[str, torch.Tensor], net: nn.Module) -> torch.Tensor:
        return semantic_logits(net, x, self.arch.deformable_skips, self.channels_last)

    def forward(self) -> None:
        with autocast(self.device, self.amp):
            self.logits = self._g_args(self.input, self.g_train)

    def optimize_parameters(self) -> dict[str, torch.Tensor]:
        x = self.input
        self.forward()
        assert self.logits is not None
        opt_g, opt_d = self.optimizers["generator"], self.optimizers["discriminator"]
        losses: dict[str, torch.Tensor] = {}
        tgt_heat = to_memory_format(x["tgt_heatmaps"], self.channels_last)
        if self.adv_weight > 0:
            set_requires_grad(self.discriminator, True)
            with autocast(self.device, self.amp):
                fake = self.logits.detach().float().softmax(1)
                real = one_hot_maps(x["tgt_labels"])
                scores = self.d_train(to_memory_format(torch.cat([real, fake]), self.channels_last),
                                      torch.cat([tgt_heat, tgt_heat]))
                b = fake.shape[0]
                loss_d = self.adversarial.discriminator(scores[:b], scores[b:])
            opt_d.zero_grad(set_to_none=True)
            self.scaler.scale(loss_d).backward()
            self.scaler.step(opt_d)
            losses["loss_d"] = loss_d.detach()
            set_requires_grad(self.discriminator, False)
        with autocast(self.device, self.amp):
            loss_ce = pose_weighted_ce(self.logits, x["tgt_labels"], x["tgt_pose_mask"])
            loss_g = loss_ce
            if self.adv_weight > 0:
                probs = self.logits.float().softmax(1)
                loss_adv = self.adversarial.generator(self.discriminator(
                    to_memory_format(probs, self.channels_last), tgt_heat))
                loss_g = loss_ce + self.adv_weight * loss_adv
                losses["loss_g_adv"] = loss_adv.detach()
        opt_g.zero_grad(set_to_none=True)
        self.scaler.scale(loss_g).backward()
        self.scaler.step(opt_g)
        self.scaler.update()
        if self.adv_weight > 0:
            set_requires_grad(self.discriminator, True)
        losses["loss_ce"] = loss_ce.detach()
        losses["loss_g"] = loss_g.detach()
        return losses

    @torch.no_grad()
    def predict(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits (B, 10, H, W) float32 of G_S for a batch, in eval mode."""
        with self.evaluating(self.generator), autocast(self.device, self.amp):
            return self._g_args(self.to_device(batch, INPUT_KEYS), self.generator).float()

    def state_dict(self) -> dict[str, Any]:
        return super().state_dict()
