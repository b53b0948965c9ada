"""The forward pass of the appearance schemes, shared by training and inference: the target
maps S_t of a scheme and the cycle I_s -> I~_Pt -> I~_Ps through G_A (docs/method.md §5).

:class:`Renderer` holds no weights of its own: it is told which generator and which G_S to run
(the trained ones, their DDP wrappers, or the frozen ones), so that the training scheme
(:class:`pipeline.training.appearance.scheme.AppearanceScheme`) and inference on trained model
files (:class:`pipeline.inference.trained.TrainedModels`) compute exactly the same images. What
each scheme feeds G_A is :data:`pipeline.appearance_schemes.SCHEMES`.

Batch keys (``x``): those of :class:`pipeline.datasets.pairs.PseudoPairDataset` /
``TestPairDataset`` at the image resolution with ``cycle=True`` (the back keys only when the
cycle goes back), and for the schemes with G_S, ``sem``: the same pair at G_S's map
resolution (keys :data:`pipeline.inference.semantic_inputs.SEMANTIC_INPUT_KEYS`).
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.appearance_schemes import scheme as scheme_named
from pipeline.inference.semantic_inputs import one_hot_maps, semantic_logits
from pipeline.labels import NUM_LABELS
from pipeline.models.appearance import AppearanceArch
from pipeline.models.blocks import to_memory_format
from pipeline.models.semantic import SemanticGenerator


@dataclass
class CycleOutput:
    """One forward of the cycle: the target maps S_t (B, 10, H, W) soft (None in baseline),
    G_S's logits at map resolution (None without G_S), I~_Pt and I~_Ps (B, 3, H, W); the
    source maps of the way back (B, 10, H, W) (the parser's one-hot S_Ps, or e2e's soft S~_Ps;
    None in baseline) and G_S's logits of S~_Ps at map resolution (e2e only)."""

    tgt_maps: torch.Tensor | None
    logits: torch.Tensor | None
    fake_t: torch.Tensor
    fake_s: torch.Tensor | None
    src_maps: torch.Tensor | None = None
    back_logits: torch.Tensor | None = None


@dataclass
class Renderer:
    """The target maps and the cycle of ``scheme`` for G_A of architecture ``arch``.

    semantic: the (pretrained) G_S, whose ``arch`` says how to call it; None for the schemes
    without it. channels_last: run the networks on channels-last inputs.
    """

    scheme: str
    arch: AppearanceArch
    semantic: SemanticGenerator | None = None
    channels_last: bool = False

    def __post_init__(self) -> None:
        self.spec = scheme_named(self.scheme)
        if self.spec.uses_semantic_network and self.semantic is None:
            raise ValueError(f"appearance.scheme = {self.scheme!r} needs the semantic network")
        if self.arch.use_maps != self.spec.uses_maps:
            raise ValueError(f"G_A {'with' if self.arch.use_maps else 'without'} semantic "
                             f"maps does not fit scheme {self.scheme!r}")

    def target_maps(self, x: dict[str, Any], net_s: nn.Module | None = None,
                    train_semantic: bool = False
                    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(S_t at image resolution or None, G_S's logits or None) for the scheme.

        net_s: the G_S to run (default: :attr:`semantic`; e.g. its DDP wrapper in training);
        it runs with gradients only when ``train_semantic``."""
        if self.spec.maps == "none":
            return None, None
        if self.spec.maps == "parser":
            return one_hot_maps(x["tgt_labels"]), None
        assert self.semantic is not None
        net = net_s if (net_s is not None and train_semantic) else self.semantic
        with nullcontext() if train_semantic else torch.no_grad():
            logits = semantic_logits(net, x["sem"], self.semantic.arch.deformable_skips,
                                     self.channels_last)
        return self._at_image_size(logits.float().softmax(1)), logits

    def _at_image_size(self, probs: torch.Tensor) -> torch.Tensor:
        """Maps (B, 10, h, w) at G_A's resolution (bilinear when the sizes differ)."""
        if tuple(probs.shape[-2:]) != (self.arch.height, self.arch.width):
            probs = F.interpolate(probs, size=(self.arch.height, self.arch.width),
                                  mode="bilinear", align_corners=False)
        return probs

    def mapped_back(self, x: dict[str, Any], logits: torch.Tensor,
                    net_s: nn.Module | None = None, train_semantic: bool = False
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """S~_Ps = G_S(S~_Pt, P_t, M_Pt -> P_s, M_Ps) [paper, E2E]: G_S maps its own target
        prediction (softmax of ``logits``, map resolution) back to the source pose, by the
        part affines target -> source. Returns (S~_Ps at image resolution, its logits).
        x["sem"] needs the way-back keys (``cycle=True``: back_theta, tgt_parts,
        back_part_valid)."""
        assert self.semantic is not None
        sem = x["sem"]
        net = net_s if (net_s is not None and train_semantic) else self.semantic
        with nullcontext() if train_semantic else torch.no_grad():
            args = [to_memory_format(t, self.channels_last) for t in (
                logits.float().softmax(1), sem["tgt_heatmaps"], sem["tgt_pose_mask"],
                sem["src_heatmaps"], sem["src_pose_mask"])]
            kw = ({"theta": sem["back_theta"], "src_parts": sem["tgt_parts"],
                   "part_valid": sem["back_part_valid"]}
                  if self.semantic.arch.deformable_skips else {})
            back = net(*args, **kw)
        return self._at_image_size(back.float().softmax(1)), back

    def generate(self, net: nn.Module, image: torch.Tensor, heat_from: torch.Tensor,
                 heat_to: torch.Tensor, maps_from: torch.Tensor | None,
                 maps_to: torch.Tensor | None, theta: torch.Tensor, parts: torch.Tensor,
                 valid: torch.Tensor) -> torch.Tensor:
        """One pass of G_A (``net``: the generator or its DDP wrapper) from pose ``heat_from``
        to ``heat_to``; the maps are passed only with ``arch.use_maps``, the part affines only
        with ``arch.deformable_skips``."""
        cl = self.channels_last
        kw: dict[str, Any] = {}
        if self.arch.use_maps:
            kw.update(src_maps=to_memory_format(maps_from, cl),
                      tgt_maps=to_memory_format(maps_to, cl))
        if self.arch.deformable_skips:
            kw.update(theta=theta, src_parts=parts, part_valid=valid)
        return net(to_memory_format(image, cl), to_memory_format(heat_from, cl),
                   to_memory_format(heat_to, cl), **kw)

    def cycle(self, x: dict[str, Any], net: nn.Module, net_s: nn.Module | None = None,
              train_semantic: bool = False, back: bool = True,
              tgt_maps: torch.Tensor | None = None) -> CycleOutput:
        """S_t, I~_Pt and (with ``back``) I~_Ps for the inputs ``x``.

        tgt_maps: (B, 10, H, W) target maps at image resolution that replace the scheme's S_t
        (texture transfer, manipulation: a given layout); G_S does not run then."""
        src_maps = one_hot_maps(x["src_labels"]) if self.arch.use_maps else None
        if tgt_maps is None:
            tgt_maps, logits = self.target_maps(x, net_s, train_semantic)
        else:
            if not self.arch.use_maps:
                raise ValueError(f"scheme {self.scheme!r} renders without semantic maps; "
                                 f"given target maps need ts_pred, ts_gt or e2e")
            want = (x["src_image"].shape[0], NUM_LABELS, self.arch.height, self.arch.width)
            if tuple(tgt_maps.shape) != want:
                raise ValueError(f"given target maps are {tuple(tgt_maps.shape)}, "
                                 f"expected {want}")
            logits = None
        fake_t = self.generate(net, x["src_image"], x["src_heatmaps"], x["tgt_heatmaps"],
                               src_maps, tgt_maps, x["theta"], x["src_parts"], x["part_valid"])
        fake_s, back_logits = None, None
        if back:
            if self.spec.maps_back and logits is not None:
                src_maps, back_logits = self.mapped_back(x, logits, net_s, train_semantic)
            fake_s = self.generate(net, fake_t, x["tgt_heatmaps"], x["src_heatmaps"],
                                   tgt_maps, src_maps, x["back_theta"], x["tgt_parts"],
                                   x["back_part_valid"])
        return CycleOutput(tgt_maps, logits, fake_t, fake_s, src_maps, back_logits)
