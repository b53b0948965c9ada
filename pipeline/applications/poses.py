"""Target poses of pose transfer: ``--pose TARGET`` in any of the accepted forms.

TARGET is one of (tried in this order):

- ``prepared:N`` / ``prepared:NAME``: a person of the prepared data (its pose and parsing).
- A JSON list of 18 ``[y, x]`` points in docs/method.md §1 order (0 nose, 1 neck, 2 Rsho, 3 Relb,
  4 Rwri, 5 Lsho, 6 Lelb, 7 Lwri, 8 Rhip, 9 Rkne, 10 Rank, 11 Lhip, 12 Lkne, 13 Lank,
  14-17 eyes and ears; R/L = the person's own sides), ``-1`` = missing: given literally
  (starts with ``[``) or as a ``.json`` file.
- One row of the field's annotation format, ``name: [18 ys]: [18 xs]``, given literally, or
  a ``.csv`` / ``.txt`` annotation file (header ``name:keypoints_y:keypoints_x``); a file of
  several rows needs the row's image name: ``FILE.csv@NAME``.
- Any other path: a photo, whose person's pose is detected (and framed) like a source photo.

Coordinates of a pose given as numbers are framed by the pose's own box (``fit``: the box of
its points widened by :data:`pipeline.applications.framing.POSE_MARGIN`, placed like a
photo's person), or, with ``pose_frame="HxW"``, read as pixels of an H x W picture that is
fitted whole into the working frame (e.g. ``256x256`` for DeepFashion annotations,
``128x64`` for Market-1501).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.annotations import read_keypoint_file
from pipeline.applications.errors import AppError
from pipeline.applications.framing import POSE_MARGIN, Framing, keypoint_box
from pipeline.applications.person import (PREPARED_PREFIX, Person, Readers, check_keypoints,
                                          is_file, require_torso)
from pipeline.datasets.pairs import PersonArrays
from pipeline.geometry import pose_mask
from pipeline.labels import NUM_KEYPOINTS

#: A literal annotation row: ``name: [ys]: [xs]``.
_ANNOTATION_ROW = re.compile(r"^[^:\[\]]*:\s*\[[^\]]*\]\s*:\s*\[[^\]]*\]\s*$")
#: File suffixes read as annotation files / JSON poses.
ANNOTATION_SUFFIXES = (".csv", ".txt")
JSON_SUFFIXES = (".json",)


@dataclass
class Target:
    """The target side of a pose transfer in its frame: arrays (keypoints, pose mask; the
    parsing, parts and image only when the target is a person), how it was given, and
    what was read (JSON-able)."""

    arrays: PersonArrays
    name: str
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of_person(cls, person: Person) -> "Target":
        return cls(person.arrays, person.name, dict(person.info), list(person.notes))


def parse_pose_frame(text: str) -> tuple[int, int] | None:
    """``fit`` -> None; ``HxW`` -> (H, W); else :class:`AppError`."""
    if text == "fit":
        return None
    m = re.fullmatch(r"(\d+)[xX,](\d+)", text.strip())
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise AppError(f"--pose-frame {text!r}: expected 'fit' or HxW (e.g. 256x256)")
    return int(m.group(1)), int(m.group(2))


def _number_list(value: Any, where: str, what: str) -> list[float]:
    if not isinstance(value, list) or len(value) != NUM_KEYPOINTS:
        n = len(value) if isinstance(value, list) else type(value).__name__
        raise AppError(f"{where}: {what} must list {NUM_KEYPOINTS} numbers, got {n}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise AppError(f"{where}: {what} holds {v!r}, not a finite number")
    return [float(v) for v in value]


def parse_json_pose(text: str, where: str) -> np.ndarray:
    """A JSON list of 18 [y, x] points -> (18, 2) float32 (-1 = missing)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise AppError(f"{where}: not valid JSON ({err.msg} at character {err.pos})") from None
    if not isinstance(value, list) or len(value) != NUM_KEYPOINTS:
        n = len(value) if isinstance(value, list) else type(value).__name__
        raise AppError(f"{where}: a JSON pose must list {NUM_KEYPOINTS} [y, x] points (docs/method.md §1 "
                       f"order, -1 = missing), got {n}")
    points = []
    for i, p in enumerate(value):
        if (not isinstance(p, list) or len(p) != 2
                or any(isinstance(v, bool) or not isinstance(v, (int, float))
                       or not math.isfinite(v) for v in p)):
            raise AppError(f"{where}: point {i} is {p!r}, not a [y, x] pair of numbers")
        points.append([float(p[0]), float(p[1])])
    return check_keypoints(points, where)


def parse_annotation_row(text: str, where: str) -> tuple[str, np.ndarray]:
    """``name: [18 ys]: [18 xs]`` -> (name, (18, 2) float32 (y, x), -1 = missing)."""
    fields = text.split(":")
    if len(fields) != 3:
        raise AppError(f"{where}: expected 'name: [ys]: [xs]' (3 colon-separated fields), got "
                       f"{len(fields)}")
    lists = []
    for part, what in zip(fields[1:], ("keypoints_y", "keypoints_x")):
        try:
            value = json.loads(part)
        except json.JSONDecodeError:
            raise AppError(f"{where}: {what} is not a JSON list: {part.strip()[:40]!r}"
                           ) from None
        lists.append(_number_list(value, where, what))
    kp = np.stack([np.array(lists[0]), np.array(lists[1])], axis=1)
    return fields[0].strip(), check_keypoints(kp, where)


def _annotation_file(path: Path, name: str | None, spec: str) -> tuple[str, np.ndarray]:
    ann = read_keypoint_file(path)
    rows = ann.as_dict()
    if name is None:
        if len(ann.names) != 1:
            raise AppError(f"{path}: holds {len(ann.names)} rows; name one as "
                           f"{path}@IMAGE_NAME (e.g. {path}@{ann.names[0]})")
        name = ann.names[0]
    if name not in rows:
        raise AppError(f"{path}: no row named {name!r} ({spec})")
    return name, check_keypoints(rows[name], f"{path}@{name}")


def pose_only(kp: np.ndarray, where: str, frame_hw: tuple[int, int],
              pose_frame: tuple[int, int] | None, info: dict[str, Any]) -> Target:
    """A target given by keypoints of a picture (module docstring: ``fit`` or ``HxW``),
    framed into ``frame_hw``; its pose mask is drawn there (no parsing, parts or image)."""
    require_torso(kp, where)
    framing = (Framing.around(keypoint_box(kp, POSE_MARGIN), frame_hw) if pose_frame is None
               else Framing.letterbox(pose_frame, frame_hw))
    kp_f = framing.keypoints(kp)
    require_torso(kp_f, f"{where} (framed)")
    h, w = frame_hw
    info = dict(info, framing=framing.to_dict(),
                pose_frame="fit" if pose_frame is None else list(pose_frame))
    return Target(PersonArrays(kp_f, pose_mask(kp_f, h, w)), where, info)


def _split_row(spec: str) -> tuple[Path, str | None]:
    """``FILE@NAME`` -> (FILE, NAME) when FILE exists and ``spec`` itself does not."""
    if "@" in spec and not is_file(spec):
        head, name = spec.rsplit("@", 1)
        if is_file(head):
            return Path(head), name
    return Path(spec), None


def read_target(spec: str, readers: Readers, pose_frame: tuple[int, int] | None = None
                ) -> Target:
    """The target of ``--pose spec`` (module docstring), in the working frame of
    ``readers`` (prepared persons: in their stored frame)."""
    text = spec.strip()
    frame = readers.frame_hw
    if text.startswith(PREPARED_PREFIX):
        return Target.of_person(readers.prepared_row(text))
    if text.startswith("["):
        kp = parse_json_pose(text, "--pose (JSON)")
        return pose_only(kp, "--pose (JSON)", frame, pose_frame, {"kind": "json"})
    if _ANNOTATION_ROW.match(text) and not is_file(spec):
        name, kp = parse_annotation_row(text, "--pose (annotation row)")
        return pose_only(kp, f"--pose {name}", frame, pose_frame,
                         {"kind": "annotation row", "name": name})
    path, row = _split_row(spec)
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES or suffix in ANNOTATION_SUFFIXES:
        if not is_file(path):
            raise AppError(f"{path}: no such file")
        if suffix in JSON_SUFFIXES:
            kp = parse_json_pose(path.read_text(encoding="utf-8", errors="replace"), str(path))
            return pose_only(kp, str(path), frame, pose_frame, {"kind": "json",
                                                                 "file": str(path)})
        name, kp = _annotation_file(path, row, spec)
        return pose_only(kp, f"{path}@{name}", frame, pose_frame,
                         {"kind": "annotation file", "file": str(path), "name": name})
    return Target.of_person(readers.photo(path))
