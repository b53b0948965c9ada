"""Persons as the applications read them: from a photo, from arrays, from the prepared data.

A person is one side of a pair item (:class:`pipeline.datasets.pairs.PersonArrays`: image,
18 keypoints, 10-label parsing, part bit field, pose mask) in its frame, plus where it came
from. Three ways in, one result:

- ``PHOTO`` (any image file cv2 reads, any size): MediaPipe Pose gives the 18 keypoints and
  the person segmentation (:mod:`pipeline.pose.mediapipe_detector`); the person is framed
  into the working frame (:mod:`pipeline.applications.framing`); the weight-free coarse
  parser labels the framed photo (:mod:`pipeline.parsing.coarse`, its person mask from the
  framed segmentation); parts and pose mask come from :mod:`pipeline.geometry`, as in the
  ``masks`` stage. A photo whose hips MediaPipe misses (a portrait) gets the coarse parser's
  virtual torso (hips below the shoulders) unless that is switched off.
- ``prepared:N`` / ``prepared:NAME``: row N (0-based) or the image named NAME of the
  prepared artifacts (images, poses, parsing, masks .h5), in their stored frame, unchanged:
  the pair item is then exactly the datasets' item.
- :func:`person_from_arrays`: in-memory image, keypoints and parsing of one frame.

Every person needs a torso (Rsho, Lsho, Rhip, Lhip: the part affines are fitted on it,
docs/method.md §3); without one the input is refused with one line naming it.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.applications.errors import AppError
from pipeline.applications.framing import Framing, person_box
from pipeline.artifacts.reader import Artifact, open_aligned
from pipeline.datasets.pairs import PersonArrays
from pipeline.geometry import (KEYPOINT_NAMES, TORSO_POINTS, part_bitfield, pose_mask, torso_valid,
                               visible)
from pipeline.labels import NUM_KEYPOINTS, NUM_LABELS

#: Prefix of a person given as a row of the prepared data.
PREPARED_PREFIX = "prepared:"


@dataclass
class Person:
    """One person in its frame (H, W).

    arrays: image (H, W, 3) uint8, keypoints (18, 2) float32 (y, x) frame px (-1 = missing),
    labels (H, W) uint8 0..9, parts (H, W) uint16 bit field, pose_mask (H, W) bool.
    name: how it was given (a path, ``prepared:N``). info: how it was read (JSON-able).
    notes: what the user should know (e.g. a virtual torso), one line each.
    """

    arrays: PersonArrays
    name: str
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def image(self) -> np.ndarray:
        return self.arrays.image

    @property
    def keypoints(self) -> np.ndarray:
        return self.arrays.keypoints

    @property
    def labels(self) -> np.ndarray:
        return self.arrays.labels

    @property
    def frame_hw(self) -> tuple[int, int]:
        return self.arrays.frame_hw


def require_torso(kp: np.ndarray, where: str) -> None:
    """:class:`AppError` unless the four torso points are present."""
    if not torso_valid(np.asarray(kp, np.float64)):
        missing = [KEYPOINT_NAMES[i] for i in TORSO_POINTS if not visible(kp)[i]]
        raise AppError(f"{where}: the pose has no torso ({', '.join(missing)} missing; the "
                       f"part affines need Rsho, Lsho, Rhip and Lhip, docs/method.md §3)")


def check_keypoints(kp: Any, where: str) -> np.ndarray:
    """(18, 2) float32 keypoints with every missing point at -1, or :class:`AppError`."""
    arr = np.asarray(kp, np.float64)
    if arr.shape != (NUM_KEYPOINTS, 2):
        raise AppError(f"{where}: keypoints must be {NUM_KEYPOINTS} (y, x) points, got an "
                       f"array of shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise AppError(f"{where}: keypoints hold a non-finite value")
    arr[~visible(arr)] = -1.0
    return arr.astype(np.float32)


def check_labels(labels: np.ndarray, frame_hw: tuple[int, int], where: str) -> np.ndarray:
    """(H, W) uint8 labels 0..9 of the frame ``frame_hw``, or :class:`AppError`."""
    lab = np.asarray(labels)
    if lab.ndim != 2:
        raise AppError(f"{where}: a label map must be one channel (H, W), got shape "
                       f"{lab.shape}")
    if tuple(lab.shape) != tuple(frame_hw):
        raise AppError(f"{where}: the label map is {lab.shape[0]}x{lab.shape[1]} (HxW) but "
                       f"the person's frame is {frame_hw[0]}x{frame_hw[1]}")
    if not np.issubdtype(lab.dtype, np.integer) and not np.all(lab == np.round(lab)):
        raise AppError(f"{where}: the label map holds non-integer values")
    bad = np.unique(lab[(lab < 0) | (lab >= NUM_LABELS)])
    if len(bad):
        shown = ", ".join(str(int(v)) for v in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise AppError(f"{where}: labels outside 0..{NUM_LABELS - 1}: {shown}")
    return lab.astype(np.uint8)


def person_from_arrays(image: np.ndarray, keypoints: np.ndarray, labels: np.ndarray,
                       name: str = "arrays", info: dict[str, Any] | None = None,
                       notes: list[str] | None = None) -> Person:
    """A person from one frame's arrays: image (H, W, 3) uint8 RGB, keypoints (18, 2) (y, x)
    frame px (-1 = missing), labels (H, W) 0..9. Part bit field and pose mask are drawn with
    :mod:`pipeline.geometry` exactly as the ``masks`` stage draws them."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise AppError(f"{name}: the image must be (H, W, 3) uint8 RGB, got {img.shape} "
                       f"{img.dtype}")
    h, w = img.shape[:2]
    kp = check_keypoints(keypoints, name)
    require_torso(kp, name)
    lab = check_labels(labels, (h, w), name)
    arrays = PersonArrays(kp, pose_mask(kp, h, w), lab, part_bitfield(kp, h, w),
                          np.ascontiguousarray(img))
    return Person(arrays, name, dict(info or {}), list(notes or []))


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block: MediaPipe's C++ code (glog, absl,
    TFLite) logs several lines there on every graph build, which would bury the one-line
    errors of the command line. Python exceptions still propagate."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def is_file(path: Path | str) -> bool:
    """Whether ``path`` is a file; False also for names the system refuses (too long, ...)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def read_image(path: Path | str) -> np.ndarray:
    """An image file as (H, W, 3) uint8 RGB (grey and 16-bit images converted), or
    :class:`AppError` naming the file."""
    path = Path(path)
    if not is_file(path):
        raise AppError(f"{path}: no such file")
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        raise AppError(f"{path}: not a readable image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


@dataclass
class Readers:
    """How the applications read persons: settings and the lazily built MediaPipe detector.

    prepared: folder of the prepared artifacts (``prepared:`` persons). frame_hw: working
    frame of photos (:func:`pipeline.applications.framing.work_frame`). min_visibility:
    MediaPipe landmarks less visible than this are missing. virtual_torso: complete a photo's
    missing hips (portraits) with the coarse parser's virtual torso. person_threshold:
    segmentation probability above which a pixel is person.
    """

    prepared: Path
    frame_hw: tuple[int, int]
    min_visibility: float = 0.5
    virtual_torso: bool = True
    person_threshold: float = 0.5

    def __post_init__(self) -> None:
        self._detector: Any = None
        self._artifacts: dict[str, Artifact] | None = None

    # -- photos ----------------------------------------------------------------------------
    def _detect(self, path: Path, image: np.ndarray) -> Any:
        if self._detector is None:
            from pipeline.pose.mediapipe_detector import MediaPipeDetector  # noqa: PLC0415
            self._detector = MediaPipeDetector(self.min_visibility)
        try:
            with quiet_native_stderr():
                return self._detector.detect(image)
        except ImportError as err:
            raise AppError(f"{path}: reading a photo needs MediaPipe ({err})") from None

    def photo(self, path: Path | str) -> Person:
        """The person of a photo (module docstring): detected, framed, parsed."""
        from pipeline.parsing.coarse import (coarse_parse_with_info, person_mask,  # noqa: PLC0415
                                             virtual_torso)
        path = Path(path)
        image = read_image(path)
        det = self._detect(path, image)
        if not det.found or det.num_points == 0:
            raise AppError(f"{path}: no person found (MediaPipe Pose)")
        kp = det.keypoints.copy()
        notes: list[str] = []
        used_virtual = False
        if not torso_valid(kp) and self.virtual_torso:
            completed, used_virtual = virtual_torso(kp)
            if used_virtual and torso_valid(completed):
                missing = [KEYPOINT_NAMES[i] for i in TORSO_POINTS if not visible(kp)[i]]
                notes.append(f"{path}: {', '.join(missing)} not detected; a virtual torso "
                             f"stands in (hips below the shoulders)")
                kp = completed.astype(np.float32)
        require_torso(kp, f"{path} (detected pose)")
        framing = Framing.around(person_box(det.segmentation > self.person_threshold,
                                            det.keypoints), self.frame_hw)
        framed = framing.image(image)
        seg = framing.soft_map(det.segmentation)
        kp_f = framing.keypoints(kp)
        require_torso(kp_f, f"{path} (framed pose)")
        h, w = self.frame_hw
        mask, mask_source = person_mask(seg, kp_f, h, w, self.person_threshold, image=framed)
        labels, parse = coarse_parse_with_info(framed, kp_f, mask)
        parse = replace(parse, mask_source=mask_source)
        info = {"kind": "photo", "picture_hw": list(image.shape[:2]),
                "framing": framing.to_dict(), "virtual_torso": bool(used_virtual),
                "keypoints_detected": int(det.num_points), "parse": asdict(parse)}
        return person_from_arrays(framed, kp_f, labels, str(path), info, notes)

    # -- prepared rows ---------------------------------------------------------------------
    def _arts(self) -> dict[str, Artifact]:
        if self._artifacts is None:
            self._artifacts = open_aligned(("poses", "parsing", "masks"), self.prepared)
        return self._artifacts

    def prepared_row(self, spec: str) -> Person:
        """The person of ``prepared:N`` / ``prepared:NAME``: the stored arrays, unchanged."""
        key = spec[len(PREPARED_PREFIX):]
        arts = self._arts()
        names = arts["images"].names
        if key.isdigit():
            row = int(key)
            if row >= len(names):
                raise AppError(f"{arts['images'].path}: {spec}: no row {row} (the prepared "
                               f"data holds rows 0..{len(names) - 1})")
        elif key in names:
            row = names.index(key)
        else:
            raise AppError(f"{arts['images'].path}: {spec}: no image named {key!r} (give a "
                           f"row number or one of the names in /names)")
        kp = check_keypoints(arts["poses"]["keypoints"][row], spec)
        require_torso(kp, f"{spec} ({names[row]})")
        arrays = PersonArrays(kp, arts["masks"]["pose_mask"][row],
                              arts["parsing"]["labels"][row], arts["masks"]["parts"][row],
                              arts["images"]["images"][row])
        info = {"kind": "prepared", "folder": str(self.prepared), "row": row,
                "image_name": names[row]}
        return Person(arrays, spec, info)

    # -- either ----------------------------------------------------------------------------
    def person(self, spec: str) -> Person:
        """A person given as ``prepared:N`` / ``prepared:NAME`` or as a photo path."""
        if spec.startswith(PREPARED_PREFIX):
            return self.prepared_row(spec)
        return self.photo(spec)

    def close(self) -> None:
        """Release MediaPipe and the artifact files."""
        if self._detector is not None:
            self._detector.close()
            self._detector = None
        for art in (self._artifacts or {}).values():
            art.close()
        self._artifacts = None

    def __enter__(self) -> "Readers":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
