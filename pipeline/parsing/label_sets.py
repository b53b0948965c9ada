"""Label sets of external human parsers and their mapping to SPT's 10 labels (docs/method.md §2).

SPT works on 10 labels (``pipeline.labels.LABEL_NAMES``): 0 background, 1 face, 2 hair,
3 upperclothes, 4 pants, 5 skirt, 6 leftArm, 7 rightArm, 8 leftLeg, 9 rightLeg. Parsers produce
LIP, CIHP or ATR labels; ``map_labels`` converts their maps through a name -> name mapping that
users can override in params.yaml (``DEFAULT_MAPPINGS`` holds the defaults)::

    from pipeline.parsing.label_sets import read_label_map, map_labels
    spt = map_labels(read_label_map("parsing/img.png"), "lip")   # (H, W) uint8 in 0..9

Two special targets handle side-less labels: ``"nearest_arm"`` (e.g. LIP's Glove) and
``"nearest_leg"`` (e.g. LIP's Socks). Such a pixel takes the label of the nearest leftArm/rightArm
(leftLeg/rightLeg) pixel after mapping, or background when the map holds no arm (leg) pixel.
Left/right are passed through as the parser labels them (Left-arm -> leftArm), as docs/method.md §2 does.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

# The tables live in the leaf pipeline.parser_labels (the params schema imports it); re-exported
# here.
from pipeline.parser_labels import (  # noqa: F401
    ATR_LABELS, CIHP_LABELS, DEFAULT_MAPPINGS, LABEL_SETS, LIP_LABELS, NEAREST_ARM, NEAREST_LEG,
    SPECIAL_TARGETS, SPT10_LABELS, TARGETS, _label_names, validate_mapping)
from pipeline.labels import LABEL_NAMES


# Lookup-table codes of the specials (no SPT label uses them).
_SPECIAL_CODE = {NEAREST_ARM: 254, NEAREST_LEG: 255}
_SIDES = {NEAREST_ARM: (LABEL_NAMES.index("leftArm"), LABEL_NAMES.index("rightArm")),
          NEAREST_LEG: (LABEL_NAMES.index("leftLeg"), LABEL_NAMES.index("rightLeg"))}


@lru_cache(maxsize=64)
def _lut(label_set: str, items: tuple[tuple[str, str], ...]) -> np.ndarray:
    """(n_source_labels,) uint8 table: SPT label value, or a special code (254/255)."""
    mapping = dict(items)
    validate_mapping(label_set, mapping)
    lut = np.array([_SPECIAL_CODE[t] if t in _SPECIAL_CODE else LABEL_NAMES.index(t)
                    for t in (mapping[n] for n in _label_names(label_set))], dtype=np.uint8)
    lut.setflags(write=False)
    return lut


def lookup_table(label_set: str, mapping: dict[str, str] | None = None) -> np.ndarray:
    """The (n_source_labels,) uint8 lookup table of a (validated) mapping.

    Entries are SPT label values 0..9, or 254 ("nearest_arm") / 255 ("nearest_leg").
    """
    if mapping is None:
        mapping = DEFAULT_MAPPINGS[label_set] if label_set in DEFAULT_MAPPINGS else {}
    validate_mapping(label_set, mapping)
    return _lut(label_set, tuple(sorted(mapping.items())))


def _check_values(src: np.ndarray, n: int, label_set: str, where: str) -> None:
    lo, hi = (int(src.min()), int(src.max())) if src.size else (0, 0)
    if lo < 0 or hi >= n:
        bad = np.unique(src[(src < 0) | (src >= n)])
        shown = ", ".join(str(int(v)) for v in bad[:10]) + (", ..." if bad.size > 10 else "")
        raise ValueError(f"{where}label map has value(s) {shown} outside the {label_set!r} label "
                         f"set (values 0..{n - 1})")


def map_labels(src: np.ndarray, label_set: str, mapping: dict[str, str] | None = None, *,
               source: str | Path | None = None) -> np.ndarray:
    """Convert a parser's label map to SPT's 10 labels.

    src: (H, W) integer array of ``label_set`` values.
    label_set: "lip", "cihp", "atr" or "spt10".
    mapping: {source label name: target}; None = ``DEFAULT_MAPPINGS[label_set]``. Must be complete
        (see ``validate_mapping``).
    source: optional file name, used in error messages.
    Returns (H, W) uint8 in 0..9. Values outside the label set raise ValueError naming them.
    "nearest_arm" / "nearest_leg" pixels take the side of the nearest leftArm/rightArm
    (leftLeg/rightLeg) pixel of the mapped map (Euclidean distance), else background.
    """
    where = f"{source}: " if source is not None else ""
    src = np.asarray(src)
    if src.ndim != 2:
        raise ValueError(f"{where}label map must be 2-D (H, W), got shape {src.shape}")
    if not (np.issubdtype(src.dtype, np.integer) or src.dtype == np.bool_):
        raise ValueError(f"{where}label map must hold integers, got dtype {src.dtype}")
    lut = lookup_table(label_set, mapping)
    _check_values(src, len(lut), label_set, where)
    out = lut[src]
    if lut.max() >= min(_SPECIAL_CODE.values()):
        for special, code in _SPECIAL_CODE.items():
            if code in lut:
                _resolve_sides(out, code, _SIDES[special])
    return out


def _resolve_sides(out: np.ndarray, code: int, sides: tuple[int, int]) -> None:
    """In place: pixels == code take the label of the nearest pixel labelled sides[0] or
    sides[1]; background (0) when there is none."""
    todo = out == code
    if not todo.any():
        return
    has_side = (out == sides[0]) | (out == sides[1])
    if not has_side.any():
        out[todo] = 0
        return
    # distance to the nearest zero of the input = nearest side pixel; indices locate it
    _, (iy, ix) = ndimage.distance_transform_edt(~has_side, return_distances=True,
                                                 return_indices=True)
    out[todo] = out[iy[todo], ix[todo]]


def _png_color_type(path: Path) -> int | None:
    """PNG colour type from the IHDR chunk (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA)."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) == 26 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return head[25]
    return None


def read_label_map(path: str | Path) -> np.ndarray:
    """Read a label map from a PNG (single-channel or palette) or a .npy file.

    A palette PNG gives its palette indices, not colours. Returns a 2-D integer array
    (uint8/uint16 for PNGs, the stored integer dtype for .npy). Colour (RGB/RGBA) PNGs, non-integer
    or non-2-D arrays, unreadable and missing files raise errors that name the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"label map {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{path}: cannot read as .npy: {exc}") from None
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[:, :, 0]
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{path}: a label map must be a 2-D integer array, got shape "
                             f"{arr.shape} dtype {arr.dtype}")
        return arr
    if suffix != ".png":
        raise ValueError(f"{path}: label maps must be .png or .npy files")
    try:
        from PIL import Image  # noqa: PLC0415 - optional; matplotlib depends on Pillow
    except ImportError:
        return _read_png_cv2(path)
    try:
        with Image.open(path) as img:
            mode = img.mode
            if mode in ("P", "L", "I;16", "I;16B", "I;16L", "I", "1"):
                arr = np.array(img)
            else:
                raise ValueError(f"{path}: is a {mode} colour PNG; a label map must be a "
                                 f"single-channel or palette PNG holding label values")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read PNG: {exc}") from None
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    return arr


def _read_png_cv2(path: Path) -> np.ndarray:
    import cv2  # noqa: PLC0415

    if _png_color_type(path) == 3:
        raise ValueError(f"{path}: palette PNGs need Pillow to read the indices "
                         f"(pip install pillow); OpenCV only returns colours")
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ValueError(f"{path}: cannot read PNG")
    if arr.ndim != 2:
        raise ValueError(f"{path}: is a {arr.shape[2]}-channel colour PNG; a label map must be a "
                         f"single-channel or palette PNG holding label values")
    return arr


def write_label_map(path: str | Path, labels: np.ndarray,
                    palette: np.ndarray | None = None) -> None:
    """Write a (H, W) integer label map as .npy, or as a PNG (values 0..255).

    palette: optional (K, 3) uint8 RGB colours for values 0..K-1 (e.g.
    ``pipeline.labels.LABEL_COLORS``); the PNG is then a palette PNG, which viewers show in colour
    and ``read_label_map`` reads back as indices. Without it, a grayscale PNG.
    """
    path = Path(path)
    labels = np.asarray(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{path}: a label map must be a 2-D integer array, got shape "
                         f"{labels.shape} dtype {labels.dtype}")
    if path.suffix.lower() == ".npy":
        np.save(path, labels)
        return
    if path.suffix.lower() != ".png":
        raise ValueError(f"{path}: label maps must be .png or .npy files")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError(f"{path}: PNG label maps hold values 0..255, got "
                         f"{labels.min()}..{labels.max()}")
    from PIL import Image  # noqa: PLC0415

    img = Image.fromarray(np.ascontiguousarray(labels, dtype=np.uint8))  # mode "L"
    if palette is not None:
        pal = np.zeros((256, 3), np.uint8)
        pal[:len(palette)] = np.asarray(palette, np.uint8).reshape(-1, 3)[:256]
        img.putpalette(pal.ravel().tolist())  # turns the "L" image into a "P" one, same indices
    img.save(path)
