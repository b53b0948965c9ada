"""Stage library of `parse`: the 10-label (docs/method.md §2) semantic map of every image -> parsing.h5.

Backends (``parse.backend``): ``synthetic`` (the generator's ground-truth maps in
``<data.root>/<parse.labels_dir>``, already in the 10 labels), ``labels`` (maps of an
external parser in ``<data.root>/<parse.labels_dir>``, PNG or NPY named like the images,
in ``parse.label_set``, converted with ``parse.mapping``) and ``coarse`` (the weight-free
geometric parser of :mod:`pipeline.parsing.coarse`; not a trained parser).

parsing.h5 layout: /names; /labels (N, H, W) uint8 in the 10 labels (attribute
``label_names``).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.artifacts.stage_writer import stage_output
from pipeline.artifacts.store import create_array
from pipeline.cli import capped_lines
from pipeline.config.base import dataset_path, section_dict
from pipeline.ingest.frame import place_labels, stored_frames
from pipeline.labels import LABEL_NAMES
from pipeline.parallel import map_chunks
from pipeline.parsing.label_sets import DEFAULT_MAPPINGS, map_labels, read_label_map

if TYPE_CHECKING:
    from pipeline.config.params import Params
    from pipeline.config.parse import ParseParams

LABEL_EXTENSIONS = (".png", ".npy")

#: Images per chunk (one joblib task): label-map reading, coarse parsing.
READ_CHUNK = 64
COARSE_CHUNK = 32

#: Unusable label maps named in the stage's error; the rest are counted [choice].
BAD_MAPS_SHOWN = 20


class ParsingError(ValueError):
    """A label map that is missing, unreadable, of the wrong size or outside its label set."""


def effective_mapping(params: ParseParams) -> dict[str, str] | None:
    """The default mapping of ``parse.label_set`` updated with ``parse.mapping[label_set]``."""
    if params.label_set == "spt10":
        return None
    mapping = dict(DEFAULT_MAPPINGS[params.label_set])
    mapping.update(params.mapping.get(params.label_set, {}))
    return mapping


def find_label_map(folder: Path, image_name: str) -> Path:
    """The label map of an image: ``<stem>.png`` or ``<stem>.npy`` (or the full name + ext)."""
    stem = Path(image_name).stem
    for base in (stem, image_name):
        for ext in LABEL_EXTENSIONS:
            path = folder / f"{base}{ext}"
            if path.is_file():
                return path
    raise ParsingError(f"{folder}: no label map for image {image_name!r} "
                       f"(looked for {stem}.png / {stem}.npy)")


def _read_one(name: str, folder: Path, label_set: str, mapping: dict | None, height: int,
              width: int, original: tuple[int, int], resize: bool,
              box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """The (height, width) uint8 10-label map of one image; ValueError naming the file.

    resize: a map at the image's original size is placed like the image (into ``box``,
    background outside it; default the whole frame: stretched)."""
    path = find_label_map(folder, name)
    # spt10 maps go through the identity mapping: the same value check
    lab = map_labels(read_label_map(path), label_set, mapping, source=path)
    if lab.shape != (height, width):
        if not (resize and lab.shape == tuple(original)):
            raise ParsingError(f"{path}: label map is {lab.shape[0]}x{lab.shape[1]}, the "
                               f"image is {height}x{width}")
        lab = place_labels(lab, (height, width), box or (0, 0, height, width))
    return lab


def _read_chunk(names: list[str], folder: str, label_set: str, mapping: dict | None,
                height: int, width: int, original: list[tuple[int, int]], resize: bool,
                boxes: list[tuple[int, int, int, int]] | None = None
                ) -> tuple[np.ndarray, list[str]]:
    """Label maps (len(names), height, width) uint8 and one message per unusable map (its
    rows stay 0): every bad map of a run is reported, not only the first."""
    out = np.zeros((len(names), height, width), np.uint8)
    errors = []
    for i, name in enumerate(names):
        try:
            out[i] = _read_one(name, Path(folder), label_set, mapping, height, width,
                               original[i], resize, boxes[i] if boxes else None)
        except (ValueError, OSError) as err:
            errors.append(str(err))
    return out, errors


def _bad_maps_error(errors: list[str], n: int, folder: Path) -> ParsingError:
    """One error naming the unusable label maps (up to :data:`BAD_MAPS_SHOWN`)."""
    lines = [f"{folder}: {len(errors)} of {n} label maps unusable (parse.labels_dir):"]
    lines += capped_lines(errors, BAD_MAPS_SHOWN)
    return ParsingError("\n".join(lines))


def _coarse_chunk(indices: np.ndarray, images_path: str, poses_path: str, parser
                  ) -> np.ndarray:
    """Parse a chunk; ``parser`` arrives pickled in each joblib task (one MediaPipe graph per
    worker process)."""
    images, poses = Artifact(images_path), Artifact(poses_path)
    _, h, w, _ = images["images"].shape
    out = np.zeros((len(indices), h, w), np.uint8)
    for row, i in enumerate(indices):
        out[row] = parser.parse(images["images"][int(i)], poses["keypoints"][int(i)])
    return out


def run(params: Params, paths: Paths, progress: bool = True) -> dict:
    """Write parsing.h5 for every image of images.h5; returns the summary."""
    parse, data = params.parse, params.data
    parser = None
    inputs = ["poses"] if parse.backend == "coarse" else ["images"]   # coarse reads poses
    with stage_output(paths, "parsing", inputs=inputs, params=section_dict(parse),
                      description="10-label semantic parsing of every image (docs/method.md §2)") as out:
        images = out.inputs["images"]
        names = images.names
        n = len(names)
        _, h, w, _ = images["images"].shape
        if parse.backend == "coarse":
            from pipeline.parsing.coarse import CoarseParser
            from pipeline.pose.mediapipe_detector import MediaPipeDetector

            parser = CoarseParser(detector=MediaPipeDetector())
            chunks = map_chunks(_coarse_chunk, np.arange(n), parse.workers, "parse (coarse)",
                                chunk=COARSE_CHUNK, progress=progress,
                                images_path=str(images.path),
                                poses_path=str(out.inputs["poses"].path),
                                parser=parser)
            label_set = "spt10 (coarse parser)"
        else:
            folder = dataset_path(paths.dataset(data.root), parse.labels_dir,
                                  "parse.labels_dir")
            if not folder.is_dir():
                raise ParsingError(f"{folder}: label-map folder not found (parse.labels_dir)")
            label_set = "spt10" if parse.backend == "synthetic" else parse.label_set
            mapping = effective_mapping(parse) if parse.backend == "labels" else None
            original = (images["original_size"][:].tolist() if "original_size" in images
                        else [(h, w)] * n)
            boxes = stored_frames(images).tolist()
            chunks = map_chunks(_read_items, list(zip(names, original, boxes)), parse.workers,
                                f"parse ({parse.backend})", chunk=READ_CHUNK,
                                progress=progress, folder=str(folder), label_set=label_set,
                                mapping=mapping, height=h, width=w,
                                resize=data.resize or data.fit != "exact")
        counts = np.zeros(len(LABEL_NAMES), np.int64)
        ds = create_array(out.file, "labels", (n, h, w), np.uint8,
                          f"semantic label of each pixel (backend {parse.backend}, "
                          f"label set {label_set})", "(N, H, W)",
                          "uint8 label index (attribute label_names)",
                          label_names=list(LABEL_NAMES))
        row = 0
        errors: list[str] = []
        try:
            for lab in chunks:
                if parser is None:                        # label maps: (maps, errors)
                    lab, bad = lab
                    errors += bad
                ds[row:row + len(lab)] = lab
                counts += np.bincount(lab.ravel(), minlength=len(LABEL_NAMES))[:len(LABEL_NAMES)]
                row += len(lab)
        finally:
            if parser is not None:
                parser.close()
        if errors:
            raise _bad_maps_error(errors, n, folder)
        out.summary.update({
            "images": n, "backend": parse.backend, "label_set": label_set,
            "pixel_share": {name: round(float(c / counts.sum()), 5)
                            for name, c in zip(LABEL_NAMES, counts)}})
    return out.summary


def summary_text(summary: dict) -> str:
    """One line for the stage's console output."""
    return (f"parse ({summary['backend']}): {summary['images']} images; "
            f"pixel share {summary['pixel_share']}")


def _read_items(items: list[tuple[str, tuple[int, int], tuple[int, int, int, int]]], **kw
                ) -> tuple[np.ndarray, list[str]]:
    """_read_chunk on (name, original size, box in the stored frame) items."""
    return _read_chunk([i[0] for i in items], original=[tuple(i[1]) for i in items],
                       boxes=[tuple(i[2]) for i in items], **kw)
