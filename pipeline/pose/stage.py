"""Stage library of `pose`: 18 keypoints and their confidence for every image -> poses.h5.

Backends (``pose.backend``): ``synthetic`` (the generator's exact ground truth,
``<data.root>/truth.h5``), ``annotations`` (the field's keypoint files ``data.annotations``,
placed from each image's original size into the stored frame as ingest placed the image,
``data.fit``), ``mediapipe`` (the offline detector, docs/method.md §7), ``openpose`` (OpenPose's
``--write_json`` files in ``pose.openpose_dir``, one person per image, placed like the
annotations; :mod:`pipeline.pose.openpose_json`) and ``auto`` (an annotation row where one
exists, else an OpenPose person when ``pose.openpose_dir`` is set, else the detector).

poses.h5 layout: /names; /keypoints (N, 18, 2) float32 (y, x) image pixels, -1 missing;
/confidence (N, 18) float32 in [0, 1] (1 for ground truth and annotations, the landmark
visibility for the detector, OpenPose's confidence for its files, 0 where missing); /source
(N,) uint8 (see SOURCE_NAMES).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.annotations import AnnotationError, read_keypoint_file
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.artifacts.stage_writer import stage_output
from pipeline.artifacts.store import write_array
from pipeline.cli import capped_lines
from pipeline.config.base import dataset_path, section_dict
from pipeline.geometry import KEYPOINT_NAMES, NUM_KEYPOINTS, torso_valid
from pipeline.ingest.frame import outside_box, place_keypoints, stored_frames
from pipeline.parallel import map_chunks
from pipeline.pose.openpose_json import OpenPoseError, read_openpose_folder, to_keypoints
from pipeline.synthetic.truth import read_truth

if TYPE_CHECKING:
    from pipeline.config.data import DataParams
    from pipeline.config.params import Params
    from pipeline.config.pose import PoseParams

#: /source codes of poses.h5 (index = code).
SOURCE_NAMES = ("none", "synthetic ground truth", "annotation", "detector", "OpenPose JSON")
SRC_NONE, SRC_SYNTHETIC, SRC_ANNOTATION, SRC_DETECTOR, SRC_OPENPOSE = range(len(SOURCE_NAMES))

#: Images per detector chunk (one joblib task).
DETECT_CHUNK = 32

#: Annotation rows with out-of-frame points, and OpenPose files of each kind reported, named
#: one by one on the console [choice].
OUTSIDE_SHOWN = 10

#: params key of the OpenPose folder, named in its errors.
OPENPOSE_KEY = "pose.openpose_dir"


def _annotation_rows(data: DataParams, root: Path, names: list[str], original: np.ndarray,
                     frames: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, int, list[str]]:
    """Keypoints from annotation files, in the stored frame: placed from each image's
    original size into its box ``frames`` (N, 4) as ingest placed the image (data.fit).

    An image's first row is used (ingest reports the repeated ones). Points outside the image
    become missing. Returns (kp (N, 18, 2) float32, has_row (N,) bool, number of points
    outside, one ``file:line: image: ...`` entry per row with points outside).
    """
    rows: dict[str, np.ndarray] = {}
    where: dict[str, str] = {}
    for rel in data.annotations:
        ann = read_keypoint_file(dataset_path(root, rel, "data.annotations"),
                                 key="data.annotations")
        for name, row in ann.as_dict().items():
            rows.setdefault(name, row)
        for name, location in ann.where().items():
            where.setdefault(name, location)
    kp = np.full((len(names), NUM_KEYPOINTS, 2), -1, np.float32)
    has = np.zeros(len(names), bool)
    for i, name in enumerate(names):
        if name in rows:
            has[i] = True
            kp[i] = place_keypoints(rows[name], tuple(original[i]), tuple(frames[i]))
    outside = outside_box(kp, frames)
    kp[outside] = -1
    labels = [f"{where[nm]}: {nm}" if nm in where else nm for nm in names]
    return kp, has, int(outside.sum()), _outside_entries(outside, original, labels)


def _outside_entries(outside: np.ndarray, original: np.ndarray, where: list[str]) -> list[str]:
    """``<where>: k point(s) outside the HxW image, set missing (names)`` for every row of
    ``outside`` (N, 18) bool with a point outside; ``where`` (N,) names each row."""
    entries = []
    for i in np.flatnonzero(outside.any(axis=1)):
        points = [KEYPOINT_NAMES[j] for j in np.flatnonzero(outside[i])]
        oh, ow = (int(v) for v in original[i])
        entries.append(f"{where[i]}: {len(points)} point(s) outside the {oh}x{ow} image, set "
                       f"missing ({', '.join(points)})")
    return entries


def openpose_rows(folder: Path, names: list[str], original: np.ndarray, frames: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """The kept OpenPose person of each image of ``names``, in the stored frame: placed from
    each image's original size ``original`` (N, 2) into its box ``frames`` (N, 4) as ingest
    placed the image, as the annotations are. Points left of, above, right of or below the
    image become missing.

    Returns (kp (N, 18, 2) float32 (y, x) px, -1 missing; confidence (N, 18) float32;
    found (N,) bool: the image's file holds a person; the summary's ``openpose_*`` entries).
    """
    read = read_openpose_folder(folder, names, OPENPOSE_KEY)
    native, conf, outside = to_keypoints(read.xyc)
    kp = np.stack([place_keypoints(k, tuple(o), tuple(b))
                   for k, o, b in zip(native, original, frames)]) if len(names) else native
    outside |= outside_box(kp, frames)
    kp[outside] = -1
    conf[outside] = 0
    where = [str(f) for f in read.files]
    report = {
        "openpose_dir": str(folder),
        "openpose_layouts": read.layouts,
        "openpose_several_people": read.several,
        "openpose_no_person": read.no_person,
        "openpose_no_file": read.no_file,
        "openpose_json_without_image": read.unmatched,
        "openpose_points_outside_frame": int(outside.sum()),
        "openpose_files_outside_frame": _outside_entries(outside, original, where),
    }
    return kp, conf, read.found, report


def _detect_chunk(indices: np.ndarray, images_path: str, detector
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Detect a chunk of images. ``detector`` arrives pickled in each joblib task; its copies
    share one MediaPipe graph per worker process, built on first use. Returns keypoints,
    confidence, found, and the side check's flipped and uncertain flags (all False without
    ``pose.side_check``)."""
    art = Artifact(images_path)
    kp = np.full((len(indices), NUM_KEYPOINTS, 2), -1, np.float32)
    conf = np.zeros((len(indices), NUM_KEYPOINTS), np.float32)
    found = np.zeros(len(indices), bool)
    flipped = np.zeros(len(indices), bool)
    uncertain = np.zeros(len(indices), bool)
    for row, i in enumerate(indices):
        d = detector.detect(art["images"][int(i)])
        kp[row], conf[row], found[row] = d.keypoints, d.confidence, d.found
        if d.side is not None:
            flipped[row], uncertain[row] = d.side.flip, d.side.uncertain
    return kp, conf, found, flipped, uncertain


def run(params: Params, paths: Paths, progress: bool = True) -> dict:
    """Write poses.h5 for every image of images.h5; returns the summary."""
    pose, data = params.pose, params.data
    root = paths.dataset(data.root)
    with stage_output(paths, "poses", inputs=["images"], params=section_dict(pose),
                      description="18 OpenPose keypoints of every image (docs/method.md §1)") as out:
        images = out.inputs["images"]
        kp, conf, source, summary = _estimate(pose, data, root, images, progress)
        f = out.file
        write_array(f, "keypoints", kp, f"{NUM_KEYPOINTS} keypoints in OpenPose/COCO order "
                    "(attribute keypoint_names); -1 in both coordinates = missing",
                    "(N, 18, 2)", "float32 (y, x) pixels of the stored image",
                    keypoint_names=list(KEYPOINT_NAMES))
        write_array(f, "confidence", conf, "confidence of each keypoint; 0 where missing",
                    "(N, 18)", "float32 in [0, 1]")
        write_array(f, "source", source, "where each image's keypoints came from", "(N,)",
                    "uint8 code", source_names=list(SOURCE_NAMES))
        present = (kp >= 0).all(axis=2)
        names = images.names
        summary.update({
            "torso_valid": int(np.asarray(torso_valid(kp), bool).sum()),
            "all_missing": [nm for nm, p in zip(names, present) if not p.any()],
            "missing_fraction_per_point": {k: float(1 - present[:, j].mean())
                                           for j, k in enumerate(KEYPOINT_NAMES)},
            "source_counts": {name: int((source == c).sum())
                              for c, name in enumerate(SOURCE_NAMES)},
        })
        out.summary.update(summary)
    return out.summary


def _estimate(params: PoseParams, data: DataParams, root: Path, images: Artifact, progress: bool
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Keypoints (N, 18, 2), confidence (N, 18), source codes (N,) and a partial summary."""
    names = images.names
    n = len(names)
    _, h, w, _ = images["images"].shape
    kp = np.full((n, NUM_KEYPOINTS, 2), -1, np.float32)
    conf = np.zeros((n, NUM_KEYPOINTS), np.float32)
    source = np.full(n, SRC_NONE, np.uint8)
    summary: dict = {"images": n, "backend": params.backend}

    if params.backend == "synthetic":
        truth = read_truth(root)
        kp = truth.keypoints[truth.rows(names)]
        source[:] = SRC_SYNTHETIC
    original = (images["original_size"][:] if "original_size" in images
                else np.tile([h, w], (n, 1)))
    if params.backend in ("annotations", "auto"):
        ann, has, clipped, outside = _annotation_rows(data, root, names, original,
                                                      stored_frames(images))
        if params.backend == "annotations" and not has.any():
            raise AnnotationError(f"{root}: no image has a row in the annotation files "
                                  f"{', '.join(data.annotations)} (data.annotations)")
        kp[has] = ann[has]
        source[has] = SRC_ANNOTATION
        summary["without_annotation_row"] = [nm for nm, o in zip(names, has) if not o]
        summary["annotation_points_outside_frame"] = clipped
        summary["annotation_rows_outside_frame"] = outside
    if params.backend == "openpose" or (params.backend == "auto" and params.openpose_dir):
        folder = dataset_path(root, params.openpose_dir, OPENPOSE_KEY)
        todo = np.flatnonzero(source == SRC_NONE)
        op_kp, op_conf, found, report = openpose_rows(
            folder, [names[i] for i in todo], original[todo], stored_frames(images)[todo])
        if params.backend == "openpose" and not found.any():
            what = ("no file holds a person" if report["openpose_no_person"] else
                    "no <image stem>_keypoints.json file is named after an image")
            raise OpenPoseError(f"{folder}: {what} ({OPENPOSE_KEY})")
        idx = todo[found]
        kp[idx], conf[idx] = op_kp[found], op_conf[found]
        source[idx] = SRC_OPENPOSE
        summary.update(report)
    if params.backend in ("mediapipe", "auto"):
        todo = np.flatnonzero(source == SRC_NONE) if params.backend == "auto" else np.arange(n)
        no_person, flipped, uncertain = [], [], 0
        row = 0
        from pipeline.pose.mediapipe_detector import MediaPipeDetector

        detector = MediaPipeDetector(params.min_visibility, side_check=params.side_check)
        for dk, dc, found, fl, un in map_chunks(_detect_chunk, todo, params.workers,
                                                "pose (mediapipe)", chunk=DETECT_CHUNK,
                                                progress=progress,
                                                images_path=str(images.path), detector=detector):
            idx = todo[row:row + len(dk)]
            kp[idx], conf[idx] = dk, dc
            source[idx] = SRC_DETECTOR
            no_person += [names[i] for i, f in zip(idx, found) if not f]
            flipped += [names[i] for i, f in zip(idx, fl) if f]
            uncertain += int(un.sum())
            row += len(dk)
        detector.close()
        summary["detector_found_no_person"] = no_person
        if params.side_check:
            summary["side_check_flipped"] = flipped
            summary["side_check_uncertain"] = uncertain
    present = (kp >= 0).all(axis=2)
    conf[present & np.isin(source, (SRC_SYNTHETIC, SRC_ANNOTATION))[:, None]] = 1.0
    conf[~present] = 0.0
    return kp, conf, source, summary


def _openpose_text(summary: dict) -> list[str]:
    """Console lines of the OpenPose files read: counts, then by file (up to
    :data:`OUTSIDE_SHOWN` each) those with several people, the images without a person or
    without a file, and the files with points outside their image."""
    layouts = ", ".join(f"{k} {v}" for k, v in sorted(summary["openpose_layouts"].items()))
    several, outside = summary["openpose_several_people"], summary["openpose_files_outside_frame"]
    missing = summary["openpose_no_person"] + summary["openpose_no_file"]
    with_person = sum(summary["openpose_layouts"].values())
    lines = [f"OpenPose JSON ({summary['openpose_dir']}): {with_person} image(s) with a person "
             f"({layouts or 'none'}), {len(several)} with several people, "
             f"{len(summary['openpose_no_person'])} file(s) with no person, "
             f"{len(summary['openpose_no_file'])} image(s) without a file, "
             f"{summary['openpose_json_without_image']} file(s) named after no image"]
    if several:
        lines.append(f"note: {len(several)} file(s) with several people; kept the one with "
                     f"the largest confidence sum over the 18 points:")
        lines += capped_lines(several, OUTSIDE_SHOWN)
    if missing:
        lines.append(f"warning: {len(missing)} image(s) without an OpenPose person:")
        lines += capped_lines(missing, OUTSIDE_SHOWN)
    if outside:
        lines.append(f"warning: {summary['openpose_points_outside_frame']} OpenPose point(s) "
                     f"outside their image in {len(outside)} file(s), set missing:")
        lines += capped_lines(outside, OUTSIDE_SHOWN)
    return lines


def summary_text(summary: dict) -> str:
    """The stage's console output: one line, then the annotation rows with points outside
    their image (``file:line: image: ...``, up to :data:`OUTSIDE_SHOWN`), then what the
    OpenPose files held (:func:`_openpose_text`) when they were read, then the side check's
    counts when the detector ran with it."""
    lines = [f"pose ({summary['backend']}): {summary['images']} images, "
             f"{summary['torso_valid']} with a full torso, {len(summary['all_missing'])} "
             f"with no keypoint"]
    outside = summary.get("annotation_rows_outside_frame", [])
    if outside:
        lines.append(f"warning: {summary['annotation_points_outside_frame']} annotation "
                     f"point(s) outside their image in {len(outside)} row(s), set missing:")
        lines += capped_lines(outside, OUTSIDE_SHOWN)
    if "openpose_dir" in summary:
        lines += _openpose_text(summary)
    if "side_check_flipped" in summary:
        lines.append(f"side check: {len(summary['side_check_flipped'])} mirrored back view(s) "
                     f"given back their left and right, {summary['side_check_uncertain']} "
                     f"detection(s) with uncertain sides (confidence halved)")
    return "\n".join(lines)
