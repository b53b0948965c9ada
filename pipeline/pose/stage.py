"""Stage library of `pose`: 18 keypoints and their confidence for every image -> poses.h5.

Backends (``pose.backend``): ``synthetic`` (the generator's exact ground truth,
``<data.root>/truth.h5``), ``annotations`` (the field's keypoint files ``data.annotations``,
placed from each image's original size into the stored frame as ingest placed the image,
``data.fit``), ``mediapipe`` (the offline detector, docs/method.md §7) and ``auto`` (an
annotation row where one exists, the detector otherwise).

poses.h5 layout: /names; /keypoints (N, 18, 2) float32 (y, x) image pixels, -1 missing;
/confidence (N, 18) float32 in [0, 1] (1 for ground truth and annotations, the landmark
visibility for the detector, 0 where missing); /source (N,) uint8 (see SOURCE_NAMES).
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
from pipeline.synthetic.truth import read_truth

if TYPE_CHECKING:
    from pipeline.config.data import DataParams
    from pipeline.config.params import Params
    from pipeline.config.pose import PoseParams

#: /source codes of poses.h5 (index = code).
SOURCE_NAMES = ("none", "synthetic ground truth", "annotation", "detector")
SRC_NONE, SRC_SYNTHETIC, SRC_ANNOTATION, SRC_DETECTOR = range(len(SOURCE_NAMES))

#: Images per detector chunk (one joblib task).
DETECT_CHUNK = 32

#: Annotation rows with out-of-frame points named one by one on the console [choice].
OUTSIDE_SHOWN = 10


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
    entries = []
    for i in np.flatnonzero(outside.any(axis=1)):
        points = [KEYPOINT_NAMES[j] for j in np.flatnonzero(outside[i])]
        oh, ow = (int(v) for v in original[i])
        entries.append(f"{where[names[i]]}: {names[i]}: {len(points)} point(s) outside the "
                       f"{oh}x{ow} image, set missing ({', '.join(points)})")
    return kp, has, int(outside.sum()), entries


def _detect_chunk(indices: np.ndarray, images_path: str, detector
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detect a chunk of images. ``detector`` arrives pickled in each joblib task; its copies
    share one MediaPipe graph per worker process, built on first use."""
    art = Artifact(images_path)
    kp = np.full((len(indices), NUM_KEYPOINTS, 2), -1, np.float32)
    conf = np.zeros((len(indices), NUM_KEYPOINTS), np.float32)
    found = np.zeros(len(indices), bool)
    for row, i in enumerate(indices):
        d = detector.detect(art["images"][int(i)])
        kp[row], conf[row], found[row] = d.keypoints, d.confidence, d.found
    return kp, conf, found


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
    if params.backend in ("annotations", "auto"):
        original = (images["original_size"][:] if "original_size" in images
                    else np.tile([h, w], (n, 1)))
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
    if params.backend in ("mediapipe", "auto"):
        todo = np.flatnonzero(source == SRC_NONE) if params.backend == "auto" else np.arange(n)
        no_person = []
        row = 0
        from pipeline.pose.mediapipe_detector import MediaPipeDetector

        detector = MediaPipeDetector(params.min_visibility)
        for dk, dc, found in map_chunks(_detect_chunk, todo, params.workers, "pose (mediapipe)",
                                        chunk=DETECT_CHUNK, progress=progress,
                                        images_path=str(images.path), detector=detector):
            idx = todo[row:row + len(dk)]
            kp[idx], conf[idx] = dk, dc
            source[idx] = SRC_DETECTOR
            no_person += [names[i] for i, f in zip(idx, found) if not f]
            row += len(dk)
        detector.close()
        summary["detector_found_no_person"] = no_person
    present = (kp >= 0).all(axis=2)
    conf[present & (source[:, None] != SRC_DETECTOR)] = 1.0
    conf[~present] = 0.0
    return kp, conf, source, summary


def summary_text(summary: dict) -> str:
    """The stage's console output: one line, then the annotation rows with points outside
    their image (``file:line: image: ...``, up to :data:`OUTSIDE_SHOWN`)."""
    lines = [f"pose ({summary['backend']}): {summary['images']} images, "
             f"{summary['torso_valid']} with a full torso, {len(summary['all_missing'])} "
             f"with no keypoint"]
    outside = summary.get("annotation_rows_outside_frame", [])
    if outside:
        lines.append(f"warning: {summary['annotation_points_outside_frame']} annotation "
                     f"point(s) outside their image in {len(outside)} row(s), set missing:")
        lines += capped_lines(outside, OUTSIDE_SHOWN)
    return "\n".join(lines)
