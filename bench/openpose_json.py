"""Benchmark: the OpenPose JSON reader (pose.backend=openpose) on a folder of generated files,
and the one-line message of every malformed case.

Writes ``--files`` OpenPose ``--write_json`` files into a temporary folder: the real
DeepFashion annotation rows of data/annotations (tiled, jittered by up to 2 px, random
confidences in [0.05, 1], missing points written as OpenPose's (0, 0, 0); a row without any
point becomes a file without people), alternately in the COCO-18 and the BODY_25 layout
(MidHip between the hips, the feet below the ankles), one file in ``--multi`` with a second
person before the subject: another row at half the size, confidences x 0.4. Times
:func:`pipeline.pose.openpose_json.read_openpose_folder` (folder index, matching, parsing,
validation, one person per image; best of ``--repeats``), then the same plus the stage's
placement of every point into a padded frame (256x176 photos in 256x256, ``data.fit=pad``),
and counts the multi-person files
where the subject was kept, naming the others with the subject's number of points. Then
writes one file per malformed case into a second folder and prints the message each
produces, and the stage's error for that folder.

    .venv/bin/python bench/openpose_json.py [--files 2000] [--multi 0.1] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from pipeline.annotations import read_keypoint_file
from pipeline.ingest.frame import fit_box
from pipeline.pose.openpose_json import (
    BODY_25_TO_18, OpenPoseError, json_name, read_openpose_folder, read_openpose_json)
from pipeline.pose.stage import openpose_rows

FASION = REPO / "data" / "annotations" / "fasion-annotation-sample.csv"   # 256 x 256 frame

#: BODY_25 indices [OpenPose poseParameters.cpp]: MidHip, the hips, the ankles, the feet.
MID_HIP, R_HIP, L_HIP, R_ANKLE, L_ANKLE = 8, 9, 12, 11, 14
L_FEET, R_FEET = (19, 20, 21), (22, 23, 24)


def _xyc(kp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(18, 3) x, y, c of keypoints (18, 2) (y, x), -1 missing -> (0, 0, 0), jittered."""
    out = np.zeros((18, 3))
    present = (kp >= 0).all(axis=1)
    out[present, 0] = kp[present, 1] + rng.uniform(-2, 2, present.sum())
    out[present, 1] = kp[present, 0] + rng.uniform(-2, 2, present.sum())
    out[present, 2] = rng.uniform(0.05, 1.0, present.sum())
    out[present, :2] = np.clip(out[present, :2], 0, 255)
    return out


def _body25(xyc18: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(25, 3) BODY_25 parts of an 18-point person: MidHip between the hips, feet below
    the ankles (where those are found)."""
    out = np.zeros((25, 3))
    out[list(BODY_25_TO_18)] = xyc18
    hips = out[[R_HIP, L_HIP]]
    if (hips[:, 2] > 0).all():
        out[MID_HIP] = (*hips[:, :2].mean(axis=0), hips[:, 2].min())
    for ankle, feet in ((L_ANKLE, L_FEET), (R_ANKLE, R_FEET)):
        if out[ankle, 2] > 0:
            for j in feet:
                out[j] = (out[ankle, 0] + rng.uniform(-6, 6), out[ankle, 1] + rng.uniform(2, 8),
                          rng.uniform(0.05, 1.0))
    return out


def write_folder(folder: Path, n: int, multi: float, seed: int = 0
                 ) -> tuple[list[str], dict[str, np.ndarray], int]:
    """Write ``n`` files; returns (image names, name -> the subject's (18, 3) of each
    multi-person file, number of BODY_25 files)."""
    rng = np.random.default_rng(seed)
    rows = read_keypoint_file(FASION).keypoints
    folder.mkdir(parents=True)
    names, subjects, body25 = [], {}, 0
    for i in range(n):
        name = f"img_{i:05d}.jpg"
        subject = _xyc(rows[i % len(rows)], rng)
        people = [subject] if subject[:, 2].any() else []      # an all-missing row: nobody
        if people and rng.random() < multi:       # a bystander: half the size, less sure
            other = _xyc(rows[rng.integers(len(rows))] * 0.5, rng)
            other[:, 2] *= 0.4
            people = [other, subject]
            subjects[name] = subject
        if i % 2:
            people = [_body25(p, rng) for p in people]
            body25 += 1
        doc = {"version": 1.3, "people": [
            {"person_id": [-1], "pose_keypoints_2d": [round(float(v), 3) for v in p.ravel()],
             "face_keypoints_2d": [], "hand_left_keypoints_2d": [],
             "hand_right_keypoints_2d": []} for p in people]}
        (folder / json_name(name)).write_text(json.dumps(doc))
        names.append(name)
    return names, subjects, body25


#: One file per malformed case: name -> file content (bytes, or a JSON value to dump).
GOOD = [0.0] * 54
MALFORMED: dict[str, object] = {
    "not JSON": b"{people: [}",
    "empty file": b"",
    "not UTF-8": b"\xff\xfe\x00{",
    "top level a list": [{"pose_keypoints_2d": GOOD}],
    "no people key": {"version": 1.3},
    "people not a list": {"people": {"0": {"pose_keypoints_2d": GOOD}}},
    "person without pose_keypoints_2d": {"people": [{"face_keypoints_2d": []}]},
    "pose_keypoints_2d a string": {"people": [{"pose_keypoints_2d": "1,2,0.5"}]},
    "a string value": {"people": [{"pose_keypoints_2d": ["7"] + GOOD[1:]}]},
    "a null value": {"people": [{"pose_keypoints_2d": GOOD[:2] + [None] + GOOD[3:]}]},
    "a bool value": {"people": [{"pose_keypoints_2d": [True] + GOOD[1:]}]},
    "length 51 (17 points)": {"people": [{"pose_keypoints_2d": GOOD[:51]}]},
    "length 0 (--body 0)": {"people": [{"pose_keypoints_2d": []}]},
    "NaN": b'{"people": [{"pose_keypoints_2d": [NaN' + b", 0" * 53 + b"]}]}",
    "Infinity": b'{"people": [{"pose_keypoints_2d": [0, Infinity' + b", 0" * 52 + b"]}]}",
    "negative confidence": {"people": [{"pose_keypoints_2d": GOOD[:5] + [-0.3] + GOOD[6:]}]},
    "two layouts in one file": {"people": [{"pose_keypoints_2d": GOOD},
                                           {"pose_keypoints_2d": [0.0] * 75}]},
}


def malformed_folder(folder: Path) -> list[tuple[str, str]]:
    """Write one file per case of :data:`MALFORMED`; returns (case, image name)."""
    folder.mkdir(parents=True)
    cases = []
    for k, (case, content) in enumerate(MALFORMED.items()):
        name = f"bad_{k:02d}.jpg"
        data = content if isinstance(content, bytes) else json.dumps(content).encode()
        (folder / json_name(name)).write_bytes(data)
        cases.append((case, name))
    (folder / json_name("unreadable.jpg")).mkdir()             # a folder named like a file
    cases.append(("unreadable (a folder)", "unreadable.jpg"))
    return cases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--multi", type=float, default=0.1,
                    help="share of the files with people that hold two")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "openpose"
        t0 = time.perf_counter()
        names, subjects, body25 = write_folder(folder, args.files, args.multi)
        written = time.perf_counter() - t0
        native = np.tile([256, 176], (len(names), 1))
        frames = np.tile(fit_box((256, 176), (256, 256), "pad"), (len(names), 1))
        steps = {"reader": lambda: read_openpose_folder(folder, names),
                 "reader + placement": lambda: openpose_rows(folder, names, native, frames)}
        best = {}
        for step, fn in steps.items():
            best[step] = float("inf")
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                fn()
                best[step] = min(best[step], time.perf_counter() - t0)
        read = read_openpose_folder(folder, names)
        lost = [f"{nm} (subject {int((subj[:, 2] > 0).sum())} points)"
                for nm, subj in subjects.items()
                if not np.allclose(read.xyc[names.index(nm)], subj, atol=1e-3)]
        print(f"{args.files} files ({args.files - body25} COCO-18, {body25} BODY_25, "
              f"{len(subjects)} with two people), written in {written:.2f} s; reader best of "
              f"{args.repeats}, one process")
        print(f"{'step':<20}{'files':>7}{'seconds':>10}{'files/s':>10}{'ms/file':>9}")
        for step, dt in best.items():
            print(f"{step:<20}{args.files:>7}{dt:>10.3f}{args.files / dt:>10,.0f}"
                  f"{1000 * dt / args.files:>9.3f}")
        print(f"layouts read: {read.layouts}; images with a person: {int(read.found.sum())}, "
              f"files without people: {len(read.no_person)}; several people: "
              f"{len(read.several)} files, the subject kept in {len(subjects) - len(lost)} of "
              f"{len(subjects)}" + (f", not in: {', '.join(lost)}" if lost else ""))

        bad = Path(tmp) / "malformed"
        cases = malformed_folder(bad)
        print(f"\nmalformed cases ({len(cases)}), one line each (read_openpose_json):")
        for case, name in cases:
            try:
                read_openpose_json(bad / json_name(name))
                message = "NOT REPORTED"
            except OpenPoseError as err:
                message = str(err).replace(str(bad) + "/", "")
            print(f"  {case:<34} {message}")
        try:
            read_openpose_folder(bad, [name for _, name in cases])
            print("\nthe stage's error: NONE")
        except OpenPoseError as err:
            lines = str(err).replace(str(bad), "<dir>").splitlines()
            print(f"\nthe stage's error (pose.backend=openpose on that folder), "
                  f"{len(lines)} lines:\n  " + "\n  ".join(lines[:3]) + "\n  ...")


if __name__ == "__main__":
    main()
