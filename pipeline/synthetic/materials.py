"""Colours: the materials of an identity, garment textures, backgrounds, the colour pass.

Every pixel of the person is painted from its segment (canvas.py): the material's base
colour, or its pattern's second colour where the pattern (evaluated at the pixel's (u, v)
garment coordinates, body units) says so, times a shading factor ``1 - k (v / halfwidth)^2``
across the limb (clipped at SHADE_MIN). So a texture is fixed in the garment's frame and
moves with the body, and every label region holds only its own material's colours.

Backgrounds (``data.synthetic.background``, :func:`person_background`):

* ``street``: every photo its own background (flat, gradient or blotch colours, drawn from
  the identity's seed and the skeleton's bytes), as the varied scenes of Market-1501;
* ``studio``: one studio per identity (a light, low-saturation backdrop colour with a gentle
  vertical gradient and a vignette, drawn from the identity's seed alone), and per photo only
  a small exposure jitter and pixel noise, as DeepFashion's in-shop photos: a person's photos
  share a near-white backdrop, so the target's background is predictable from the source's.
"""
from __future__ import annotations

import colorsys
import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.synthetic.canvas import SegmentCanvas
from pipeline.synthetic.identity import Identity, Pattern

# Material ids (index into the identity's material table; 0 = none/background).
M_SKIN, M_HAIR, M_TOP, M_BOTTOM, M_SHOE, M_EYE, M_MOUTH = 1, 2, 3, 4, 5, 6, 7
NUM_MATERIALS = 8
PATTERN_CODE = {"plain": 0, "hstripes": 1, "vstripes": 2, "diagonal": 3, "checks": 4, "dots": 5,
                "strands": 6}
#: Lowest shading factor at a limb's outline [choice: visible roundness, no black edges].
SHADE_MIN = 0.55
#: Hair strands: a faint vertical-stripe texture in the hair's frame [choice].
HAIR_STRAND_PERIOD, HAIR_STRAND_DARKEN = 0.012, 0.82


@dataclass(frozen=True)
class MaterialTable:
    """base, color2: (M, 3) float32 RGB; pattern: (M,) int codes; period, duty, shade: (M,)."""

    base: np.ndarray
    color2: np.ndarray
    pattern: np.ndarray
    period: np.ndarray
    duty: np.ndarray
    shade: np.ndarray


def material_table(identity: Identity) -> MaterialTable:
    """The identity's materials (skin, hair, top, bottom, shoes, eyes, mouth)."""
    base = np.zeros((NUM_MATERIALS, 3), np.float32)
    color2 = np.zeros((NUM_MATERIALS, 3), np.float32)
    pattern = np.zeros(NUM_MATERIALS, np.int64)
    period = np.ones(NUM_MATERIALS, np.float32)
    duty = np.full(NUM_MATERIALS, 0.5, np.float32)
    # shading strength per material [choice]
    shade = np.array([0.0, 0.25, 0.2, 0.3, 0.3, 0.3, 0.0, 0.0], np.float32)
    skin = np.array(identity.skin, np.float32)
    hair = np.array(identity.hair.color, np.float32)
    base[M_SKIN] = skin
    base[M_HAIR] = hair
    color2[M_HAIR] = hair * HAIR_STRAND_DARKEN
    pattern[M_HAIR] = PATTERN_CODE["strands"]
    period[M_HAIR] = HAIR_STRAND_PERIOD
    duty[M_HAIR] = 0.5

    def garment(m: int, color: tuple, pat: Pattern) -> None:
        base[m] = color
        color2[m] = pat.color2
        pattern[m] = PATTERN_CODE[pat.kind]
        period[m] = pat.period
        duty[m] = pat.duty

    garment(M_TOP, identity.upper.color, identity.upper.pattern)
    garment(M_BOTTOM, identity.lower.color, identity.lower.pattern)
    base[M_SHOE] = identity.shoes
    base[M_EYE] = (35, 25, 25)
    base[M_MOUTH] = skin * np.array([0.8, 0.55, 0.55], np.float32)
    return MaterialTable(base, color2, pattern, period, duty, shade)


def pattern_mask(code: int, u: np.ndarray, v: np.ndarray, period: float, duty: float
                 ) -> np.ndarray:
    """Where the second colour shows: bool array like u. u, v: garment coordinates (body
    units); period: body units; duty: stripe share / dot diameter share of a period."""
    if code in (1, 6):
        return np.mod(u if code == 1 else v, period) < duty * period
    if code == 2:
        return np.mod(v, period) < duty * period
    if code == 3:
        return np.mod(u + v, period * 1.4142) < duty * period * 1.4142
    if code == 4:
        return (np.floor(u / period) + np.floor(v / period)).astype(np.int64) % 2 == 0
    if code == 5:
        fu = np.mod(u, period) / period - 0.5
        fv = np.mod(v, period) / period - 0.5
        return fu * fu + fv * fv < (0.5 * duty) ** 2
    return np.zeros(u.shape, bool)


def paint(canvas: SegmentCanvas, mats: MaterialTable, background: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """Colour pass. background: (H, W, 3) uint8 (modified in place and returned).
    Returns (image (H, W, 3) uint8 RGB, labels (H, W) uint8)."""
    seg = canvas.seg
    label_lut = np.array(canvas.label, np.uint8)
    labels = label_lut[seg]
    flat = seg.ravel()
    idx = np.flatnonzero(flat)
    if idx.size == 0:
        return background, labels
    sid = flat[idx]
    ys, xs = np.divmod(idx, canvas.width)
    xs = xs.astype(np.float32)
    ys = ys.astype(np.float32)
    frames = np.stack(canvas.frame).astype(np.float32)           # (S, 2, 3)
    hw = np.array(canvas.halfwidth, np.float32)[sid]
    mat = np.array(canvas.material, np.int64)[sid]
    v = frames[sid, 1, 0] * xs + frames[sid, 1, 1] * ys + frames[sid, 1, 2]
    col = mats.base[mat]
    present = np.bincount(mat, minlength=NUM_MATERIALS) > 0
    for m in np.flatnonzero(present & (mats.pattern > 0)):
        code = int(mats.pattern[m])
        sel = np.flatnonzero(mat == m)
        s_sid = sid[sel]
        u = (frames[s_sid, 0, 0] * xs[sel] + frames[s_sid, 0, 1] * ys[sel]
             + frames[s_sid, 0, 2])
        on = pattern_mask(code, u, v[sel], float(mats.period[m]), float(mats.duty[m]))
        col[sel[on]] = mats.color2[m]
    vn = v / hw
    shade = np.maximum(1.0 - mats.shade[mat] * vn * vn, SHADE_MIN)
    col = col * shade[:, None]
    out = background.reshape(-1, 3)
    out[idx] = np.clip(col + 0.5, 0, 255).astype(np.uint8)
    return background, labels


# --------------------------------------------------------------------------- background
BACKGROUND_KINDS = ("flat", "vgradient", "hgradient", "blotches")


def background_rng(identity: Identity, skeleton: np.ndarray, height: int, width: int
                   ) -> np.random.Generator:
    """The per-image background generator: seeded by the identity's seed, the frame size
    and a CRC32 of the float32 skeleton bytes, so the oracle re-creates it exactly from
    (identity, skeleton) [choice: backgrounds vary per image without being stored]."""
    sk = np.ascontiguousarray(np.asarray(skeleton, np.float32))
    return np.random.default_rng([identity.seed, height, width, zlib.crc32(sk.tobytes())])


def make_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """The ``street`` background: (H, W, 3) uint8 RGB, flat colour, vertical or horizontal
    gradient, or soft blotches, plus mild pixel noise (amplitude 0-4). Square-ish frames
    (W/H >= 0.75) get light, low-saturation colours; pedestrian frames darker, more varied
    ones [choice]."""
    studio = width / height >= 0.75
    kind = BACKGROUND_KINDS[int(rng.choice(4, p=[0.4, 0.25, 0.15, 0.2]))]

    def colour() -> np.ndarray:
        sat = rng.uniform(0.0, 0.25 if studio else 0.4)
        val = rng.uniform(0.72, 1.0) if studio else rng.uniform(0.3, 0.9)
        return np.array(colorsys.hsv_to_rgb(rng.uniform(), sat, val), np.float32) * 255

    c0, c1 = colour(), colour()
    if kind == "flat":
        img = np.empty((height, width, 3), np.uint8)
        img[:] = np.clip(c0 + 0.5, 0, 255).astype(np.uint8)
    elif kind in ("vgradient", "hgradient"):
        n = height if kind == "vgradient" else width
        t = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None]
        ramp = np.clip(c0 + t * (c1 - c0) + 0.5, 0, 255).astype(np.uint8)     # (n, 3)
        shape = (height, 1, 3) if kind == "vgradient" else (1, width, 3)
        img = np.ascontiguousarray(np.broadcast_to(ramp.reshape(shape), (height, width, 3)))
    else:
        grid = rng.uniform(-1.0, 1.0, size=(int(rng.integers(3, 7)), int(rng.integers(3, 7))))
        blot = cv2.resize(grid.astype(np.float32), (width, height),
                          interpolation=cv2.INTER_LINEAR)
        amp = rng.uniform(10.0, 35.0)
        img = np.clip(c0[None, None] + (amp * blot)[..., None] + 0.5, 0, 255).astype(np.uint8)
    noise = int(rng.integers(0, 5))
    if noise:
        n = rng.integers(-noise, noise + 1, size=(height, width, 1), dtype=np.int16)
        img = np.clip(img.astype(np.int16) + n, 0, 255).astype(np.uint8)
    return img


# --------------------------------------------------------------------------- studio
#: Values of ``data.synthetic.background`` (module docstring).
BACKGROUNDS = ("studio", "street")
#: Seed stream of an identity's studio, distinct from the per-image seeds [choice].
STUDIO_STREAM = zlib.crc32(b"studio")
# [choice] What a studio shares and what varies. DeepFashion's in-shop photos of one person
# are taken in one session in front of one near-white or light-grey backdrop, lit from
# above, so per IDENTITY: the backdrop colour (HSV value, saturation and hue below), the
# vertical gradient and the vignette; per PHOTO: only an exposure gain and pixel noise,
# small enough that the target's background is known from the source's to a few levels.
#: Backdrop brightness (HSV value): RGB 204..247, light grey to near white [choice].
STUDIO_VALUE = (0.80, 0.97)
#: Backdrop saturation: at most a faint tint [choice].
STUDIO_SATURATION = (0.0, 0.08)
#: Relative brightness change from the top row to the bottom row; mostly negative, the
#: floor a little darker than the lit wall [choice].
STUDIO_GRADIENT = (-0.10, 0.03)
#: Relative darkening at the middle of an edge (x 2 in the corners) [choice].
STUDIO_VIGNETTE = (0.0, 0.04)
#: Per-photo exposure gain: 1 +- this, uniform [choice: about +-3 levels on a 230 backdrop].
STUDIO_EXPOSURE_JITTER = 0.015
#: Per-photo grey pixel noise: uniform integers in [-a, a] [choice: sensor/JPEG noise on a
#: smooth backdrop].
STUDIO_NOISE = 2


@dataclass(frozen=True)
class Studio:
    """An identity's studio. colour: (3,) float32 RGB in [0, 255], the backdrop at
    mid-height; gradient: relative brightness change top -> bottom row; vignette: relative
    darkening at an edge's middle (twice that in the corners)."""

    colour: np.ndarray
    gradient: float
    vignette: float


def studio_of(identity: Identity) -> Studio:
    """The identity's studio, drawn from its seed alone (shared by all its photos, any frame
    size)."""
    rng = np.random.default_rng([identity.seed, STUDIO_STREAM])
    hue = rng.uniform()
    sat = rng.uniform(*STUDIO_SATURATION)
    val = rng.uniform(*STUDIO_VALUE)
    colour = np.array(colorsys.hsv_to_rgb(hue, sat, val), np.float32) * 255
    return Studio(colour, float(rng.uniform(*STUDIO_GRADIENT)),
                  float(rng.uniform(*STUDIO_VIGNETTE)))


def studio_shading(studio: Studio, height: int, width: int, exposure: float = 1.0
                   ) -> np.ndarray:
    """(H, W) float32 brightness factor of the studio:
    ``exposure (1 + g (t - 1/2)) (1 - v (x^2 + y^2))`` with t = 0 at the top row and 1 at the
    bottom, and x, y in [-1, 1] across the frame (x^2 + y^2 is 1 at an edge's middle, 2 in the
    corners)."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    y = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    row = np.float32(exposure) * (1.0 + np.float32(studio.gradient) * (t - 0.5))   # (H, 1)
    vignette = np.float32(studio.vignette)
    return row * ((1.0 - vignette * y * y) - vignette * x * x)


def studio_background(studio: Studio, rng: np.random.Generator, height: int, width: int
                      ) -> np.ndarray:
    """The ``studio`` background of one photo: (H, W, 3) uint8 RGB, the identity's studio
    times this photo's exposure gain (1 +- STUDIO_EXPOSURE_JITTER), plus grey pixel noise in
    [-STUDIO_NOISE, STUDIO_NOISE]. rng: the photo's :func:`background_rng`."""
    gain = 1.0 + rng.uniform(-STUDIO_EXPOSURE_JITTER, STUDIO_EXPOSURE_JITTER)
    shade = studio_shading(studio, height, width, gain)
    noise = rng.integers(-STUDIO_NOISE, STUDIO_NOISE + 1, size=(height, width), dtype=np.int16)
    offset = noise + np.float32(0.5)                                    # rounds on the cast
    img = cv2.merge([shade * c + offset for c in studio.colour])        # (H, W, 3) float32
    return np.clip(img, 0, 255).astype(np.uint8)


def person_background(kind: str, identity: Identity, skeleton: np.ndarray, height: int,
                      width: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB background of `identity` photographed in `skeleton` ((18, 2)
    float32 (y, x) px): kind ``street`` or ``studio`` (module docstring). A pure function of
    its arguments, so the oracle re-creates it."""
    if kind not in BACKGROUNDS:
        raise ValueError(f"background {kind!r}: expected one of {BACKGROUNDS}")
    rng = background_rng(identity, skeleton, height, width)
    if kind == "street":
        return make_background(rng, height, width)
    return studio_background(studio_of(identity), rng, height, width)
