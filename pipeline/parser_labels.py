"""The label names of external human parsers (LIP, CIHP, ATR) and their default mapping to
SPT's 10 labels (docs/method.md §2), with the check of a user's mapping.

A leaf module (it imports only :mod:`pipeline.labels`): the params schema
(:mod:`pipeline.config`) validates ``parse.mapping`` with it, and the parse stage
(:mod:`pipeline.parsing.label_sets`) converts label maps with it. Targets are the 10 SPT label
names or the two side-less specials ``"nearest_arm"`` / ``"nearest_leg"``.
"""
from __future__ import annotations

import difflib

from pipeline.labels import LABEL_NAMES

#: Special targets for labels without a side.
NEAREST_ARM = "nearest_arm"
NEAREST_LEG = "nearest_leg"
SPECIAL_TARGETS: tuple[str, ...] = (NEAREST_ARM, NEAREST_LEG)
#: Valid mapping targets: the 10 SPT labels and the two specials.
TARGETS: tuple[str, ...] = LABEL_NAMES + SPECIAL_TARGETS

#: LIP (Look Into Person; Gong et al., CVPR 2017), 20 labels, index = value. Names as in the
#: dataset's README and docs/method.md §2; the label set of the LIP-SSL parser SPT used.
LIP_LABELS: tuple[str, ...] = (
    "Background", "Hat", "Hair", "Glove", "Sunglasses", "UpperClothes", "Dress", "Coat", "Socks",
    "Pants", "Jumpsuits", "Scarf", "Skirt", "Face", "Left-arm", "Right-arm", "Left-leg",
    "Right-leg", "Left-shoe", "Right-shoe")

#: CIHP (Crowd Instance-level Human Parsing; Gong et al., ECCV 2018, PGN), 20 labels. Same names
#: and order as LIP except value 10, which is Torso-skin in CIHP (Jumpsuits in LIP): checked in
#: CIHP tooling (class list 'Hat', 'Hair', 'Glove', 'Sunglasses', 'UpperClothes', 'Dress',
#: 'Coat', 'Socks', 'Pants', 'Torso-skin', 'Scarf', 'Skirt', 'Face', 'Left-arm', ...) and
#: Graphonomy/SCHP's CIHP class lists.
CIHP_LABELS: tuple[str, ...] = LIP_LABELS[:10] + ("Torso-skin",) + LIP_LABELS[11:]

#: ATR (Liang et al., "Deep Human Parsing with Active Template Regression", TPAMI 2015), 18 labels
#: as used by SCHP's ATR model, index = value.
ATR_LABELS: tuple[str, ...] = (
    "background", "hat", "hair", "sunglasses", "upper-clothes", "skirt", "pants", "dress", "belt",
    "left-shoe", "right-shoe", "face", "left-leg", "right-leg", "left-arm", "right-arm", "bag",
    "scarf")

#: SPT's own 10 labels (maps already in SPT labels; identity mapping).
SPT10_LABELS: tuple[str, ...] = LABEL_NAMES

#: label-set name -> label names (index = value).
LABEL_SETS: dict[str, tuple[str, ...]] = {
    "lip": LIP_LABELS, "cihp": CIHP_LABELS, "atr": ATR_LABELS, "spt10": SPT10_LABELS}

_LIP_DEFAULT: dict[str, str] = {  # the paper's default [choice, kept in params]
    "Background": "background",
    "Hat": "hair", "Hair": "hair",
    "Glove": NEAREST_ARM,
    "Sunglasses": "face", "Face": "face",
    "UpperClothes": "upperclothes", "Dress": "upperclothes", "Coat": "upperclothes",
    "Scarf": "upperclothes",
    "Socks": NEAREST_LEG,
    "Pants": "pants", "Jumpsuits": "pants",
    "Skirt": "skirt",
    "Left-arm": "leftArm", "Right-arm": "rightArm",
    "Left-leg": "leftLeg", "Right-leg": "rightLeg",
    "Left-shoe": "leftLeg", "Right-shoe": "rightLeg",
}

#: label-set name -> {source label name: target name}; targets are SPT label names or
#: "nearest_arm" / "nearest_leg". Choices beyond the paper's LIP list:
#: - CIHP Torso-skin (bare neck/chest/midriff) -> upperclothes [choice]: it lies inside the torso
#:   region; background would punch a hole in the person's silhouette.
#: - ATR belt -> pants [choice]: a belt is worn on the trousers' waistband (on a dress it becomes a
#:   thin pants strip; override to "upperclothes" for dress-heavy data).
#: - ATR bag -> background [choice]: a carried object, not part of the body layout.
#: - ATR dress, scarf -> upperclothes; hat -> hair; sunglasses -> face (as LIP).
DEFAULT_MAPPINGS: dict[str, dict[str, str]] = {
    "lip": dict(_LIP_DEFAULT),
    "cihp": {("Torso-skin" if k == "Jumpsuits" else k): ("upperclothes" if k == "Jumpsuits" else v)
             for k, v in _LIP_DEFAULT.items()},
    "atr": {
        "background": "background", "hat": "hair", "hair": "hair", "sunglasses": "face",
        "upper-clothes": "upperclothes", "skirt": "skirt", "pants": "pants",
        "dress": "upperclothes", "belt": "pants", "left-shoe": "leftLeg",
        "right-shoe": "rightLeg", "face": "face", "left-leg": "leftLeg", "right-leg": "rightLeg",
        "left-arm": "leftArm", "right-arm": "rightArm", "bag": "background",
        "scarf": "upperclothes",
    },
    "spt10": {name: name for name in SPT10_LABELS},
}


def _label_names(label_set: str) -> tuple[str, ...]:
    try:
        return LABEL_SETS[label_set]
    except (KeyError, TypeError):
        raise ValueError(f"unknown label set {label_set!r}; known: {sorted(LABEL_SETS)}") from None


def _hint(name: str, choices: tuple[str, ...]) -> str:
    lower = {c.lower(): c for c in choices}  # case-insensitive suggestions
    close = difflib.get_close_matches(name.lower(), list(lower), n=1)
    return f" (did you mean {lower[close[0]]!r}?)" if close else ""


def validate_mapping(label_set: str, mapping: dict[str, str]) -> None:
    """Check that ``mapping`` maps every label of ``label_set`` to a valid target.

    mapping: {source label name: target}, target one of the 10 SPT label names or
    "nearest_arm" / "nearest_leg". Raises ValueError naming the unknown source label(s), the
    invalid target(s), or the source labels left unmapped.
    """
    names = _label_names(label_set)
    if not isinstance(mapping, dict):
        raise ValueError(f"mapping for label set {label_set!r} must be a dict, got "
                         f"{type(mapping).__name__}")
    unknown = [k for k in mapping if k not in names]
    if unknown:
        hints = "; ".join(f"{k!r}{_hint(str(k), names)}" for k in unknown)
        raise ValueError(f"mapping for label set {label_set!r}: unknown source label(s) {hints}; "
                         f"its labels are {list(names)}")
    bad = [(k, v) for k, v in mapping.items() if v not in TARGETS]
    if bad:
        hints = "; ".join(f"{k!r} -> {v!r}{_hint(str(v), TARGETS)}" for k, v in bad)
        raise ValueError(f"mapping for label set {label_set!r}: invalid target label(s) {hints}; "
                         f"targets are {list(TARGETS)}")
    missing = [n for n in names if n not in mapping]
    if missing:
        raise ValueError(f"mapping for label set {label_set!r} leaves source label(s) {missing} "
                         f"unmapped; map every label (to 'background' to drop it)")
