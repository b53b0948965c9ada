"""Writing the HDF5 artifact store: atomic HDF5 files and self-describing datasets.

Layout (fixed, because users' scripts depend on it; see docs/hdf5-layout.md):
every artifact lives in ``data/prepared/`` and holds ``/names`` (UTF-8 strings)
aligned row for row with ``images.h5``. Image-like arrays are chunked one item per
chunk and gzip-compressed. Every file carries root attributes saying what produced
it (``stage``, ``params`` as JSON without execution-only keys, ``inputs``,
``layout_version``, ``description``) and every dataset says what it holds
(``description``, ``shape``, ``units``, and ``label_names`` where it holds labels).

Artifacts are byte-identical when their inputs are: no creation time, host or library
version is stored, and datasets are written with ``track_times=False`` (DVC hashes the
bytes; a volatile value would rerun every later stage for nothing).

Writes are atomic (:func:`atomic_h5`, through :func:`pipeline.artifacts.atomic.atomic_path`).
Stage libraries write their artifact through :func:`pipeline.artifacts.stage_writer.stage_output`;
files are read back with :class:`pipeline.artifacts.reader.Artifact`.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from pipeline.artifacts.atomic import atomic_path, json_default

#: Layout version written to every file (bump on an incompatible change).
LAYOUT_VERSION = 1

#: HDF5 file format bounds: fixed, so the bytes do not depend on the library's defaults.
H5_LIBVER = ("earliest", "v110")

_STR = h5py.string_dtype("utf-8")


def provenance(stage: str, params: dict | None = None, source: str = "") -> dict[str, Any]:
    """Root attributes saying what produced a file: nothing volatile (no time, host or library
    version), so equal inputs give equal bytes.

    params: the result-shaping params (``pipeline.config.section_dict``); source: what the
    stage read, location-independent (artifact file names or the params' dataset path).
    """
    return {
        "stage": stage,
        "params": json.dumps(params or {}, sort_keys=True, default=json_default),
        "inputs": source,
        "layout_version": LAYOUT_VERSION,
    }


@contextlib.contextmanager
def atomic_h5(path: Path | str, stage: str, params: dict | None = None,
              source: str = "", description: str = "") -> Iterator[h5py.File]:
    """Open a new HDF5 file for writing that appears at ``path`` only when complete.

    Root attributes: provenance (see :func:`provenance`) plus ``description``. Write datasets
    through :func:`write_array` / :func:`create_array` / :func:`write_strings` (they pass
    ``track_times=False``) or pass it yourself.
    """
    with atomic_path(path, suffix=".h5.tmp") as tmp:
        with h5py.File(tmp, "w", libver=H5_LIBVER, track_order=False) as f:
            for key, value in provenance(stage, params, source).items():
                f.attrs[key] = value
            f.attrs["description"] = description
            yield f


def write_array(f: h5py.File | h5py.Group, name: str, data: np.ndarray, description: str,
                shape: str, units: str = "", per_item: bool = True,
                label_names: Sequence[str] | None = None, **attrs: Any) -> h5py.Dataset:
    """Write one self-describing dataset.

    data: array whose first axis is the item axis when ``per_item`` (then chunked one
    item per chunk and gzip-compressed). ``shape`` documents the axes, e.g.
    "(N, H, W, 3)"; ``units`` says what the values are, e.g. "uint8 RGB".
    """
    data = np.asarray(data)
    kwargs: dict[str, Any] = {}
    if per_item and data.ndim >= 1 and data.shape[0] > 0 and data.dtype != object:
        kwargs = dict(chunks=(1,) + data.shape[1:], compression="gzip", compression_opts=4,
                      shuffle=data.itemsize > 1)
        if data.ndim == 1 or data[0].nbytes < 4096:
            # small rows: chunk many rows together (a chunk per row would waste space)
            rows = max(1, min(data.shape[0], 65536 // max(1, data[0].nbytes)))
            kwargs["chunks"] = (rows,) + data.shape[1:]
    ds = f.create_dataset(name, data=data, track_times=False, **kwargs)
    _describe(ds, description, shape, units, label_names, attrs)
    return ds


def create_array(f: h5py.File | h5py.Group, name: str, shape: tuple[int, ...], dtype: Any,
                 description: str, shape_doc: str, units: str = "",
                 label_names: Sequence[str] | None = None, fillvalue: Any = None,
                 **attrs: Any) -> h5py.Dataset:
    """Create an empty per-item dataset (chunked one item per chunk, gzip) to fill in blocks."""
    ds = f.create_dataset(name, shape=shape, dtype=dtype, chunks=(1,) + tuple(shape[1:]),
                          compression="gzip", compression_opts=4,
                          shuffle=np.dtype(dtype).itemsize > 1, fillvalue=fillvalue,
                          track_times=False)
    _describe(ds, description, shape_doc, units, label_names, attrs)
    return ds


def write_strings(f: h5py.File | h5py.Group, name: str, values: Sequence[str],
                  description: str) -> h5py.Dataset:
    """Write a 1-D UTF-8 string dataset."""
    ds = f.create_dataset(name, data=np.array(list(values), dtype=object), dtype=_STR,
                          track_times=False)
    _describe(ds, description, "(N,)", "UTF-8 string", None, {})
    return ds


def write_names(f: h5py.File, names: Sequence[str]) -> h5py.Dataset:
    """Write ``/names``: the image names every artifact is aligned on."""
    return write_strings(f, "names", names, "image file name of each row; every artifact's "
                                           "/names equals images.h5's, row for row")


def _describe(ds: h5py.Dataset, description: str, shape: str, units: str,
              label_names: Sequence[str] | None, attrs: dict[str, Any]) -> None:
    ds.attrs["description"] = description
    ds.attrs["shape"] = shape
    if units:
        ds.attrs["units"] = units
    if label_names is not None:
        ds.attrs["label_names"] = np.array(list(label_names), dtype=object).astype(_STR)
    for key, value in attrs.items():
        if isinstance(value, (dict, list, tuple)) and not isinstance(value, np.ndarray):
            value = json.dumps(value, default=json_default)
        ds.attrs[key] = value
