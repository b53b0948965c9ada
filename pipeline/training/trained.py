"""The trained networks of the appearance stage, loaded from their model files for inference
(the evaluate stage and the applications).

    models = TrainedModels.load(Paths())              # models/appearance/ (+ G_S)
    out = models.render(batch)                        # CycleOutput: S_t, I~_Pt (, I~_Ps)

Files: ``models/appearance/generator.safetensors`` holds G_A, with the scheme and the training
parameters in its metadata; G_S comes from ``models/appearance/semantic.safetensors`` for
``e2e`` (jointly trained) and from ``models/semantic.safetensors`` for ``ts_pred``; ``ts_gt``
and ``baseline`` have none. The pass itself is :class:`pipeline.training.rendering.Renderer`,
the one the training scheme runs, in eval mode (dropout off) and without gradients.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pipeline.artifacts import Paths
from pipeline.models.appearance import AppearanceGenerator
from pipeline.models.semantic import SemanticGenerator
from pipeline.torch_utils.device import autocast
from pipeline.training.checkpoint import CheckpointError, load_model_file, read_model_file
from pipeline.training.rendering import (SCHEMES, USES_SEMANTIC_NETWORK, CycleOutput,
                                         Renderer)
from pipeline.training.semantic_inputs import SEMANTIC_INPUT_KEYS

#: G_A's file inside the appearance stage's output folder.
GENERATOR_FILE = "generator.safetensors"
#: e2e's jointly trained G_S inside the appearance stage's output folder.
JOINT_SEMANTIC_FILE = "semantic.safetensors"


def appearance_dir(paths: Paths) -> Path:
    """models/appearance/ (train_appearance's output)."""
    return paths.models / "appearance"


def pretrained_semantic_file(paths: Paths) -> Path:
    """models/semantic.safetensors (train_semantic's output)."""
    return paths.models / "semantic.safetensors"


def posenet_file(paths: Paths) -> Path:
    """models/posenet.safetensors (train_posenet's output)."""
    return paths.models / "posenet.safetensors"


@dataclass
class TrainedModels:
    """G_A and, for the schemes that use it, G_S, in eval mode on ``device``.

    generator: G_A; semantic: G_S or None; scheme: one of :data:`SCHEMES`; params: the
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
        """The models of ``paths.models``; :class:`CheckpointError` naming the file and the
        stage to run when one is missing or does not fit."""
        folder = appearance_dir(paths)
        gen_file = folder / GENERATOR_FILE
        if not gen_file.is_file():
            raise CheckpointError(f"{gen_file}: missing; run `dvc repro train_appearance` "
                                  f"first")
        _, meta = read_model_file(gen_file)
        scheme = meta.get("scheme", "")
        if scheme not in SCHEMES:
            raise CheckpointError(f"{gen_file}: metadata names scheme {scheme!r}, not one of "
                                  f"{', '.join(SCHEMES)}")
        dev = torch.device(device)
        generator = load_model_file(gen_file, dev)
        if not isinstance(generator, AppearanceGenerator):
            raise CheckpointError(f"{gen_file}: holds a {type(generator).__name__}, not the "
                                  f"appearance generator")
        semantic = None
        if USES_SEMANTIC_NETWORK[scheme]:
            sem_file = (folder / JOINT_SEMANTIC_FILE if scheme == "e2e"
                        else pretrained_semantic_file(paths))
            stage = "train_appearance" if scheme == "e2e" else "train_semantic"
            if not sem_file.is_file():
                raise CheckpointError(f"{sem_file}: missing (scheme {scheme} needs G_S); "
                                      f"run `dvc repro {stage}` first")
            semantic = load_model_file(sem_file, dev)
            if not isinstance(semantic, SemanticGenerator):
                raise CheckpointError(f"{sem_file}: holds a {type(semantic).__name__}, not "
                                      f"the semantic generator")
        params = json.loads(meta.get("params", "{}"))
        return cls(generator, semantic, scheme, params, dev, amp)

    @property
    def image_hw(self) -> tuple[int, int]:
        """G_A's image resolution (H, W) in px."""
        return self.generator.arch.height, self.generator.arch.width

    @property
    def map_hw(self) -> tuple[int, int] | None:
        """G_S's map resolution (H, W) in px, or None when the scheme has no G_S."""
        if self.semantic is None:
            return None
        return self.semantic.arch.height, self.semantic.arch.width

    def _to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        x = {k: v.to(self.device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
        if "sem" in batch:
            x["sem"] = {k: batch["sem"][k].to(self.device) for k in SEMANTIC_INPUT_KEYS
                        if k in batch["sem"]}
        return x

    @torch.no_grad()
    def render(self, batch: dict[str, Any], back: bool = False,
               tgt_maps: torch.Tensor | None = None) -> CycleOutput:
        """S_t, I~_Pt and (with ``back``) the cycle's I~_Ps for a collated batch of pair items
        (module docstring of :mod:`pipeline.training.rendering`), float32 on the CPU.

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
                           f(out.fake_s))
