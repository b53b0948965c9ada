"""Look inside an artifact: ``python -m pipeline.inspect PATH [--index I --png OUT.png]``.

Without ``--index`` it prints the file's structure: every group and dataset with shape,
dtype, attributes and summary statistics. With ``--index I --png OUT.png`` it renders
item I (or items ``I,J,K``, one row each) as a picture: the image, and whatever the other
artifacts beside the file hold for it (pose skeleton, parsing with a legend, part masks, pose
mask, pseudo target).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from pipeline.artifacts.paths import ARTIFACT_FILES
from pipeline.artifacts.reader import read_strings

_MAX_STAT_BYTES = 64 * 2**20  # summary statistics read at most this much of a dataset


# --------------------------------------------------------------------------- structure
def _fmt_attr(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OSU":
            value = [v.decode() if isinstance(v, bytes) else str(v) for v in value.tolist()]
        else:
            value = value.tolist()
    text = str(value)
    if isinstance(value, str) and value.startswith("{"):
        try:
            text = json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            pass
    return text if len(text) <= 300 else text[:297] + "..."


def dataset_stats(ds: h5py.Dataset) -> str:
    """Summary statistics of a dataset (read in full only when small)."""
    if ds.dtype.kind in "OSU" or h5py.check_string_dtype(ds.dtype) is not None:
        values = read_strings(ds) if ds.ndim == 1 else []
        head = ", ".join(values[:3])
        return f"{len(set(values))} distinct; first: {head}" if values else "strings"
    if ds.size == 0:
        return "empty"
    rows = ds.shape[0] if ds.ndim else 1
    per_row = max(1, ds.dtype.itemsize * (ds.size // max(1, rows)))
    take = max(1, min(rows, _MAX_STAT_BYTES // per_row))
    data = ds[:take] if ds.ndim else ds[()]
    arr = np.asarray(data)
    note = "" if take == rows else f" (first {take} of {rows} rows)"
    if arr.dtype == bool:
        return f"true {arr.mean():.3%}{note}"
    if arr.dtype.kind in "ui" and arr.dtype.itemsize == 1 and arr.max() < 32:
        values, counts = np.unique(arr, return_counts=True)
        hist = ", ".join(f"{v}:{c / arr.size:.1%}" for v, c in zip(values, counts))
        return f"values {hist}{note}"
    finite = arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr
    if finite.size == 0:
        return f"all non-finite{note}"
    return (f"min {finite.min():.4g}, max {finite.max():.4g}, mean {finite.mean():.4g}"
            f"{note}")


def describe(path: Path | str) -> str:
    """The printed structure of an HDF5 file."""
    path = Path(path)
    lines = [f"{path}"]
    with h5py.File(path, "r") as f:
        for key, value in f.attrs.items():
            lines.append(f"  @{key} = {_fmt_attr(value)}")

        def visit(name: str, obj: h5py.HLObject) -> None:
            depth = name.count("/") + 1
            pad = "  " * depth
            if isinstance(obj, h5py.Dataset):
                chunks = f", chunks {obj.chunks}" if obj.chunks else ""
                comp = f", {obj.compression}" if obj.compression else ""
                lines.append(f"{pad}/{name}  {obj.shape} {obj.dtype}{chunks}{comp}")
                for key, value in obj.attrs.items():
                    lines.append(f"{pad}  @{key} = {_fmt_attr(value)}")
                lines.append(f"{pad}  stats: {dataset_stats(obj)}")
            else:
                lines.append(f"{pad}/{name}/")
                for key, value in obj.attrs.items():
                    lines.append(f"{pad}  @{key} = {_fmt_attr(value)}")

        f.visititems(visit)
    return "\n".join(lines)


# --------------------------------------------------------------------------- rendering
#: Panel renderers: (dataset that triggers it, function(files, row, base_image) -> [(title, img)])
PanelFn = Callable[[dict[str, h5py.File], int, np.ndarray | None], list[tuple[str, np.ndarray]]]


def _image_panel(files, row, base):
    return [("image", base)] if base is not None else []


def _pose_panel(files, row, base):
    from pipeline.visualize import draw_skeleton

    f = files["keypoints"]
    kp = f["keypoints"][row]
    canvas = base if base is not None else np.full(_frame_shape(files) + (3,), 40, np.uint8)
    return [("pose", draw_skeleton(canvas, kp))]


def _parsing_panel(files, row, base):
    from pipeline.visualize import colorize_labels, label_legend

    lab = files["labels"]["labels"][row]
    return [("parsing", colorize_labels(lab)), ("", label_legend(lab.shape[0]))]


def _masks_panel(files, row, base):
    from pipeline.geometry.parts import bitfield_to_masks
    from pipeline.visualize import overlay_mask, overlay_parts

    f = files["parts"]
    masks = bitfield_to_masks(f["parts"][row])
    canvas = base if base is not None else np.full(masks.shape[1:] + (3,), 40, np.uint8)
    out = [("part masks", overlay_parts(canvas, masks))]
    if "pose_mask" in f:
        out.append(("pose mask", overlay_mask(canvas, f["pose_mask"][row])))
    return out


def _pseudo_panel(files, row, base):
    from pipeline.evaluation.figures import pseudo_panels

    return pseudo_panels(Path(files["target_labels"].filename).parent, row)


def _frame_shape(files) -> tuple[int, int]:
    for f in files.values():
        for key in ("images", "labels", "parts", "target_labels"):
            if key in f:
                return tuple(f[key].shape[1:3])
    return (256, 256)


#: Renderers, in panel order; a renderer runs when some open file holds its key dataset.
PANELS: list[tuple[str, PanelFn]] = [
    ("images", _image_panel),
    ("keypoints", _pose_panel),
    ("labels", _parsing_panel),
    ("parts", _masks_panel),
    ("target_labels", _pseudo_panel),
]


def render_item(path: Path | str, index: int) -> np.ndarray:
    """A panel picture of row ``index`` of ``path`` and of the artifacts beside it."""
    from pipeline.visualize import hstack_panels, titled

    path = Path(path)
    opened: list[h5py.File] = []
    try:
        main = h5py.File(path, "r")
        opened.append(main)
        if "names" not in main:
            raise SystemExit(f"{path}: has no /names; cannot render an item")
        names = read_strings(main["names"])
        if not 0 <= index < len(names):
            raise SystemExit(f"{path}: index {index} out of range (0..{len(names) - 1})")
        name = names[index]
        files_by_key: dict[str, h5py.File] = {}
        rows: dict[int, int] = {}
        candidates = [path] + [path.parent / fn for fn in ARTIFACT_FILES.values()
                               if (path.parent / fn) != path]
        for cand in candidates:
            if not cand.exists():
                continue
            f = main if cand == path else h5py.File(cand, "r")
            if f is not main:
                opened.append(f)
            if "names" not in f:
                continue
            cand_names = read_strings(f["names"]) if f is not main else names
            row = index if f is main else (cand_names.index(name) if name in cand_names else -1)
            if row < 0:
                print(f"note: {cand} has no row named {name!r}; skipped", file=sys.stderr)
                continue
            rows[id(f)] = row
            for key, _ in PANELS:
                if key in f and key not in files_by_key:
                    files_by_key[key] = f
        base = None
        if "images" in files_by_key:
            fi = files_by_key["images"]
            base = fi["images"][rows[id(fi)]]
        panels: list[tuple[str, np.ndarray]] = []
        # pseudo.h5 has a picture of its own (source, warped parts, S*_Pt, c*, truth)
        only = (("target_labels",) if "target_labels" in main
                else tuple(k for k, _ in PANELS if k != "target_labels"))
        for key, fn in PANELS:
            if key in files_by_key and key in only:
                panels += fn(files_by_key, rows[id(files_by_key[key])], base)
        if not panels:
            raise SystemExit(f"{path}: nothing to draw for {name!r}")
        picture = hstack_panels([titled(img, title) for title, img in panels])
        return titled(picture, f"{name} (row {index})")
    finally:
        for f in opened:
            f.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.inspect", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, help="an HDF5 artifact, e.g. data/prepared/images.h5")
    parser.add_argument("--index", help="row to render, or several: 3,8,1 (stacked)")
    parser.add_argument("--png", type=Path, help="output picture (with --index)")
    args = parser.parse_args(argv)
    if not args.path.exists():
        parser.error(f"{args.path}: file not found")
    if not h5py.is_hdf5(args.path):
        parser.error(f"{args.path}: not an HDF5 file")
    if args.index is None:
        print(describe(args.path))
        return
    if args.png is None:
        parser.error("--index needs --png OUT.png")
    from pipeline.visualize import save_png, vstack_panels

    try:
        indices = [int(i) for i in args.index.split(",")]
    except ValueError:
        parser.error(f"--index {args.index!r}: expected row numbers such as 3 or 3,8,1")
    save_png(args.png, vstack_panels([render_item(args.path, i) for i in indices], gap=8))
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
