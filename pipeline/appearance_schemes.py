"""What each appearance scheme does, stated once [paper, section 4.4; docs/method.md §5].

Training (:mod:`pipeline.training.appearance`), inference (:mod:`pipeline.inference`), the
applications and the benchmarks read these records instead of testing scheme names.

| scheme     | target maps S_t fed to G_A            | G_S                  | style regions    | D_A condition |
|------------|---------------------------------------|----------------------|------------------|---------------|
| ``baseline``| none (G_A without maps)              | none                 | mask (or patch)  | pose heatmaps |
| ``ts_pred`` | G_S's prediction S~_Pt (softmax)     | pretrained, frozen   | ``loss.style``   | the maps      |
| ``ts_gt``   | the parser's map of the target S_Pt  | none                 | ``loss.style``   | the maps      |
| ``e2e``     | G_S's prediction S~_Pt (softmax)     | pretrained, then trained jointly in the last ``appearance.joint_iterations`` steps | ``loss.style`` | the maps |

Frozen in every scheme: the VGG16 features (content and style losses) and the pose detector
(pose loss).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Where a scheme's target maps S_t come from.
MapSource = Literal["none", "predicted", "parser"]
#: What a scheme does with the semantic network G_S.
SemanticUse = Literal["none", "frozen", "joint"]


@dataclass(frozen=True)
class Scheme:
    """One training scheme of the appearance network.

    maps: where S_t comes from (``none``: G_A renders without semantic maps);
    semantic: G_S unused, used frozen (from models/semantic.safetensors) or trained jointly
    at the end (its weights then ship in models/appearance/semantic.safetensors);
    mask_style: the style regions when ``loss.style`` is ``semantic`` and there are no maps.
    """

    name: str
    maps: MapSource
    semantic: SemanticUse

    @property
    def uses_maps(self) -> bool:
        """G_A takes source and target semantic maps (and D_A is conditioned on them; without
        maps D_A is conditioned on the pose heatmaps)."""
        return self.maps != "none"

    @property
    def uses_semantic_network(self) -> bool:
        """The scheme runs G_S (its prediction is the target map)."""
        return self.semantic != "none"

    def style(self, style: str) -> str:
        """The style-loss regions for ``loss.style``: ``semantic`` needs maps, so a scheme
        without them uses the 10 body-part ``mask`` regions instead [paper: the baseline uses
        the mask style]."""
        return "mask" if (not self.uses_maps and style == "semantic") else style


#: The schemes by name, in the paper's order.
SCHEMES: dict[str, Scheme] = {s.name: s for s in (
    Scheme("baseline", maps="none", semantic="none"),
    Scheme("ts_pred", maps="predicted", semantic="frozen"),
    Scheme("ts_gt", maps="parser", semantic="none"),
    Scheme("e2e", maps="predicted", semantic="joint"),
)}

#: The paper's comparisons as params overrides (benchmarks): the four schemes with the
#: semantic style, and e2e with the two other style losses.
VARIANTS: dict[str, dict[str, str]] = {
    "baseline": {"appearance.scheme": "baseline", "loss.style": "semantic"},  # mask style
    "ts_pred": {"appearance.scheme": "ts_pred", "loss.style": "semantic"},
    "ts_gt": {"appearance.scheme": "ts_gt", "loss.style": "semantic"},
    "e2e": {"appearance.scheme": "e2e", "loss.style": "semantic"},
    "e2e-mask": {"appearance.scheme": "e2e", "loss.style": "mask"},
    "e2e-patch": {"appearance.scheme": "e2e", "loss.style": "patch"},
}


def scheme(name: str) -> Scheme:
    """The scheme called ``name``; ValueError naming the known ones."""
    if name not in SCHEMES:
        raise ValueError(f"unknown scheme {name!r}; known: {', '.join(SCHEMES)}")
    return SCHEMES[name]
