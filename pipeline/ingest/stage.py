"""Stage library of `ingest`: a dataset folder (synthetic, DeepFashion, Market-1501 or plain
photos) -> images.h5.

Nothing is dropped silently: every image that is left out, every annotation row
without an image, every pair that cannot be resolved is listed with its reason in
the summary written beside the artifact (``images.summary.json``).

images.h5 layout: /names; /images (N, H, W, 3) uint8 RGB; /split (N,) uint8 (SPLIT_*);
/person_id (N,) str; /original_size (N, 2) int32 (height, width); /pairs/test and
/pairs/train (M, 2) int32 row indices; with ``data.fit: pad`` also /frame (N, 4) int32
(y0, x0, h, w): where each native image lies in the stored frame (pipeline.ingest.frame).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from pipeline.annotations import read_keypoint_file, read_pairs_file
from pipeline.artifacts.codes import SPLIT_NAMES, SPLIT_TEST, SPLIT_TRAIN
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.stage_writer import stage_output
from pipeline.artifacts.store import write_array, write_names, write_strings
from pipeline.cli import capped_lines
from pipeline.config.base import dataset_path, section_dict
from pipeline.ingest.frame import (FRAME_DATASET, FRAME_DESCRIPTION, effective_fit, fit_box,
                                   place_image)
from pipeline.labels import NUM_KEYPOINTS
from pipeline.parallel import map_chunks

if TYPE_CHECKING:
    from pipeline.config.data import DataParams
    from pipeline.config.params import Params

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")

#: Market-1501 ids of junk/distractor images (person id field "-1" or "0000") [dataset docs].
MARKET_DISTRACTOR_IDS = ("-1", "0000")

_DEEPFASHION_ID = re.compile(r"id\d+")
_SYNTHETIC_ID = re.compile(r"^synth_(id\d+)_")

#: Repeated annotation rows named one by one on the console; the rest are counted [choice].
DUPLICATES_SHOWN = 10


class IngestError(ValueError):
    """A dataset that cannot be ingested at all (the message names the file or folder)."""


@dataclass
class IngestReport:
    """What was kept and what was left out, with reasons (written as JSON)."""

    source: str
    root: str
    kept: int = 0
    left_out: dict[str, list[str]] = field(default_factory=dict)
    resized: list[str] = field(default_factory=list)
    annotation_rows_without_image: list[str] = field(default_factory=list)
    annotation_rows_all_missing: list[str] = field(default_factory=list)
    annotation_duplicates: list[str] = field(default_factory=list)
    annotation_duplicate_rows: list[str] = field(default_factory=list)
    images_without_annotation: list[str] = field(default_factory=list)
    pairs_dropped: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def leave_out(self, reason: str, name: str) -> None:
        self.left_out.setdefault(reason, []).append(name)

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["left_out_total"] = sum(len(v) for v in self.left_out.values())
        d["left_out_counts"] = {k: len(v) for k, v in self.left_out.items()}
        return d


# --------------------------------------------------------------------------- identities
def person_id(name: str, source: str) -> str | None:
    """Person identity of an image name; None if the name carries none.

    deepfashion: the ``id...`` token (``fasionWOMENDressesid0000553705_4full.jpg`` ->
    ``id0000553705``, the photo set shared by the dataset's test pairs);
    market: the first ``_`` field (``0161_c3s3_033053_04.jpg`` -> ``0161``);
    synthetic: ``synth_id00012_03front.png`` -> ``id00012``;
    folder: the file stem up to the first ``_`` (``alice_2.jpg`` -> ``alice``).
    """
    stem = Path(name).stem
    if source == "deepfashion":
        m = _DEEPFASHION_ID.search(stem)
        return m.group() if m else None
    if source == "market":
        return stem.split("_")[0] if "_" in stem else None
    if source == "synthetic":
        m = _SYNTHETIC_ID.match(stem)
        return m.group(1) if m else None
    return stem.split("_")[0]


def _fraction_split(pid: str, fraction: float) -> int:
    """Deterministic identity split by hash (stable across runs and machines)."""
    h = int(hashlib.sha1(pid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return SPLIT_TEST if h < fraction else SPLIT_TRAIN


# --------------------------------------------------------------------------- listing
def list_images(folder: Path) -> dict[str, Path]:
    """Image files under ``folder`` (recursive), by file name; duplicate names are an error."""
    if not folder.is_dir():
        raise IngestError(f"{folder}: image folder not found (data.images)")
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
            if path.name in found:
                raise IngestError(f"{path}: the image name {path.name!r} also occurs at "
                                  f"{found[path.name]}; names must be unique across folders")
            found[path.name] = path
    return found


# --------------------------------------------------------------------------- decoding
def _load_image(path: Path, height: int, width: int, fit: str, pad_value: int = 255
                ) -> tuple[np.ndarray | None, str, tuple[int, int]]:
    """Decode one image to (H, W, 3) uint8 RGB; another size is left out (``fit`` exact),
    stretched or padded (:mod:`pipeline.ingest.frame`).

    Returns (image or None, status, (height, width) as decoded).
    """
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        return None, "does not decode", (0, 0)
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    original = (int(img.shape[0]), int(img.shape[1]))
    if original != (height, width):
        if fit == "exact":
            return (None, f"size {img.shape[0]}x{img.shape[1]} != {height}x{width} "
                          f"(data.resize=false, data.fit=exact)", original)
        box = fit_box(original, (height, width), fit)
        img = place_image(img, (height, width), box, pad_value)
        return img, "resized", original
    return img, "ok", original


def _load_chunk(paths: list[Path], height: int, width: int, fit: str, pad_value: int
                ) -> list[tuple[np.ndarray | None, str, tuple[int, int]]]:
    return [_load_image(p, height, width, fit, pad_value) for p in paths]


#: Images per decoding chunk (one joblib task).
CHUNK = 64


# --------------------------------------------------------------------------- main entry
def run(params: Params, paths: Paths, progress: bool = True) -> dict:
    """Read the dataset described by ``params.data`` and write images.h5 atomically.

    Returns the summary (also written to images.summary.json): what was kept and what was
    left out, with reasons.
    """
    data = params.data
    root = paths.dataset(data.root)
    if not root.is_dir():
        raise IngestError(f"{root}: dataset folder not found (data.root)")
    record = section_dict(data, exclude=("synthetic",))
    if data.fit == "exact":
        # recorded only when set (an images.h5 written before data.fit existed is unchanged)
        for key in ("fit", "pad_value"):
            record.pop(key)
    with stage_output(paths, "images", params=record, source=data.root,
                      description="Person images of the dataset, one row per image") as out:
        report = _ingest(data, root, out.file, progress)
        out.summary.update(report.to_dict())
    return out.summary


def _ingest(params: DataParams, root: Path, f, progress: bool) -> IngestReport:
    """Fill the open images.h5 ``f`` from the dataset folder ``root``."""
    report = IngestReport(source=params.source, root=params.root)
    image_dir = dataset_path(root, params.images, "data.images")
    files = list_images(image_dir)
    if not files:
        raise IngestError(f"{image_dir}: no images found "
                          f"(extensions {', '.join(IMAGE_EXTENSIONS)})")

    # annotations: reported against the images (the pose stage reads the keypoints)
    annotated: set[str] = set()
    for rel in params.annotations:
        ann = read_keypoint_file(dataset_path(root, rel, "data.annotations"),
                                 key="data.annotations")
        where = ann.where()
        again = [n for n in ann.names if n in annotated]     # rows of an earlier file
        annotated.update(ann.names)
        report.annotation_rows_all_missing += ann.all_missing
        report.annotation_duplicates += ann.duplicates + again
        report.annotation_duplicate_rows += ann.duplicate_rows() + [f"{where[n]}: {n}"
                                                                    for n in again]
        report.annotation_rows_without_image += [n for n in ann.names if n not in files]
    if params.annotations:
        report.images_without_annotation = sorted(n for n in files if n not in annotated)

    test_pairs = (read_pairs_file(dataset_path(root, params.pairs, "data.pairs"),
                                  key="data.pairs") if params.pairs else [])
    train_pairs = (read_pairs_file(dataset_path(root, params.train_pairs, "data.train_pairs"),
                                   key="data.train_pairs") if params.train_pairs else [])

    # identities and distractors
    candidates: list[str] = []
    pids: dict[str, str] = {}
    for name in files:
        pid = person_id(name, params.source)
        if pid is None:
            report.leave_out(f"no person id in the name ({params.source} naming)", name)
            continue
        if params.source == "market" and pid in MARKET_DISTRACTOR_IDS:
            report.leave_out("Market-1501 distractor/junk id (-1 or 0000)", name)
            continue
        pids[name] = pid
        candidates.append(name)

    # decode (parallel, in chunks) and write incrementally
    h, w = params.height, params.width
    fit = effective_fit(params.resize, params.fit)
    kept: list[str] = []
    original: list[tuple[int, int]] = []
    images = f.create_dataset("images", shape=(0, h, w, 3), maxshape=(None, h, w, 3),
                              dtype=np.uint8, chunks=(1, h, w, 3), compression="gzip",
                              compression_opts=4, track_times=False)
    images.attrs.update(description="RGB person images", shape="(N, H, W, 3)",
                        units="uint8 RGB, 0..255")
    results_iter = map_chunks(_load_chunk, [files[n] for n in candidates], params.workers,
                              "ingest", chunk=CHUNK, progress=progress, height=h, width=w,
                              fit=fit, pad_value=params.pad_value)
    start_row = 0
    for results in results_iter:
        names = candidates[start_row:start_row + len(results)]
        start_row += len(results)
        good = []
        for name, (img, status, orig) in zip(names, results):
            if img is None:
                report.leave_out(status, name)
                continue
            if status == "resized":
                report.resized.append(name)
            good.append(img)
            kept.append(name)
            original.append(orig)
        if good:
            start = images.shape[0]
            images.resize(start + len(good), axis=0)
            images[start:] = np.stack(good)
    if not kept:
        raise IngestError(f"{root}: no usable image (left out: "
                          f"{ {k: len(v) for k, v in report.left_out.items()} })")

    index = {n: i for i, n in enumerate(kept)}
    person = [pids[n] for n in kept]
    split = _split(params, kept, person, files, root, test_pairs, index)
    write_names(f, kept)
    write_array(f, "split", split, "train/test split of each image, by identity",
                "(N,)", "uint8: 0 train, 1 test",
                split_names=[SPLIT_NAMES[c] for c in sorted(SPLIT_NAMES)],
                split_rule=params.split_by)
    write_strings(f, "person_id", person, "person identity of each image (from its name)")
    write_array(f, "original_size", np.asarray(original, np.int32).reshape(-1, 2),
                "size of each image file before any resize (annotations are in this frame)",
                "(N, 2)", "int32 pixels (height, width)")
    if fit == "pad":
        frame = np.asarray([fit_box(o, (h, w), fit) for o in original], np.int32)
        write_array(f, FRAME_DATASET, frame.reshape(-1, 4), FRAME_DESCRIPTION, "(N, 4)",
                    "int32 pixels of the stored image (y0, x0, h, w)", fit=fit,
                    pad_value=params.pad_value)
    grp = f.create_group("pairs")
    grp.attrs["description"] = "pairs of images of the same person, as row indices"
    for key, pairs in (("test", test_pairs), ("train", train_pairs)):
        if key == "train" and not params.train_pairs:
            continue
        arr = _resolve_pairs(pairs, index, report, key)
        write_array(grp, key, arr, f"{key} pairs (from, to) of the same person",
                    "(M, 2)", "int32 row indices into /images", per_item=False,
                    source_file=params.pairs if key == "test" else params.train_pairs)
    report.kept = len(kept)
    report.counts = {
        "images_found": len(files), "kept": len(kept),
        "train": int((split == SPLIT_TRAIN).sum()), "test": int((split == SPLIT_TEST).sum()),
        "identities": len(set(person)),
        "test_pairs": int(f["pairs/test"].shape[0]),
    }
    return report


def _split(params: DataParams, kept: list[str], person: list[str], files: dict[str, Path],
           root: Path, test_pairs: list[tuple[str, str]], index: dict[str, int]) -> np.ndarray:
    if params.split_by == "folders":
        base = root / params.images
        split = [SPLIT_TEST if any("test" in part.lower()
                                   for part in files[n].relative_to(base).parts[:-1])
                 else SPLIT_TRAIN for n in kept]
    elif params.split_by == "pairs":
        test_ids = {person[index[n]] for pair in test_pairs for n in pair if n in index}
        split = [SPLIT_TEST if p in test_ids else SPLIT_TRAIN for p in person]
    else:
        split = [_fraction_split(p, params.test_fraction) for p in person]
    return np.asarray(split, dtype=np.uint8)


def _resolve_pairs(pairs: list[tuple[str, str]], index: dict[str, int], report: IngestReport,
                   key: str) -> np.ndarray:
    out = []
    for a, b in pairs:
        missing = [n for n in (a, b) if n not in index]
        if missing:
            report.pairs_dropped.setdefault(f"{key}: image not kept", []).append(f"{a},{b}")
            continue
        out.append((index[a], index[b]))
    return np.asarray(out, dtype=np.int32).reshape(-1, 2)


def summary_text(summary: dict) -> str:
    """One line per reason, for the stage's console output (summary: :func:`run`'s result)."""
    lines = [f"kept {summary['kept']} images"]
    for reason, names in summary["left_out"].items():
        lines.append(f"left out {len(names)}: {reason} (e.g. {names[0]})")
    for label, key in (("annotation rows without an image", "annotation_rows_without_image"),
                       (f"annotation rows with all {NUM_KEYPOINTS} points missing",
                        "annotation_rows_all_missing"),
                       ("images without an annotation row", "images_without_annotation"),
                       ("resized", "resized")):
        names = summary[key]
        if names:
            lines.append(f"{label}: {len(names)} (e.g. {names[0]})")
    for reason, pairs in summary["pairs_dropped"].items():
        lines.append(f"pairs dropped ({reason}): {len(pairs)}")
    rows = summary["annotation_duplicate_rows"]
    if rows:
        lines.append(f"annotation rows repeating an image's earlier row (the first is kept): "
                     f"{len(rows)}")
        lines += capped_lines(rows, DUPLICATES_SHOWN)
    return "\n".join(lines)

