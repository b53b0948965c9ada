"""Readers and writers of the field's annotation formats (Pose-Transfer / Deformable GAN).

Keypoint file: colon-separated, header ``name:keypoints_y:keypoints_x``, one row per
image: ``img.jpg: [18 ys]: [18 xs]`` (JSON lists; -1 = missing point).
Pairs file: CSV with header ``from,to``.

Both readers are public so users can call them from their own scripts::

    from pipeline.annotations import read_keypoint_file
    ann = read_keypoint_file("fasion-annotation-test.csv")
    ann.keypoints.shape        # (N, 18, 2) float32, (y, x), -1 = missing
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.labels import NUM_KEYPOINTS  # 18, OpenPose/COCO order

MISSING = -1.0  # value of both coordinates of a missing point [code, Pose-Transfer]
HEADER = "name:keypoints_y:keypoints_x"


class AnnotationError(ValueError):
    """A malformed annotation or pairs file; the message names file and line."""


@dataclass
class KeypointFile:
    """Contents of a keypoint annotation file.

    names: image names in file order.
    keypoints: (N, 18, 2) float32, (y, x) in pixels of the annotated frame, -1 = missing.
    all_missing: names of rows whose 18 points are all missing (kept in ``names``).
    duplicates: names that occurred more than once (the first row is kept), once per
        repeated row.
    lines: 1-based line number of each row of ``names`` in the file.
    duplicate_lines: 1-based line number of each repeated row, parallel to ``duplicates``.
    """

    path: Path
    names: list[str]
    keypoints: np.ndarray
    all_missing: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    duplicate_lines: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, np.ndarray]:
        """name -> (18, 2) keypoints."""
        return dict(zip(self.names, self.keypoints))

    def where(self) -> dict[str, str]:
        """name -> ``file:line`` of its (first) row, for messages."""
        return {n: f"{self.path}:{line}" for n, line in zip(self.names, self.lines)}

    def duplicate_rows(self) -> list[str]:
        """``file:line: name`` of every repeated row (the first occurrence is the one kept)."""
        return [f"{self.path}:{line}: {name}"
                for name, line in zip(self.duplicates, self.duplicate_lines)]


def _parse_list(text: str, path: Path, lineno: int, what: str) -> list[float]:
    try:
        values = json.loads(text)
    except json.JSONDecodeError:
        raise AnnotationError(f"{path}:{lineno}: {what} is not a JSON list: {text.strip()[:60]!r}"
                              ) from None
    if not isinstance(values, list) or len(values) != NUM_KEYPOINTS:
        n = len(values) if isinstance(values, list) else "not a list"
        raise AnnotationError(f"{path}:{lineno}: {what} must list {NUM_KEYPOINTS} numbers, got {n}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise AnnotationError(f"{path}:{lineno}: {what} holds a non-number {v!r}")
        if not math.isfinite(v):
            raise AnnotationError(f"{path}:{lineno}: {what} holds a non-finite value {v!r}")
    return [float(v) for v in values]


def _key(key: str | None) -> str:
    return f" ({key})" if key else ""


def _read_lines(path: Path, what: str, key: str | None) -> list[str]:
    """The text lines of an annotation/pairs file; errors name the file (and params key)."""
    if not path.is_file():
        raise AnnotationError(f"{path}: {what} not found{_key(key)}")
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().splitlines()
    except UnicodeDecodeError:
        raise AnnotationError(f"{path}: not a UTF-8 text file (expected a {what}){_key(key)}"
                              ) from None


def read_keypoint_file(path: Path | str, key: str | None = None) -> KeypointFile:
    """Read a field-format keypoint file.

    A point with a negative coordinate in y or x is missing and becomes (-1, -1).
    Raises :class:`AnnotationError` (naming file and line, and the params ``key`` the path
    came from, if given) on a missing file, a wrong header, a file without any row or a
    malformed row. Messages never quote a header that is not the expected one: the file
    may be something else entirely.
    """
    path = Path(path)
    names: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    duplicates: list[str] = []
    row_lines: list[int] = []
    duplicate_lines: list[int] = []
    lines = _read_lines(path, "annotation file", key)
    if not lines:
        raise AnnotationError(f"{path}: empty file (expected header {HEADER!r}){_key(key)}")
    header = lines[0].replace(" ", "").lstrip("\ufeff")
    if header != HEADER:
        raise AnnotationError(f"{path}:1: the first line is not the header {HEADER!r} "
                              f"(not a field-format keypoint file?){_key(key)}")
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split(":")
        if len(parts) != 3:
            raise AnnotationError(f"{path}:{lineno}: expected 'name: [ys]: [xs]' "
                                  f"(3 colon-separated fields), got {len(parts)}")
        name = parts[0].strip()
        if not name:
            raise AnnotationError(f"{path}:{lineno}: empty image name")
        ys = _parse_list(parts[1], path, lineno, "keypoints_y")
        xs = _parse_list(parts[2], path, lineno, "keypoints_x")
        kp = np.stack([np.array(ys, np.float32), np.array(xs, np.float32)], axis=1)
        kp[(kp < 0).any(axis=1)] = MISSING
        if name in seen:
            duplicates.append(name)
            duplicate_lines.append(lineno)
            continue
        seen.add(name)
        names.append(name)
        rows.append(kp)
        row_lines.append(lineno)
    if not rows:
        raise AnnotationError(f"{path}: header only, no keypoint rows{_key(key)}")
    keypoints = np.stack(rows).astype(np.float32)
    all_missing = [n for n, kp in zip(names, keypoints) if (kp < 0).all()]
    return KeypointFile(path, names, keypoints, all_missing, duplicates, row_lines,
                        duplicate_lines)


def format_keypoint_row(name: str, keypoints: np.ndarray) -> str:
    """One row of the field's keypoint format; keypoints (18, 2) (y, x), -1 = missing."""
    kp = np.asarray(keypoints)
    if kp.shape != (NUM_KEYPOINTS, 2):
        raise ValueError(f"keypoints must be (18, 2), got {kp.shape}")
    missing = (kp < 0).any(axis=1)
    ys = [-1 if m else int(round(float(v))) for v, m in zip(kp[:, 0], missing)]
    xs = [-1 if m else int(round(float(v))) for v, m in zip(kp[:, 1], missing)]
    return f"{name}: {json.dumps(ys)}: {json.dumps(xs)}"


def write_keypoint_file(path: Path | str, names: list[str], keypoints: np.ndarray) -> None:
    """Write a field-format keypoint file (coordinates rounded to integer pixels), atomically."""
    from pipeline.artifacts.atomic import atomic_write_text

    lines = [HEADER] + [format_keypoint_row(n, k) for n, k in zip(names, keypoints)]
    atomic_write_text(path, "\n".join(lines) + "\n")


def read_pairs_file(path: Path | str, key: str | None = None) -> list[tuple[str, str]]:
    """Read a ``from,to`` pairs CSV; raise :class:`AnnotationError` naming file and line (and
    the params ``key`` the path came from, if given). A header-only file is an empty list."""
    path = Path(path)
    lines = _read_lines(path, "pairs file", key)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise AnnotationError(f"{path}: empty file (expected header 'from,to'){_key(key)}"
                              ) from None
    if [h.strip().lstrip("\ufeff") for h in header] != ["from", "to"]:
        raise AnnotationError(f"{path}:1: the first line is not the header 'from,to' "
                              f"(not a pairs file?){_key(key)}")
    pairs = []
    for lineno, row in enumerate(reader, start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise AnnotationError(f"{path}:{lineno}: expected two names 'from,to', got {row}")
        pairs.append((row[0].strip(), row[1].strip()))
    return pairs


def write_pairs_file(path: Path | str, pairs: list[tuple[str, str]]) -> None:
    """Write a ``from,to`` pairs CSV atomically."""
    from pipeline.artifacts.atomic import atomic_write_text

    atomic_write_text(path, "from,to\n" + "".join(f"{a},{b}\n" for a, b in pairs))
