"""The appearance schemes: G_A (with E_A, E'_S), D_A and D_F trained by the unsupervised cycle
(docs/method.md §5), with the semantic maps of one of four schemes [paper, section 4.4].

One step, for a batch of training pairs (source s, pseudo target pose P_t = P*_t):

1. target maps S_t: ``ts_pred`` / ``e2e``: S~_Pt = softmax(G_S(S_Ps, P_s, M_Ps, P_t, M_Pt)),
   upsampled (bilinear) from the map to the image resolution; ``ts_gt``: the parser's map of
   the pseudo target S*_Pt (on test pairs: the target's own parser map); ``baseline``: none.
2. the cycle: I~_Pt = G_A(I_s, P_s, S_Ps -> P_t, S_t), warped by the part affines s -> t;
   I~_Ps = G_A(I~_Pt, P_t, S_t -> P_s, S_b), warped by the affines t -> s, where the way
   back's source map S_b is the parser's S_Ps, or in ``e2e`` S~_Ps = G_S(S~_Pt, P_t -> P_s)
   [paper, E2E]. The target image is never used.
3. D_A step: real (I_s, S_Ps), fakes (I~_Pt, S_t) and (I~_Ps, S_b), one forward of the
   concatenated batch; every map condition is one-hot (a generated image's is the argmax of
   its map: :mod:`pipeline.appearance_schemes`); ``baseline`` is conditioned on the pose
   heatmaps instead. In e2e's joint phase D_S (from models/semantic_discriminator.safetensors)
   steps too: real (one-hot S*_Pt, P_t), fake (S~_Pt, P_t).
   D_F step (``loss.face``): real head crops of I_s, fake head crops of both generated images;
   samples whose head box is undefined (no face point or no torso) are weighted 0.
4. G step: ``adv`` x (D_A(I~_Pt) + D_A(I~_Ps)) + ``face_weight`` x (D_F of both crops)
   + ``pose`` x (pose loss of I~_Pt against P_t + of I~_Ps against P_s)
   + ``content`` x MSE(VGG(I~_Ps), VGG(I_s)) + ``cycle_l1`` x mean |I~_Ps - I_s| [choice]
   + ``style_weight`` x (style(I_s, I~_Pt) + style(I~_Ps, I~_Pt)), regions by ``loss.style``
   (``semantic``: the 8 semantic regions of S_Ps / S_t, and S_b / S_t in the second term
   [paper: L_sty(I~_Ps, I~_Pt, S~_Ps, S~_Pt)]; ``mask``: the 10 body-part masks of
   P_s / P_t; ``patch``: squares around the joints). ``baseline`` has no maps: its style loss is
   ``mask`` unless ``loss.style`` is ``patch`` [paper: the baseline uses the mask style].
   ``e2e`` in its last ``appearance.joint_iterations`` steps also trains G_S, through S_t, with
   ``semantic_ce`` x L_ce against the pseudo target and ``semantic_adv`` x D_S's adversarial
   loss on S~_Pt (G_S's own losses, docs/method.md §5).

Frozen and never checkpointed: VGG (perceptual features), the pose detector, and G_S in
``ts_pred`` and in the first phase of ``e2e`` (its weights come from models/semantic.*).

Batch keys: those of :class:`pipeline.datasets.pairs.PseudoPairDataset` at the image resolution
with ``image_hw`` and ``cycle=True``, and, for the schemes with G_S, ``sem``: the same pair at
the semantic network's map resolution (``AppearancePairs`` builds both).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from pipeline.appearance_schemes import SCHEMES
from pipeline.config.appearance import AppearanceParams
from pipeline.config.loss import LossParams
from pipeline.inference.renderer import CycleOutput, Renderer
from pipeline.inference.semantic_inputs import (SEMANTIC_BACK_KEYS, SEMANTIC_INPUT_KEYS,
                                                one_hot_maps)
from pipeline.losses.adversarial import AdversarialLoss
from pipeline.losses.content import content_loss
from pipeline.losses.pose import pose_loss
from pipeline.losses.semantic_ce import pose_weighted_ce
from pipeline.losses.style import mask_regions, patch_regions, region_style_loss, semantic_regions
from pipeline.models.appearance import (AppearanceArch, AppearanceGenerator, FaceDiscriminator,
                                        ImageDiscriminator)
from pipeline.models.blocks import to_memory_format
from pipeline.models.semantic import SemanticDiscriminator, SemanticGenerator
from pipeline.models.vgg import VGGFeatures
from pipeline.torch_utils.crop import crop, head_boxes
from pipeline.torch_utils.device import autocast, grad_scaler
from pipeline.torch_utils.distributed import DistInfo
from pipeline.training.scheme import TrainingScheme, set_requires_grad

#: Batch keys (image resolution) the scheme moves to the device.
INPUT_KEYS = ("src_image", "src_labels", "src_heatmaps", "src_keypoints", "src_parts",
              "tgt_labels", "tgt_heatmaps", "tgt_keypoints", "tgt_parts", "theta",
              "part_valid", "back_theta", "back_part_valid", "tgt_image")


def arch_of(appearance: AppearanceParams, loss: LossParams) -> AppearanceArch:
    """The appearance networks' architecture of the ``appearance`` section (and the scheme)."""
    return AppearanceArch(height=appearance.height, width=appearance.width, channels=appearance.channels,
                          depth=appearance.depth, max_channels=appearance.max_channels, norm=appearance.norm,
                          deformable_skips=appearance.deformable_skips,
                          use_maps=SCHEMES[appearance.scheme].uses_maps, upsample=appearance.upsample,
                          image_skip=appearance.image_skip, blend=appearance.blend,
                          dropout=appearance.dropout, warped_skips=appearance.warped_skips,
                          heatmap_sigma=appearance.heatmap_sigma,
                          disc_channels=appearance.disc_channels, disc_layers=appearance.disc_layers,
                          face_size=appearance.face_size)


@dataclass
class Frozen:
    """The frozen helpers of the appearance losses: VGG features (content and style), the pose
    detector (pose loss; None when ``loss.pose`` is 0), the pretrained semantic generator
    (None for the schemes without it) and D_S as train_semantic left it (e2e's joint phase
    with ``loss.semantic_adv`` > 0 only; trained on from there)."""

    vgg: VGGFeatures
    posenet: nn.Module | None
    semantic: SemanticGenerator | None
    semantic_discriminator: SemanticDiscriminator | None = None


class AppearanceScheme(TrainingScheme):
    """G_A + D_A (+ D_F) with Adam, AMP, channels_last and DDP; G_S joins in e2e's last
    ``joint_iterations`` steps (module docstring)."""

    name = "appearance"

    def __init__(self, appearance: AppearanceParams, loss: LossParams, dist: DistInfo,
                 frozen: Frozen) -> None:
        super().__init__(dist, appearance, arch_of(appearance, loss))
        self.loss, self.scheme = loss, appearance.scheme
        self.face_clip = appearance.face_clip
        spec = SCHEMES[appearance.scheme]
        self.style = spec.style(loss.style)
        self.joint_from = (appearance.iterations - appearance.joint_iterations
                           if spec.semantic == "joint" else None)
        if spec.uses_semantic_network and frozen.semantic is None:
            raise ValueError(f"appearance.scheme = {self.scheme!r} needs the semantic network")
        if loss.pose > 0 and frozen.posenet is None:
            raise ValueError("loss.pose > 0 needs the pose detector")
        dev = self.device
        self.frozen = frozen
        for net in (frozen.vgg, frozen.posenet, frozen.semantic):
            if net is not None:
                net.to(dev).eval()
                # G_S of e2e keeps its gradients: it is only called under no_grad before the
                # joint phase (and DDP wraps it, which needs trainable parameters)
                set_requires_grad(net, net is frozen.semantic and self.joint_from is not None)
        nets: dict[str, nn.Module] = {"generator": self.place(AppearanceGenerator(self.arch)),
                                      "discriminator": self.place(ImageDiscriminator(self.arch))}
        if loss.face and loss.face_weight > 0:
            nets["face_discriminator"] = self.place(FaceDiscriminator(self.arch))
        betas = (appearance.beta1, appearance.beta2)
        opts = {k: torch.optim.Adam(v.parameters(), appearance.lr if k == "generator"
                                    else appearance.disc_lr, betas) for k, v in nets.items()}
        if self.joint_from is not None:
            # G_S is trained in the joint phase: its weights and optimiser are checkpointed
            nets["semantic_generator"] = frozen.semantic  # type: ignore[assignment]
            opts["semantic_generator"] = torch.optim.Adam(frozen.semantic.parameters(),
                                                          appearance.semantic_lr, betas)
            if loss.semantic_adv > 0 and appearance.joint_iterations > 0:
                if frozen.semantic_discriminator is None:
                    raise ValueError("loss.semantic_adv > 0 in e2e needs D_S "
                                     "(models/semantic_discriminator.safetensors)")
                # trainable (DDP wraps it); Adam at appearance.disc_lr, LSGAN or vanilla
                # as loss.adversarial (train_semantic's semantic.* keys are not read here)
                d_s = self.place(frozen.semantic_discriminator)
                nets["semantic_discriminator"] = d_s  # type: ignore[assignment]
                opts["semantic_discriminator"] = torch.optim.Adam(d_s.parameters(),
                                                                  appearance.disc_lr, betas)
        self.networks, self.optimizers = nets, opts
        self.scaler = grad_scaler(dev, appearance.amp)
        self.adversarial = AdversarialLoss(loss.adversarial)
        self.train_nets = {k: self.wrap(v) for k, v in nets.items()}
        self.renderer = Renderer(self.scheme, self.arch, frozen.semantic, self.channels_last)
        self.step = 0
        self.input: dict[str, Any] = {}
        self.out: CycleOutput | None = None

    # ---------------------------------------------------------------- properties
    @property
    def generator(self) -> AppearanceGenerator:
        return self.networks["generator"]  # type: ignore[return-value]

    @property
    def joint(self) -> bool:
        """True in e2e's joint phase (G_S trained)."""
        return self.joint_from is not None and self.step >= self.joint_from

    def train(self, mode: bool = True) -> None:
        super().train(mode)
        for net in (self.frozen.vgg, self.frozen.posenet):
            if net is not None:
                net.eval()
        if self.frozen.semantic is not None:
            self.frozen.semantic.train(mode and self.joint)
        if "semantic_discriminator" in self.networks:
            self.networks["semantic_discriminator"].train(mode and self.joint)

    # ---------------------------------------------------------------- inputs
    def _to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        x = self.to_device(batch, INPUT_KEYS)
        if "sem" in batch:
            x["sem"] = self.to_device(batch["sem"], SEMANTIC_INPUT_KEYS + SEMANTIC_BACK_KEYS)
        return x

    def set_input(self, batch: dict[str, Any]) -> None:
        self.input = self._to_device(batch)

    # ---------------------------------------------------------------- forward
    def target_maps(self, x: dict[str, Any], train_semantic: bool
                    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(S_t at image resolution or None, G_S's logits or None) for the scheme."""
        net_s = self.train_nets.get("semantic_generator", self.frozen.semantic)
        return self.renderer.target_maps(x, net_s, train_semantic)

    def cycle(self, x: dict[str, Any], net: nn.Module, train_semantic: bool = False,
              back: bool = True) -> CycleOutput:
        """S_t, I~_Pt and (with ``back``) I~_Ps for the inputs ``x``."""
        net_s = self.train_nets.get("semantic_generator", self.frozen.semantic)
        return self.renderer.cycle(x, net, net_s, train_semantic, back)

    def forward(self) -> None:
        with autocast(self.device, self.amp):
            self.out = self.cycle(self.input, self.train_nets["generator"],
                                  train_semantic=self.joint)

    # ---------------------------------------------------------------- losses
    def _condition(self, maps: torch.Tensor | None, heatmaps: torch.Tensor) -> torch.Tensor:
        """D_A's condition: the one-hot argmax of ``maps`` (one-hot maps stay as they are), or
        the pose heatmaps without maps (baseline)."""
        if not self.arch.use_maps:
            return to_memory_format(heatmaps, self.channels_last)
        assert maps is not None
        hard = one_hot_maps(maps.detach().argmax(1), maps.dtype)
        return to_memory_format(hard, self.channels_last)

    def _regions(self, x: dict[str, Any], side: str, maps: torch.Tensor | None
                 ) -> torch.Tensor:
        """Style regions of the source (side 'src') or target ('tgt') frame."""
        if self.style == "semantic":
            assert maps is not None
            return semantic_regions(maps)
        if self.style == "mask":
            return mask_regions(x[f"{side}_parts"])
        hw = (self.arch.height, self.arch.width)
        return patch_regions(x[f"{side}_keypoints"], hw, self.loss.patch_size * hw[0])

    def _faces(self, images: torch.Tensor, keypoints: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        theta, valid = head_boxes(keypoints, (self.arch.height, self.arch.width),
                                  clip=self.face_clip)
        return crop(images, theta.to(images.dtype), self.arch.face_size), valid.float()

    def _discriminator_step(self, x: dict[str, Any], out: CycleOutput,
                            src_maps: torch.Tensor | None) -> dict[str, torch.Tensor]:
        assert out.fake_s is not None
        losses: dict[str, torch.Tensor] = {}
        b = out.fake_t.shape[0]
        names = [k for k in ("discriminator", "face_discriminator") if k in self.networks]
        if self.joint and "semantic_discriminator" in self.networks:
            names.append("semantic_discriminator")
        for k in names:
            set_requires_grad(self.networks[k], True)
        with autocast(self.device, self.amp):
            fake_t, fake_s = out.fake_t.detach(), out.fake_s.detach()
            tgt_maps = out.tgt_maps.detach() if out.tgt_maps is not None else None
            images = torch.cat([x["src_image"], fake_t, fake_s])
            cond = torch.cat([self._condition(src_maps, x["src_heatmaps"]),
                              self._condition(tgt_maps, x["tgt_heatmaps"]),
                              self._condition(out.src_maps, x["src_heatmaps"])])
            scores = self.train_nets["discriminator"](to_memory_format(images,
                                                                       self.channels_last),
                                                      cond)
            loss_d = self.adversarial.discriminator(scores[:b], scores[b:])
            total = loss_d
            losses["loss_d"] = loss_d.detach()
            if "face_discriminator" in self.networks:
                kp = torch.cat([x["src_keypoints"], x["tgt_keypoints"], x["src_keypoints"]])
                crops, valid = self._faces(images, kp)
                fscores = self.train_nets["face_discriminator"](
                    to_memory_format(crops, self.channels_last))
                loss_df = self.adversarial.discriminator(fscores[:b], fscores[b:],
                                                         valid[:b], valid[b:])
                total = total + loss_df
                losses["loss_d_face"] = loss_df.detach()
            if "semantic_discriminator" in names:
                assert out.logits is not None
                sem = x["sem"]
                d_s = self.train_nets["semantic_discriminator"]
                maps = torch.cat([one_hot_maps(sem["tgt_labels"], out.logits.dtype),
                                  out.logits.detach().softmax(1)])
                heat = torch.cat([sem["tgt_heatmaps"], sem["tgt_heatmaps"]])
                sscores = d_s(to_memory_format(maps, self.channels_last),
                              to_memory_format(heat, self.channels_last))
                loss_ds = self.adversarial.discriminator(sscores[:b], sscores[b:])
                total = total + loss_ds
                losses["loss_d_semantic"] = loss_ds.detach()
        for k in names:
            self.optimizers[k].zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        for k in names:
            self.scaler.step(self.optimizers[k])
            set_requires_grad(self.networks[k], False)
        return losses

    def generator_losses(self, x: dict[str, Any], out: CycleOutput,
                         src_maps: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Every weighted generator loss (float32 scalars, not yet summed), by name."""
        assert out.fake_s is not None
        L, loss = {}, self.loss
        b = out.fake_t.shape[0]
        both = torch.cat([out.fake_t, out.fake_s])
        if loss.adv > 0:
            cond = torch.cat([self._condition(out.tgt_maps, x["tgt_heatmaps"]),
                              self._condition(out.src_maps, x["src_heatmaps"])])
            scores = self.networks["discriminator"](to_memory_format(both, self.channels_last),
                                                    cond)
            # both generated images, weight `adv` each: the mean over the two halves, doubled
            L["loss_g_adv"] = 2 * loss.adv * self.adversarial.generator(scores)
        if "face_discriminator" in self.networks:
            crops, valid = self._faces(both, torch.cat([x["tgt_keypoints"],
                                                        x["src_keypoints"]]))
            fscores = self.networks["face_discriminator"](to_memory_format(crops,
                                                                           self.channels_last))
            L["loss_g_face"] = 2 * loss.face_weight * self.adversarial.generator(fscores, valid)
        if loss.pose > 0:
            posenet = self.frozen.posenet
            L["loss_pose"] = loss.pose * (pose_loss(posenet, out.fake_t, x["tgt_heatmaps"])
                                          + pose_loss(posenet, out.fake_s, x["src_heatmaps"]))
        if loss.cycle_l1 > 0:
            L["loss_cycle_l1"] = loss.cycle_l1 * (out.fake_s.float()
                                                  - x["src_image"].float()).abs().mean()
        if loss.content > 0 or loss.style_weight > 0:
            feats = self.frozen.vgg(torch.cat([x["src_image"], out.fake_t, out.fake_s]))
            f_src = {k: v[:b] for k, v in feats.items()}
            f_t = {k: v[b:2 * b] for k, v in feats.items()}
            f_s = {k: v[2 * b:] for k, v in feats.items()}
            if loss.content > 0:
                L["loss_content"] = loss.content * content_loss(f_s, f_src)
            if loss.style_weight > 0:
                r_src = self._regions(x, "src", src_maps)
                r_back = (self._regions(x, "src", out.src_maps) if out.back_logits is not None
                          else r_src)                     # e2e: S~_Ps [paper]
                r_tgt = self._regions(x, "tgt", out.tgt_maps)
                L["loss_style"] = loss.style_weight * (
                    region_style_loss(f_src, r_src, f_t, r_tgt)
                    + region_style_loss(f_s, r_back, f_t, r_tgt))
        if self.joint and loss.semantic_ce > 0:
            assert out.logits is not None
            sem = x["sem"]
            L["loss_semantic_ce"] = loss.semantic_ce * pose_weighted_ce(
                out.logits, sem["tgt_labels"], sem["tgt_pose_mask"])
        if self.joint and "semantic_discriminator" in self.networks:
            assert out.logits is not None
            sem = x["sem"]
            sscores = self.networks["semantic_discriminator"](
                to_memory_format(out.logits.softmax(1), self.channels_last),
                to_memory_format(sem["tgt_heatmaps"], self.channels_last))
            L["loss_semantic_adv"] = loss.semantic_adv * self.adversarial.generator(sscores)
        return {k: v.float() for k, v in L.items()}

    def optimize_parameters(self) -> dict[str, torch.Tensor]:
        x = self.input
        self.forward()
        out = self.out
        assert out is not None
        src_maps = one_hot_maps(x["src_labels"]) if self.arch.use_maps else None
        losses = self._discriminator_step(x, out, src_maps)
        trained = ["generator"] + (["semantic_generator"] if self.joint else [])
        with autocast(self.device, self.amp):
            parts = self.generator_losses(x, out, src_maps)
            loss_g = torch.stack(list(parts.values())).sum()
        for k in trained:
            self.optimizers[k].zero_grad(set_to_none=True)
        self.scaler.scale(loss_g).backward()
        for k in trained:
            self.scaler.step(self.optimizers[k])
        self.scaler.update()
        for k in ("discriminator", "face_discriminator", "semantic_discriminator"):
            if k in self.networks:
                set_requires_grad(self.networks[k], True)
        losses.update({k: v.detach() for k, v in parts.items()})
        losses["loss_g"] = loss_g.detach()
        self.step += 1
        return losses

    # ---------------------------------------------------------------- inference
    @torch.no_grad()
    def generate(self, batch: dict[str, Any], back: bool = False) -> CycleOutput:
        """The cycle's outputs for a batch, in eval mode (float32, on the device)."""
        with self.evaluating(self.generator, self.frozen.semantic), \
                autocast(self.device, self.amp):
            out = self.cycle(self._to_device(batch), self.generator, back=back)
        f = lambda t: t.float() if t is not None else None  # noqa: E731
        return CycleOutput(f(out.tgt_maps), f(out.logits), out.fake_t.float(), f(out.fake_s),
                           f(out.src_maps), f(out.back_logits))

    @torch.no_grad()
    def predict(self, batch: dict[str, Any]) -> torch.Tensor:
        """I~_Pt (B, 3, H, W) float32 in [-1, 1] for a batch, in eval mode."""
        return self.generate(batch).fake_t

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["step"] = self.step
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.step = int(state["step"])
