"""Synthetic identities: body proportions, skin, hair, garments and shoes of one person.

All lengths are in *body units*: the stature (sole to top of head) of an average person is
about 1.0. Half-widths are measured from a limb's axis to its outline. An identity is a
frozen dataclass that round-trips through JSON (``to_dict`` / ``from_dict``).
"""
from __future__ import annotations

import colorsys
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

RGB = tuple[int, int, int]

#: Garment texture kinds, evaluated in the garment's own (u, v) frame (see render.py).
PATTERN_KINDS: tuple[str, ...] = ("plain", "hstripes", "vstripes", "diagonal", "checks", "dots")
SLEEVES: tuple[str, ...] = ("none", "short", "long")
LOWER_KINDS: tuple[str, ...] = ("pants", "shorts", "skirt")
HAIR_STYLES: tuple[str, ...] = ("short", "long")

# Skin tones (RGB) spanning light to dark [choice: Fitzpatrick-like ramp picked by eye].
_SKIN_TONES = ((255, 224, 196), (241, 194, 161), (224, 172, 135), (198, 134, 96),
               (161, 102, 68), (112, 72, 48), (80, 52, 36))
# Hair colours: black, dark brown, brown, light brown, blond, auburn, grey [choice].
_HAIR_COLOURS = ((22, 18, 18), (55, 35, 25), (95, 60, 35), (140, 100, 62), (214, 178, 112),
                 (140, 52, 26), (150, 150, 150))


@dataclass(frozen=True)
class Pattern:
    """A garment texture. kind: one of PATTERN_KINDS; period: body units; color2: RGB of the
    second colour; duty: share of a period covered by the second colour (stripe width, dot
    radius relative to the half period)."""

    kind: str
    period: float
    color2: RGB
    duty: float


@dataclass(frozen=True)
class Body:
    """Proportions in body units (stature ~ 1). `*_width` are half-widths of the outline."""

    head_radius: float       # half the head height (crown to chin)
    head_width: float        # half-width / head_radius (front view)
    head_depth: float        # half-depth / head_radius (side view)
    neck_length: float       # neck keypoint -> head centre
    neck_width: float
    torso_length: float      # neck keypoint -> mid-hip (the scale reference of a skeleton)
    shoulder_half: float     # neck -> shoulder joint
    hip_half: float          # mid-hip -> hip joint
    deltoid: float           # torso outline beyond the shoulder joint
    hip_extra: float         # torso outline beyond the hip joint
    chest_depth: float       # half-depth of the chest (side-view torso half-width)
    hip_depth: float         # half-depth of the pelvis
    waist_ratio: float       # waist half-width / mean of shoulder and hip half-widths
    upper_arm: float
    forearm: float
    hand: float
    upper_arm_width: float
    forearm_width: float
    hand_width: float
    thigh: float
    shin: float
    foot: float
    thigh_width: float
    shin_width: float
    foot_width: float
    ankle_height: float      # ankle keypoint -> sole


@dataclass(frozen=True)
class Hair:
    """style 'short' (a cap) or 'long' (falls behind the shoulders to `length` below the head
    centre, body units); volume scales the hair outline around the skull."""

    color: RGB
    style: str
    length: float
    volume: float


@dataclass(frozen=True)
class Upper:
    """Upper garment. sleeves: 'none' | 'short' | 'long'; sleeve_fraction: share of the upper
    arm a short sleeve covers; length: hem below the hip line (body units)."""

    sleeves: str
    sleeve_fraction: float
    color: RGB
    pattern: Pattern
    length: float


@dataclass(frozen=True)
class Lower:
    """Lower garment. kind 'pants' (to the ankle), 'shorts' (`length` = share of the thigh)
    or 'skirt' (`length` = hem distance from the hips along the legs, body units; `flare` =
    extra half-width per unit of length)."""

    kind: str
    length: float
    flare: float
    color: RGB
    pattern: Pattern


@dataclass(frozen=True)
class Identity:
    """One synthetic person. `seed` drives its backgrounds: the studio it shares and the
    per-photo draws (materials.person_background)."""

    index: int
    person_id: str
    seed: int
    body: Body
    skin: RGB
    hair: Hair
    upper: Upper
    lower: Lower
    shoes: RGB

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable nested dict (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Identity":
        """Inverse of :meth:`to_dict` (lists become tuples again)."""
        def rgb(v: Any) -> RGB:
            return tuple(int(c) for c in v)  # type: ignore[return-value]

        def pattern(p: dict) -> Pattern:
            return Pattern(p["kind"], float(p["period"]), rgb(p["color2"]), float(p["duty"]))

        body = Body(**{k: float(v) for k, v in d["body"].items()})
        h, u, lo = d["hair"], d["upper"], d["lower"]
        return cls(index=int(d["index"]), person_id=str(d["person_id"]), seed=int(d["seed"]),
                   body=body, skin=rgb(d["skin"]),
                   hair=Hair(rgb(h["color"]), h["style"], float(h["length"]),
                             float(h["volume"])),
                   upper=Upper(u["sleeves"], float(u["sleeve_fraction"]), rgb(u["color"]),
                               pattern(u["pattern"]), float(u["length"])),
                   lower=Lower(lo["kind"], float(lo["length"]), float(lo["flare"]),
                               rgb(lo["color"]), pattern(lo["pattern"])),
                   shoes=rgb(d["shoes"]))


def person_id_of(index: int) -> str:
    """Person id of identity `index`: ``id{index:05d}``."""
    return f"id{index:05d}"


# --------------------------------------------------------------------------- sampling
def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _hsv(rng: np.random.Generator, s: tuple[float, float], v: tuple[float, float]) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(float(rng.uniform()), _u(rng, *s), _u(rng, *v))
    return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))


def _jitter(rng: np.random.Generator, c: RGB, amount: int) -> RGB:
    d = rng.integers(-amount, amount + 1, size=3)
    return tuple(int(np.clip(ci + di, 0, 255)) for ci, di in zip(c, d))  # type: ignore


def _contrast(rng: np.random.Generator, c: RGB) -> RGB:
    """A second colour that stands out against `c` (lighter on dark, darker on light)."""
    lum = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
    if rng.uniform() < 0.5:
        return _hsv(rng, (0.3, 0.9), (0.75, 1.0) if lum < 128 else (0.1, 0.35))
    return (245, 245, 245) if lum < 128 else (25, 25, 30)


def _pattern(rng: np.random.Generator, color: RGB, p_plain: float) -> Pattern:
    if rng.uniform() < p_plain:
        kind = "plain"
    else:
        kind = PATTERN_KINDS[int(rng.integers(1, len(PATTERN_KINDS)))]
    # periods of 2-6 % of the stature: 5-15 px at 256 px, visible but not noise [choice]
    return Pattern(kind=kind, period=_u(rng, 0.02, 0.06), color2=_contrast(rng, color),
                   duty=_u(rng, 0.3, 0.55))


def sample_body(rng: np.random.Generator) -> Body:
    """Body proportions. Ranges are adult proportions of ~7.5-8 heads [choice, by eye]."""
    build = _u(rng, 0.88, 1.15)      # slim ... broad: scales every width
    fem = _u(rng, 0.0, 1.0)          # narrower shoulders / wider hips as it grows
    return Body(
        head_radius=_u(rng, 0.058, 0.068),
        head_width=_u(rng, 0.74, 0.82),
        head_depth=_u(rng, 0.88, 0.96),
        neck_length=_u(rng, 0.095, 0.11),
        neck_width=_u(rng, 0.024, 0.031) * build,
        torso_length=_u(rng, 0.28, 0.32),
        shoulder_half=(0.118 - 0.018 * fem) * _u(rng, 0.95, 1.05),
        hip_half=(0.052 + 0.014 * fem) * _u(rng, 0.95, 1.05),
        deltoid=_u(rng, 0.018, 0.028) * build,
        hip_extra=_u(rng, 0.028, 0.04) * build,
        chest_depth=_u(rng, 0.062, 0.078) * build,
        hip_depth=_u(rng, 0.064, 0.078) * build,
        waist_ratio=_u(rng, 0.78, 0.95),
        upper_arm=_u(rng, 0.16, 0.19),
        forearm=_u(rng, 0.14, 0.16),
        hand=_u(rng, 0.07, 0.09),
        upper_arm_width=_u(rng, 0.026, 0.034) * build,
        forearm_width=_u(rng, 0.021, 0.027) * build,
        hand_width=_u(rng, 0.02, 0.025),
        thigh=_u(rng, 0.22, 0.25),
        shin=_u(rng, 0.22, 0.25),
        foot=_u(rng, 0.08, 0.10),
        thigh_width=_u(rng, 0.046, 0.058) * build,
        shin_width=_u(rng, 0.031, 0.039) * build,
        foot_width=_u(rng, 0.021, 0.027),
        ankle_height=_u(rng, 0.035, 0.045),
    )


def sample_identity(rng: np.random.Generator, index: int) -> Identity:
    """Draw one identity from `rng` (a Generator seeded for this identity only)."""
    body = sample_body(rng)
    skin = _jitter(rng, _SKIN_TONES[int(rng.integers(len(_SKIN_TONES)))], 8)
    hair_style = "long" if rng.uniform() < 0.45 else "short"
    hair = Hair(color=_jitter(rng, _HAIR_COLOURS[int(rng.integers(len(_HAIR_COLOURS)))], 10),
                style=hair_style,
                length=_u(rng, 0.15, 0.36) if hair_style == "long" else 0.0,
                volume=_u(rng, 1.03, 1.14))
    top_color = _hsv(rng, (0.0, 0.9), (0.15, 0.97))
    sleeves = SLEEVES[int(rng.choice(3, p=[0.25, 0.4, 0.35]))]
    upper = Upper(sleeves=sleeves, sleeve_fraction=_u(rng, 0.35, 0.85), color=top_color,
                  pattern=_pattern(rng, top_color, p_plain=0.4), length=_u(rng, 0.02, 0.12))
    kind = LOWER_KINDS[int(rng.choice(3, p=[0.5, 0.2, 0.3]))]
    length = {"pants": 1.0, "shorts": _u(rng, 0.3, 0.8), "skirt": _u(rng, 0.12, 0.45)}[kind]
    low_color = _hsv(rng, (0.0, 0.8), (0.1, 0.9))
    lower = Lower(kind=kind, length=length, flare=_u(rng, 0.05, 0.35), color=low_color,
                  pattern=_pattern(rng, low_color, p_plain=0.65))
    shoes = (_hsv(rng, (0.0, 0.8), (0.3, 0.9)) if rng.uniform() < 0.4
             else _jitter(rng, (30, 28, 28) if rng.uniform() < 0.6 else (235, 235, 230), 10))
    return Identity(index=index, person_id=person_id_of(index),
                    seed=int(rng.integers(0, 2**31 - 1)), body=body, skin=skin, hair=hair,
                    upper=upper, lower=lower, shoes=shoes)
