"""Reader of OpenPose's per-image JSON output (``openpose --write_json DIR``).

One file per image, named ``<image stem>_keypoints.json``, holding
``{"people": [{"pose_keypoints_2d": [x0, y0, c0, x1, y1, c1, ...]}, ...]}``: pixel coordinates
of the image OpenPose read (x = column, y = row; OpenPose's default ``--keypoint_scale 0``)
and a confidence ``c`` per body part, ``(0, 0, 0)`` for a part it did not find.

The layout is told by the length of ``pose_keypoints_2d``: 54 numbers = COCO-18
(``--model_pose COCO``, already this project's 18-point order), 75 = BODY_25 (OpenPose's
default model), mapped to the 18 points by name (MidHip and the six foot points dropped).

One person per image (:func:`choose_person`): the one with the largest sum of confidences
over the 18 points. A malformed file is an :class:`OpenPoseError` whose message is one line,
``path: problem``; :func:`read_openpose_folder` reads every file of a run and raises once,
naming up to :data:`BAD_FILES_SHOWN` of them.

    from pipeline.pose.openpose_json import read_openpose_json
    frame = read_openpose_json("img_0001_keypoints.json")
    frame.xyc.shape            # (P, 18, 3) float32: x, y px and confidence, per person
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.annotations import AnnotationError
from pipeline.cli import capped_lines
from pipeline.labels import NUM_KEYPOINTS

#: OpenPose's body part orders [OpenPose, src/openpose/pose/poseParameters.cpp,
#: POSE_BODY_25_BODY_PARTS and POSE_COCO_BODY_PARTS, background left out; listed in
#: doc/02_output.md "Keypoint Ordering in C++/Python"]. R/L are the person's own sides.
BODY_25_PARTS: tuple[str, ...] = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
    "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel")
COCO_18_PARTS: tuple[str, ...] = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip",
    "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar")
#: BODY_25 index of each of the 18 points (pipeline.labels.KEYPOINT_NAMES order, which is
#: OpenPose's COCO order): MidHip (8) and the feet (19-24) are not used.
BODY_25_TO_18: tuple[int, ...] = tuple(BODY_25_PARTS.index(p) for p in COCO_18_PARTS)

#: Layout name by the length of ``pose_keypoints_2d`` (x, y, c per body part).
LAYOUTS: dict[int, str] = {3 * len(COCO_18_PARTS): "COCO-18", 3 * len(BODY_25_PARTS): "BODY_25"}
#: Index into the file's body parts of each of the 18 points, by layout.
TO_18: dict[str, np.ndarray] = {"COCO-18": np.arange(len(COCO_18_PARTS)),
                                "BODY_25": np.asarray(BODY_25_TO_18)}

#: OpenPose's output name of an image: ``<stem>_keypoints.json`` [OpenPose, --write_json:
#: the image's name without extension, then ``_keypoints.json``].
JSON_SUFFIX = "_keypoints.json"

#: Malformed files named in the error of :func:`read_openpose_folder`; the rest are counted
#: [choice, as parse's unusable label maps].
BAD_FILES_SHOWN = 20


class OpenPoseError(AnnotationError):
    """A malformed OpenPose JSON file (``path: problem``) or an unusable OpenPose folder; an
    AnnotationError, so a stage script prints it as one error and exits 1."""


@dataclass(frozen=True)
class OpenPoseFrame:
    """The people of one OpenPose JSON file, in the 18-point order.

    path: the file. layout: "COCO-18" or "BODY_25" (None when ``people`` is empty).
    xyc: (P, 18, 3) float32 per person and point: x, y in pixels of the image OpenPose read
    and the confidence (OpenPose's ``c``, >= 0; 0 = not found, its x and y are then 0).
    """

    path: Path
    layout: str | None
    xyc: np.ndarray

    @property
    def people(self) -> int:
        """Number of people in the file."""
        return len(self.xyc)


def _problem(path: Path, text: str) -> OpenPoseError:
    return OpenPoseError(f"{path}: {text}")


def _person(values: object, path: Path, where: str) -> tuple[str, np.ndarray]:
    """(layout, (18, 3) float32 x, y, c) of one ``pose_keypoints_2d``; OpenPoseError else."""
    if not isinstance(values, list):
        raise _problem(path, f"{where} is not a list (got {type(values).__name__})")
    if not all(type(v) in (int, float) for v in values):          # bool is not a number here
        i, v = next((i, v) for i, v in enumerate(values) if type(v) not in (int, float))
        raise _problem(path, f"{where}[{i}] is not a number: {v!r}"[:200])
    if len(values) not in LAYOUTS:
        raise _problem(path, f"{where} holds {len(values)} numbers; expected 54 (COCO-18) "
                             f"or 75 (BODY_25): x, y, confidence per body part")
    if not all(math.isfinite(v) for v in values):
        i = next(i for i, v in enumerate(values) if not math.isfinite(v))
        raise _problem(path, f"{where}[{i}] is not finite: {values[i]!r}")
    layout = LAYOUTS[len(values)]
    parts = np.asarray(values, np.float64).reshape(-1, 3)
    negative = np.flatnonzero(parts[:, 2] < 0)
    if negative.size:
        j = int(negative[0])
        name = (BODY_25_PARTS if layout == "BODY_25" else COCO_18_PARTS)[j]
        raise _problem(path, f"{where}: confidence {parts[j, 2]:g} of body part {j} ({name}) "
                             f"is negative")
    return layout, parts[TO_18[layout]].astype(np.float32)


def parse_openpose(doc: object, path: Path | str) -> OpenPoseFrame:
    """The people of a decoded OpenPose JSON document ``doc``; OpenPoseError naming ``path``
    and the problem (no ``people`` list, a person without a ``pose_keypoints_2d`` list of 54
    or 75 finite numbers, a negative confidence, two layouts in one file)."""
    path = Path(path)
    if not isinstance(doc, dict):
        raise _problem(path, f"not an OpenPose JSON object (the top level is a "
                             f"{type(doc).__name__})")
    if "people" not in doc:
        raise _problem(path, "no 'people' list (not an OpenPose --write_json file?)")
    people = doc["people"]
    if not isinstance(people, list):
        raise _problem(path, f"'people' is not a list (got {type(people).__name__})")
    layouts, rows = [], []
    for p, person in enumerate(people):
        if not isinstance(person, dict) or "pose_keypoints_2d" not in person:
            raise _problem(path, f"people[{p}] has no 'pose_keypoints_2d'")
        layout, xyc = _person(person["pose_keypoints_2d"], path,
                              f"people[{p}].pose_keypoints_2d")
        layouts.append(layout)
        rows.append(xyc)
    if len(set(layouts)) > 1:
        both = ", ".join(sorted(set(layouts)))
        raise _problem(path, f"people of two layouts in one file ({both})")
    xyc = np.stack(rows) if rows else np.zeros((0, NUM_KEYPOINTS, 3), np.float32)
    return OpenPoseFrame(path, layouts[0] if layouts else None, xyc)


def read_openpose_json(path: Path | str) -> OpenPoseFrame:
    """Read one OpenPose JSON file; OpenPoseError (``path: problem``, one line) if it cannot be
    read, is not JSON or is malformed (:func:`parse_openpose`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise _problem(path, f"cannot be read ({err.strerror or err})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _problem(path, "not a UTF-8 text file (expected OpenPose JSON)") from None
    if not text.strip():
        raise _problem(path, "empty file (expected OpenPose JSON)")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise _problem(path, f"not valid JSON (line {err.lineno} column {err.colno}: "
                             f"{err.msg})") from None
    return parse_openpose(doc, path)


def person_scores(xyc: np.ndarray) -> np.ndarray:
    """(P,) float64 sum of the confidences of each person's 18 points (xyc: (P, 18, 3))."""
    return np.asarray(xyc, np.float64)[..., 2].sum(axis=-1)


def choose_person(frame: OpenPoseFrame) -> int | None:
    """Index of the person kept for the image: the largest sum of confidences over the 18
    points (the first of equal ones, in file order); None for a file without people or
    whose people have no found point (all confidences 0).

    Why this rule [choice]: the subject of a person-centred photo (DeepFashion, Market-1501)
    is the person OpenPose finds most completely and most surely, while bystanders and
    spurious fragments are cut off at the border or hold a few weak points. Unlike the size
    of the box of a person's points, the sum needs no threshold and does not favour a
    fragment of two far-apart points. It can pick a small, fully visible person behind a
    half-visible subject: the images with several people are reported by file for a look.
    """
    scores = person_scores(frame.xyc)
    if frame.people == 0 or scores.max() <= 0:
        return None
    return int(np.argmax(scores))


def to_keypoints(xyc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenPose's (x, y, c) as this project's keypoints, in the frame OpenPose read.

    xyc: (..., 18, 3) float. Returns (kp (..., 18, 2) float32 (y, x) px, -1 = missing;
    confidence (..., 18) float32 in [0, 1], 0 where missing; negative (..., 18) bool). A
    point is missing where OpenPose found none (c = 0) and where a found point lies left of
    or above the image (x < 0 or y < 0: flagged in ``negative``). Confidences above 1 are
    clipped to 1, the range of poses.h5 /confidence.
    """
    xyc = np.asarray(xyc, np.float32)
    found = xyc[..., 2] > 0
    negative = found & ((xyc[..., 0] < 0) | (xyc[..., 1] < 0))
    present = found & ~negative
    kp = np.where(present[..., None], xyc[..., 1::-1], np.float32(-1)).astype(np.float32)
    conf = np.where(present, np.minimum(xyc[..., 2], 1), 0).astype(np.float32)
    return kp, conf, negative


def json_name(image_name: str) -> str:
    """OpenPose's JSON file name of an image: ``alice_1.jpg`` -> ``alice_1_keypoints.json``."""
    return Path(image_name).stem + JSON_SUFFIX


@dataclass
class OpenPoseFolder:
    """The kept person of every image, read from a folder of OpenPose JSON files.

    xyc: (N, 18, 3) float32 x, y px of the image OpenPose read and confidence of the kept
        person; all 0 where the image has no person (``found`` False).
    found: (N,) bool, the image's file holds at least one person.
    files: (N,) path of each image's JSON file (None where there is none).
    layouts: layout name -> number of files of that layout (files without people not
        counted).
    several: ``path: P people, kept person k (confidence sum s; next t)`` per file with
        more than one person.
    no_person: ``path: no person`` per file whose ``people`` list is empty (``path: no
        found point in P people`` where its people are all confidence 0).
    no_file: ``image: no <stem>_keypoints.json`` per image without a file.
    unmatched: number of ``*_keypoints.json`` files of the folder named after no image.
    """

    xyc: np.ndarray
    found: np.ndarray
    files: list[Path | None]
    layouts: dict[str, int] = field(default_factory=dict)
    several: list[str] = field(default_factory=list)
    no_person: list[str] = field(default_factory=list)
    no_file: list[str] = field(default_factory=list)
    unmatched: int = 0


def index_folder(folder: Path) -> dict[str, list[Path]]:
    """``*_keypoints.json`` files under ``folder`` (recursive, sorted), by file name: a flat
    OpenPose output folder or one that mirrors the image folders."""
    index: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*" + JSON_SUFFIX)):
        index.setdefault(path.name, []).append(path)
    return index


def _match(names: list[str], index: dict[str, list[Path]], key: str) -> list[Path | None]:
    """Each image's JSON file (None where none); OpenPoseError where the match is ambiguous:
    one file name in two folders, or two images of one stem (``a.jpg``, ``a.png``)."""
    files: list[Path | None] = []
    owner: dict[str, str] = {}
    for name in names:
        target = json_name(name)
        paths = index.get(target, [])
        if len(paths) > 1:
            raise OpenPoseError(f"{paths[1]}: the file name also occurs at {paths[0]}; which "
                                f"one holds {name}? ({key})")
        if paths and target in owner:
            raise OpenPoseError(f"{paths[0]}: named after two images, {owner[target]} and "
                                f"{name} (same stem); rename one ({key})")
        owner[target] = name
        files.append(paths[0] if paths else None)
    return files


def malformed_error(errors: list[str], n: int, folder: Path, key: str) -> OpenPoseError:
    """One error naming the malformed files (``path: problem``, up to
    :data:`BAD_FILES_SHOWN`; the single line itself when there is one)."""
    if len(errors) == 1:
        return OpenPoseError(f"{errors[0]} ({key})")
    lines = [f"{folder}: {len(errors)} of {n} OpenPose JSON files malformed ({key}):"]
    lines += capped_lines(errors, BAD_FILES_SHOWN)
    return OpenPoseError("\n".join(lines))


def read_openpose_folder(folder: Path | str, names: list[str],
                         key: str = "pose.openpose_dir") -> OpenPoseFolder:
    """Read the OpenPose JSON file of each image of ``names`` from ``folder`` (searched
    recursively for ``<stem>_keypoints.json``) and keep one person each (:func:`choose_person`).

    Every file is read before failing: OpenPoseError naming each malformed file (one line,
    ``path: problem``), also for a missing folder or an ambiguous match; ``key`` (the params
    key of the folder) ends each message. Images without a file are reported, not an error.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise OpenPoseError(f"{folder}: OpenPose JSON folder not found ({key})")
    index = index_folder(folder)
    files = _match(names, index, key)
    n = len(names)
    out = OpenPoseFolder(np.zeros((n, NUM_KEYPOINTS, 3), np.float32), np.zeros(n, bool), files)
    wanted = {json_name(nm) for nm in names}
    out.unmatched = sum(len(paths) for name, paths in index.items() if name not in wanted)
    errors = []
    for i, (name, path) in enumerate(zip(names, files)):
        if path is None:
            out.no_file.append(f"{name}: no {json_name(name)}")
            continue
        try:
            frame = read_openpose_json(path)
        except OpenPoseError as err:
            errors.append(str(err))
            continue
        k = choose_person(frame)
        if k is None:
            out.no_person.append(f"{path}: no person" if frame.people == 0 else
                                 f"{path}: no found point in {frame.people} people")
            continue
        out.layouts[frame.layout] = out.layouts.get(frame.layout, 0) + 1
        out.xyc[i], out.found[i] = frame.xyc[k], True
        if frame.people > 1:
            scores = person_scores(frame.xyc)
            runner_up = np.sort(np.delete(scores, k))[-1]
            out.several.append(f"{path}: {frame.people} people, kept person {k} (confidence "
                               f"sum {scores[k]:.2f}; next {runner_up:.2f})")
    if errors:
        raise malformed_error(errors, sum(f is not None for f in files), folder, key)
    return out
