"""What each appearance scheme does, stated once [paper, section 4.4; docs/method.md §5].

Training (:mod:`pipeline.training.appearance`), inference (:mod:`pipeline.inference`), the
applications and the benchmarks read these records instead of testing scheme names.

| scheme     | target maps S_t fed to G_A            | source maps of the way back | G_S                  | style regions    | D_A condition |
|------------|---------------------------------------|-----------------------------|----------------------|------------------|---------------|
| ``baseline``| none (G_A without maps)              | none                        | none                 | mask (or patch)  | pose heatmaps |
| ``ts_pred`` | G_S's prediction S~_Pt (softmax)     | the parser's S_Ps           | pretrained, frozen   | ``loss.style``   | one-hot maps  |
| ``ts_gt``   | the parser's map of the target S_Pt  | the parser's S_Ps           | none                 | ``loss.style``   | one-hot maps  |
| ``e2e``     | G_S's prediction S~_Pt (softmax)     | S~_Ps = G_S(S~_Pt, P_t -> P_s) | pretrained, then trained jointly (with D_S) in the last ``appearance.joint_iterations`` steps | ``loss.style`` | one-hot maps |

D_A sees every image with a one-hot map [paper: D_A conditioned on the parsing; code, SPT demo:
one-hot parsing for real and generated images alike]: real images with their parser map,
generated ones with the one-hot argmax of the map they were rendered from, so that the kind of
map cannot tell a fake, and D_A's gradient does not reach G_S through its condition.

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
    at the end (its weights then ship in models/appearance/semantic.safetensors); back: the
    source maps of the cycle's way back (:attr:`maps_back`);
    mask_style: the style regions when ``loss.style`` is ``semantic`` and there are no maps.
    """

    name: str
    maps: MapSource
    semantic: SemanticUse
    back: Literal["none", "parser", "mapped"] = "parser"

    @property
    def maps_back(self) -> bool:
        """The cycle's way back uses S~_Ps, G_S's map of S~_Pt taken back to the source
        pose, in G_A's input and in the second style term [paper, E2E: L_sty(I~_Ps, I~_Pt,
        S~_Ps, S~_Pt)]; otherwise the parser's S_Ps."""
        return self.back == "mapped"

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
    Scheme("baseline", maps="none", semantic="none", back="none"),
    Scheme("ts_pred", maps="predicted", semantic="frozen"),
    Scheme("ts_gt", maps="parser", semantic="none"),
    Scheme("e2e", maps="predicted", semantic="joint", back="mapped"),
)}

#: The paper's comparisons as params overrides (benchmarks) [paper, section 4.4 and its loss
#: ablation]: the four schemes with the semantic style, then the loss-function ablation, which
#: starts from TS-GT: (a) mask style, (b) patch style, (c) no face loss, each against TS-GT
#: with the semantic style. Every variant states the keys the others set, so that each is
#: the same run whatever params.yaml holds for them.
VARIANTS: dict[str, dict[str, str]] = {
    "baseline": {"appearance.scheme": "baseline", "loss.style": "semantic",
                 "loss.face": "true"},                                     # mask style
    "ts_pred": {"appearance.scheme": "ts_pred", "loss.style": "semantic", "loss.face": "true"},
    "ts_gt": {"appearance.scheme": "ts_gt", "loss.style": "semantic", "loss.face": "true"},
    "e2e": {"appearance.scheme": "e2e", "loss.style": "semantic", "loss.face": "true"},
    "ts_gt-mask": {"appearance.scheme": "ts_gt", "loss.style": "mask", "loss.face": "true"},
    "ts_gt-patch": {"appearance.scheme": "ts_gt", "loss.style": "patch", "loss.face": "true"},
    "ts_gt-noface": {"appearance.scheme": "ts_gt", "loss.style": "semantic",
                     "loss.face": "false"},
}


def scheme(name: str) -> Scheme:
    """The scheme called ``name``; ValueError naming the known ones."""
    if name not in SCHEMES:
        raise ValueError(f"unknown scheme {name!r}; known: {', '.join(SCHEMES)}")
    return SCHEMES[name]
