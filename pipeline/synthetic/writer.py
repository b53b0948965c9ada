"""Write a SyntheticDataset to its folder, atomically.

Layout of ``out_dir``::

    images/NAME.png      RGB PNG
    parsing/NAME.png     single-channel uint8 PNG, label values 0..9 (pipeline.labels)
    annotations.csv      field keypoint format (name:keypoints_y:keypoints_x), rounded px
    pairs-test.csv       from,to
    truth.h5             exact ground truth (see write_truth)
    summary.json         counts per split and view, real vs prior poses, missing keypoints

The folder is built in a temporary sibling and renamed over ``out_dir``; the previous
folder is moved aside first and deleted only once the new one is in place, so an
interrupted write leaves the previous dataset intact. The temporary siblings a killed
earlier write left behind are deleted when the next write starts. Equal datasets give
byte-identical folders (no time or version is stored; truth.h5 goes through
:func:`pipeline.artifacts.store.atomic_h5`).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from pipeline.annotations import write_keypoint_file, write_pairs_file
from pipeline.artifacts.atomic import atomic_write_json
from pipeline.artifacts.store import atomic_h5, write_array, write_names, write_strings
from pipeline.labels import KEYPOINT_NAMES, LABEL_NAMES
from pipeline.synthetic.dataset import SyntheticDataset
from pipeline.synthetic.skeleton import VIEW_NAMES
from pipeline.synthetic.truth import truth_path

SPLIT_NAMES = ("train", "test")


def _write_png(path: Path, array: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", array)
    if not ok:
        raise OSError(f"{path}: PNG encoding failed")
    path.write_bytes(buf.tobytes())


def write_images(ds: SyntheticDataset, folder: Path) -> None:
    """images/NAME.png (RGB) and parsing/NAME.png (labels) for every row."""
    (folder / "images").mkdir(parents=True)
    (folder / "parsing").mkdir(parents=True)
    for i, name in enumerate(ds.names):
        _write_png(folder / "images" / name, np.ascontiguousarray(ds.images[i][..., ::-1]))
        _write_png(folder / "parsing" / name, ds.labels[i])


def write_truth(ds: SyntheticDataset, path: Path, params_dict: dict) -> None:
    """truth.h5: /names, /keypoints, /skeleton, /view, /identity, /split, /person_id,
    /real_pose, /pose_source; root attrs identities (JSON), height, width, background."""
    with atomic_h5(path, stage="synthesize", params=params_dict, source="data.synthetic",
                   description="ground truth of the synthetic people dataset") as f:
        write_names(f, ds.names)
        write_array(f, "keypoints", ds.keypoints.astype(np.float32),
                    "visible keypoints, exact (unrounded); -1 where outside the frame or hidden "
                    "by the view", "(N, 18, 2)", "px (y, x), float32, -1 = missing",
                    keypoint_names=list(KEYPOINT_NAMES))
        write_array(f, "skeleton", ds.skeletons.astype(np.float32),
                    "full skeleton the image was rendered from, every point placed (possibly "
                    "outside the frame); Oracle.render(identity, skeleton) re-creates the image",
                    "(N, 18, 2)", "px (y, x), float32", keypoint_names=list(KEYPOINT_NAMES))
        write_array(f, "view", ds.views.astype(np.uint8),
                    "view derived from the skeleton (pipeline.synthetic.skeleton.derive_view)",
                    "(N,)", "code: 0 front, 1 back, 2 side", view_names=list(VIEW_NAMES))
        write_array(f, "identity", ds.identity.astype(np.int32),
                    "identity index (row of the root attribute `identities`)", "(N,)", "index")
        write_array(f, "split", ds.split.astype(np.uint8), "split by identity", "(N,)",
                    "code: 0 train, 1 test")
        write_strings(f, "person_id", ds.person_id, "person id id{k:05d} of each row")
        write_array(f, "real_pose", ds.real_pose.astype(np.uint8),
                    "1 = pose taken from the real annotation file, 0 = joint-angle prior",
                    "(N,)", "bool as uint8")
        write_strings(f, "pose_source", ds.pose_source,
                      "image name of the real annotation row the pose came from ('' = prior)")
        f.attrs["identities"] = json.dumps([i.to_dict() for i in ds.identities])
        f.attrs["height"] = ds.height
        f.attrs["width"] = ds.width
        f.attrs["background"] = ds.background
        f.attrs["label_names"] = json.dumps(list(LABEL_NAMES))


def summary(ds: SyntheticDataset) -> dict:
    """Counts per split and view, real vs prior poses, missing keypoint share per point."""
    missing = (ds.keypoints < 0).any(axis=2)          # (N, 18)
    per_split = {}
    for code, name in enumerate(SPLIT_NAMES):
        rows = ds.split == code
        per_split[name] = {"images": int(rows.sum()),
                           "identities": int(len(np.unique(ds.identity[rows])))}
    return {
        "images": len(ds.names),
        "identities": len(ds.identities),
        "height": ds.height,
        "width": ds.width,
        "split": per_split,
        "view": {name: int((ds.views == code).sum()) for code, name in enumerate(VIEW_NAMES)},
        "poses": {"real": int(ds.real_pose.sum()), "prior": int((~ds.real_pose).sum())},
        "real_pose_file": ds.real_pose_report,
        "test_pairs": len(ds.test_pairs),
        "missing_keypoint_fraction": {
            n: round(float(missing[:, i].mean()), 4) if len(ds.names) else 0.0
            for i, n in enumerate(KEYPOINT_NAMES)},
        "label_pixel_fraction": {
            n: round(float(np.mean(ds.labels == i)), 4) if len(ds.names) else 0.0
            for i, n in enumerate(LABEL_NAMES)},
    }


def stale_temporaries(out_dir: Path) -> list[Path]:
    """Temporary folders a killed :func:`write_dataset` of ``out_dir`` left beside it."""
    out_dir = Path(out_dir)
    if not out_dir.parent.is_dir():
        return []
    return sorted(p for pattern in (f".{out_dir.name}.tmp-*", f".{out_dir.name}.old-*")
                  for p in out_dir.parent.glob(pattern) if p.is_dir())


def write_dataset(ds: SyntheticDataset, out_dir: Path, params_dict: dict) -> dict:
    """Write the dataset folder (module docstring) atomically; params_dict is recorded as
    truth.h5's provenance. Returns the summary (also written as summary.json)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    for stale in stale_temporaries(out_dir):
        shutil.rmtree(stale, ignore_errors=True)
    info = summary(ds)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        write_images(ds, tmp)
        write_keypoint_file(tmp / "annotations.csv", ds.names, ds.keypoints)
        write_pairs_file(tmp / "pairs-test.csv", ds.test_pairs)
        write_truth(ds, truth_path(tmp), params_dict)
        atomic_write_json(tmp / "summary.json", info)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, old / out_dir.name)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        if old is not None:
            os.replace(old / out_dir.name, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return info
