"""The trained networks of the appearance stage, loaded from their model files for inference
(the evaluate stage and the applications).

    models = TrainedModels.load(Paths())              # models/appearance/ (+ G_S)
    out = models.render(batch)                        # CycleOutput: S_t, I~_Pt (, I~_Ps)

Files: ``models/appearance/generator.safetensors`` holds G_A, with the scheme and the training
parameters in its metadata; G_S comes from ``models/appearance/semantic.safetensors`` for
``e2e`` (jointly trained) and from ``models/semantic.safetensors`` for ``ts_pred``; ``ts_gt``
and ``baseline`` have none (:data:`pipeline.appearance_schemes.SCHEMES`). The pass itself is
:class:`pipeline.inference.renderer.Renderer`, the one the training scheme runs, in eval mode
(dropout off) and without gradients.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import torch

from pipeline.appearance_schemes import SCHEMES
from pipeline.artifacts.paths import Paths
from pipeline.inference.model_files import ModelFileError, load_network, read_model_file
from pipeline.inference.renderer import CycleOutput, Renderer
from pipeline.inference.semantic_inputs import SEMANTIC_BACK_KEYS, SEMANTIC_INPUT_KEYS
from pipeline.models.appearance import AppearanceGenerator
from pipeline.models.semantic import SemanticGenerator
from pipeline.torch_utils.device import autocast

@dataclass
class TrainedModels:
    """G_A and, for the schemes that use it, G_S, in eval mode on ``device``.

    generator: G_A; semantic: G_S or None; scheme: a name of :data:`SCHEMES`; params: the
    ``appearance`` and ``loss`` sections the generator was trained with (from its file, {} when
    absent); amp: "off" | "bf16" | "fp16" (autocast of the forward pass).
    """

    generator: AppearanceGenerator
    semantic: SemanticGenerator | None
    scheme: str
    params: dict[str, Any]
    device: torch.device
    amp: str = "off"

    def __post_init__(self) -> None:
        self.renderer = Renderer(self.scheme, self.generator.arch, self.semantic)
        for net in (self.generator, self.semantic):
            if net is not None:
                net.to(self.device).eval()

    @classmethod
    def load(cls, paths: Paths, device: str | torch.device = "cpu",
             amp: str = "off") -> "TrainedModels":
        """The models of ``paths.models``; :class:`ModelFileError` naming the file and the
        stage to run when one is missing or does not fit."""
        gen_file = paths.appearance_generator
        if not gen_file.is_file():
            raise ModelFileError(f"{gen_file}: missing; run `dvc repro train_appearance` first")
        _, meta = read_model_file(gen_file)
        scheme = meta.get("scheme", "")
        if scheme not in SCHEMES:
            raise ModelFileError(f"{gen_file}: metadata names scheme {scheme!r}, not one of "
                                 f"{', '.join(SCHEMES)}")
        dev = torch.device(device)
        generator = load_network(gen_file, AppearanceGenerator, "train_appearance", dev)
        semantic = None
        spec = SCHEMES[scheme]
        if spec.uses_semantic_network:
            joint = spec.semantic == "joint"
            semantic = load_network(
                paths.joint_semantic_model if joint else paths.semantic_model,
                SemanticGenerator, "train_appearance" if joint else "train_semantic", dev,
                why=f"scheme {scheme} needs G_S")
        params = json.loads(meta.get("params", "{}"))
        return cls(generator, semantic, scheme, params, dev, amp)

    @property
    def image_hw(self) -> tuple[int, int]:
        """G_A's image resolution (H, W) in px."""
        return self.generator.arch.height, self.generator.arch.width

    @property
    def image_sigma(self) -> float:
        """Heatmap sigma (px) of G_A's inputs (0 = 6 px x height / 256)."""
        return float(self.generator.arch.heatmap_sigma)

    @property
    def map_sigma(self) -> float:
        """Heatmap sigma (px) of G_S's inputs (0 = 6 px x height / 256; 0 without G_S)."""
        return float(self.semantic.arch.heatmap_sigma) if self.semantic is not None else 0.0

    @property
    def map_hw(self) -> tuple[int, int] | None:
        """G_S's map resolution (H, W) in px, or None when the scheme has no G_S."""
        if self.semantic is None:
            return None
        return self.semantic.arch.height, self.semantic.arch.width

    def _to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        x = {k: v.to(self.device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
        if "sem" in batch:
            x["sem"] = {k: batch["sem"][k].to(self.device)
                        for k in SEMANTIC_INPUT_KEYS + SEMANTIC_BACK_KEYS if k in batch["sem"]}
        return x

    @torch.no_grad()
    def back_from(self, batch: dict[str, Any], image: torch.Tensor, out: CycleOutput
                  ) -> torch.Tensor:
        """The cycle's way back from a given ``image`` (B, 3, H, W) in place of I~_Pt: G_A
        from P_t with ``out``'s target maps to P_s with its way-back maps (``out`` from
        :meth:`render` with ``back=True`` on the same ``batch``). float32 on the CPU."""
        x = self._to_device(batch)
        dev = lambda t: t.to(self.device) if t is not None else None  # noqa: E731
        with autocast(self.device, self.amp):
            y = self.renderer.generate(self.generator, image.to(self.device),
                                       x["tgt_heatmaps"], x["src_heatmaps"],
                                       dev(out.tgt_maps), dev(out.src_maps), x["back_theta"],
                                       x["tgt_parts"], x["back_part_valid"])
        return y.float().cpu()

    @torch.no_grad()
    def render(self, batch: dict[str, Any], back: bool = False,
               tgt_maps: torch.Tensor | None = None) -> CycleOutput:
        """S_t, I~_Pt and (with ``back``) the cycle's I~_Ps for a collated batch of pair items
        (module docstring of :mod:`pipeline.inference.renderer`), float32 on the CPU.

        tgt_maps: (B, 10, H, W) target maps at G_A's resolution in place of the scheme's S_t
        (texture transfer, manipulation); G_S does not run and ``sem`` is not needed then;
        a ValueError for ``baseline``, which renders without maps."""
        if self.semantic is not None and "sem" not in batch and tgt_maps is None:
            raise ValueError(f"scheme {self.scheme} needs the pair at G_S's map resolution "
                             f"{self.map_hw} under key 'sem'")
        x = self._to_device(batch)
        given = None if tgt_maps is None else tgt_maps.to(self.device)
        with autocast(self.device, self.amp):
            out = self.renderer.cycle(x, self.generator, back=back, tgt_maps=given)
        f = lambda t: t.float().cpu() if t is not None else None  # noqa: E731
        return CycleOutput(f(out.tgt_maps), f(out.logits), out.fake_t.float().cpu(),
                           f(out.fake_s), f(out.src_maps), f(out.back_logits))
