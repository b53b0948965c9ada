"""One rendering of the applications: a source person, a target (pose, and maybe a layout),
the trained models -> the generated image and the target map it was rendered on.

The pair is built with :func:`pipeline.datasets.pairs.pair_item` (the datasets' own item) at
G_A's image resolution, and for the schemes with G_S once more at G_S's map resolution
(batch key ``sem``), then rendered by :meth:`pipeline.inference.trained.TrainedModels.render`
(the training scheme's forward, eval mode). With ``given_layout`` the target's parsing is the
target map S_t (one-hot at image resolution) in place of the scheme's.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pipeline.applications.errors import AppError
from pipeline.applications.person import Person
from pipeline.appearance_schemes import SCHEMES
from pipeline.artifacts.paths import Paths
from pipeline.datasets.pairs import PersonArrays, pair_item
from pipeline.inference.semantic_inputs import one_hot_maps
from pipeline.inference.trained import TrainedModels


@dataclass
class Rendering:
    """What one application made (all at G_A's image resolution h x w).

    image: (h, w, 3) uint8 RGB, I~_Pt. labels: (h, w) uint8 0..9, the target map S_t as
    labels (argmax), or None for ``baseline``. source_image: (h, w, 3) uint8, the source as
    G_A saw it; source_labels: (h, w) uint8, its parsing S_Ps as G_A saw it.
    target_keypoints: (18, 2) float32 (y, x) px of the h x w frame, -1 missing.
    map_source: where S_t came from ('G_S', 'target parsing (ts_gt)', 'given', 'none').
    """

    image: np.ndarray
    labels: np.ndarray | None
    source_image: np.ndarray
    source_labels: np.ndarray
    target_keypoints: np.ndarray
    scheme: str
    map_source: str


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, h, w) float in [-1, 1] -> (h, w, 3) uint8 RGB."""
    arr = ((image.detach().float().cpu().clamp(-1, 1) + 1.0) * 127.5).round()
    return arr.permute(1, 2, 0).numpy().astype(np.uint8)


def _batch(item: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v[None] for k, v in item.items()}


def models_file(models_dir: str) -> str:
    """G_A's file in the models folder (for messages)."""
    paths = Paths()
    return str(Path(models_dir) / paths.appearance_generator.relative_to(paths.models))


def render(models: TrainedModels, source: Person, target: PersonArrays,
           given_layout: bool = False, models_dir: str = "models") -> Rendering:
    """Render ``source`` in ``target``'s pose; with ``given_layout``, on the target's parsing
    (``target.labels``) instead of the scheme's target map. :class:`AppError` where the models'
    scheme cannot do it (baseline has no maps; ts_gt needs the target's parsing)."""
    scheme, spec = models.scheme, SCHEMES[models.scheme]
    if given_layout and not spec.uses_maps:
        raise AppError(f"{models_file(models_dir)}: scheme {scheme} renders without semantic "
                       f"maps, so it cannot take a given layout; use models trained with "
                       f"ts_pred, ts_gt or e2e")
    if (given_layout or spec.maps == "parser") and target.labels is None:
        raise AppError(f"{models_file(models_dir)}: scheme {scheme} renders on the target's own "
                       f"parsing, which a pose given as numbers does not have; give the target "
                       f"as a photo or a prepared row, or use ts_pred / e2e models")
    hw = models.image_hw
    item = pair_item(source.arrays, target, hw, hw, sigma=models.image_sigma)
    batch = _batch(item)
    tgt_maps = None
    if given_layout:
        tgt_maps = one_hot_maps(batch["tgt_labels"])
        map_source = "given"
    elif models.semantic is not None:
        batch["sem"] = _batch(pair_item(source.arrays, target, models.map_hw,
                                        sigma=models.map_sigma))
        map_source = "G_S"
    else:
        map_source = f"target parsing ({scheme})" if spec.maps == "parser" else "none"
    out = models.render(batch, tgt_maps=tgt_maps)
    labels = None
    if out.tgt_maps is not None:
        labels = out.tgt_maps[0].argmax(0).numpy().astype(np.uint8)
    return Rendering(to_uint8(out.fake_t[0]), labels, to_uint8(item["src_image"]),
                     item["src_labels"].numpy().astype(np.uint8),
                     item["tgt_keypoints"].numpy(), scheme, map_source)
