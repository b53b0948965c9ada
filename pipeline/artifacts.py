"""The HDF5 artifact store: the one module that reads and writes pipeline artifacts.

Layout (fixed, because users' scripts depend on it; see README "HDF5 layout"):
every artifact lives in ``data/prepared/`` and holds ``/names`` (UTF-8 strings)
aligned row for row with ``images.h5``. Image-like arrays are chunked one item per
chunk and gzip-compressed. Every file carries root attributes saying what produced
it (``stage``, ``params`` as JSON without execution-only keys, ``inputs``,
``layout_version``, ``description``) and every dataset says what it holds
(``description``, ``shape``, ``units``, and ``label_names`` where it holds labels).

Artifacts are byte-identical when their inputs are: no creation time, host or library
version is stored, and datasets are written with ``track_times=False`` (DVC hashes the
bytes; a volatile value would rerun every later stage for nothing).

Writes are atomic: :func:`atomic_h5` writes to a temporary file in the target's
folder and renames it into place only after it was closed successfully, so a
killed stage leaves the previous artifact or none, never a truncated one; the
temporaries a killed writer left behind are removed by the next write of that file.

Every path comes from :class:`Paths`; every stage library writes its artifact through
:func:`stage_output` (open inputs, atomic write, ``/names``, fill, summary).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

PREPARED_DIR = Path("data/prepared")

#: Artifact file names (kind -> file name in ``data/prepared``).
ARTIFACT_FILES = {
    "images": "images.h5",
    "poses": "poses.h5",
    "parsing": "parsing.h5",
    "masks": "masks.h5",
    "pseudo": "pseudo.h5",
}

#: Split codes of ``/split`` in images.h5.
SPLIT_TRAIN = 0
SPLIT_TEST = 1
SPLIT_NAMES = {SPLIT_TRAIN: "train", SPLIT_TEST: "test"}

#: Codes of ``/status`` in pseudo.h5 (the search's outcome per image; index = code).
SEARCH_STATUS_NAMES = ("ok", "test image (not searched)",
                       "no complete torso (cannot be a source)", "no admissible candidate")
STATUS_OK, STATUS_TEST, STATUS_NO_TORSO, STATUS_NO_CANDIDATE = range(len(SEARCH_STATUS_NAMES))

#: Layout version written to every file (bump on an incompatible change).
LAYOUT_VERSION = 1

_STR = h5py.string_dtype("utf-8")


class ArtifactError(RuntimeError):
    """An artifact that is missing, malformed or not aligned with images.h5."""


def artifact_path(kind: str, folder: Path | str = PREPARED_DIR) -> Path:
    """Path of artifact ``kind`` ('images', 'poses', ...) in ``folder``."""
    if kind not in ARTIFACT_FILES:
        raise KeyError(f"unknown artifact kind {kind!r}; known: {sorted(ARTIFACT_FILES)}")
    return Path(folder) / ARTIFACT_FILES[kind]


@dataclass(frozen=True)
class Paths:
    """Every path the pipeline reads or writes, below one project root.

    ``Paths()`` is the repository itself (DVC runs the stages from its root); tests pass a
    temporary folder. Dataset paths of params.yaml (``data.root``) are relative to ``root``.
    """

    root: Path = Path(".")

    @property
    def prepared(self) -> Path:
        """root/data/prepared: the HDF5 artifacts and their summaries (DVC outputs)."""
        return Path(self.root) / PREPARED_DIR

    @property
    def cache(self) -> Path:
        """root/data/cache: resumable work of interrupted stages (not a DVC output)."""
        return Path(self.root) / "data" / "cache"

    @property
    def eval(self) -> Path:
        """root/eval: metrics and reports (git-tracked DVC metrics)."""
        return Path(self.root) / "eval"

    @property
    def models(self) -> Path:
        """root/models: trained networks."""
        return Path(self.root) / "models"

    @property
    def synthetic(self) -> Path:
        """root/data/raw/synthetic: the embedded dataset the `synthesize` stage writes."""
        return Path(self.root) / "data" / "raw" / "synthetic"

    def dataset(self, data_root: str | Path) -> Path:
        """The dataset folder ``data.root`` (relative to ``root`` unless absolute)."""
        return Path(self.root) / data_root

    def artifact(self, kind: str) -> Path:
        """prepared/<kind>.h5 ('images', 'poses', 'parsing', 'masks', 'pseudo')."""
        return artifact_path(kind, self.prepared)

    def summary(self, kind: str) -> Path:
        """prepared/<kind>.summary.json: what the stage of artifact ``kind`` kept and left out."""
        if kind not in ARTIFACT_FILES:
            raise KeyError(f"unknown artifact kind {kind!r}; known: {sorted(ARTIFACT_FILES)}")
        return self.prepared / f"{kind}.summary.json"

    def metric(self, name: str) -> Path:
        """eval/<name>.json: a DVC metric."""
        return self.eval / f"{name}.json"


def source_digest(*packages: str) -> str:
    """sha256 (hex) of the Python sources of ``pipeline.<package>`` folders, recursively, with
    their relative paths: the code part of a cache key, so that a saved block or checkpoint
    of other code is never reused."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- atomic files
@contextlib.contextmanager
def atomic_path(path: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any exception (or a kill before the rename) the target is untouched and the
    temporary file is removed where possible.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; artifacts get normal modes
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def stale_temporaries(path: Path | str) -> list[Path]:
    """Temporary files a killed writer of ``path`` left beside it (``.NAME.*.tmp`` etc.)."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.glob(f".{path.name}.*")
                  if p.is_file() and p.name.endswith(_TMP_SUFFIXES))


def remove_stale_temporaries(path: Path | str) -> list[Path]:
    """Delete the temporaries of :func:`stale_temporaries`; returns what was removed.

    Called before every atomic write of ``path``: one writer per file at a time (DVC runs a
    stage once), so any temporary of that file present then belongs to a dead writer.
    """
    removed = stale_temporaries(path)
    for p in removed:
        p.unlink(missing_ok=True)
    return removed


#: Suffixes of the temporaries :func:`atomic_path` creates (default and the ones callers pass).
_TMP_SUFFIXES = (".tmp", ".npz")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write a text file atomically (temporary file + rename)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(path: Path | str, obj: Any) -> None:
    """Write a JSON file atomically, pretty-printed."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default)
                      + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def provenance(stage: str, params: dict | None = None, source: str = "") -> dict[str, Any]:
    """Root attributes saying what produced a file: nothing volatile (no time, host or library
    version), so equal inputs give equal bytes.

    params: the result-shaping params (``pipeline.config.section_dict``); source: what the
    stage read, location-independent (artifact file names or the params' dataset path).
    """
    return {
        "stage": stage,
        "params": json.dumps(params or {}, sort_keys=True, default=_json_default),
        "inputs": source,
        "layout_version": LAYOUT_VERSION,
    }


#: HDF5 file format bounds: fixed, so the bytes do not depend on the library's defaults.
H5_LIBVER = ("earliest", "v110")


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


# --------------------------------------------------------------------------- writing
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
            value = json.dumps(value, default=_json_default)
        ds.attrs[key] = value


# --------------------------------------------------------------------------- stage writer
@dataclass
class StageOutput:
    """The artifact a stage is writing (inside :func:`stage_output`).

    file: the open, still temporary HDF5 file; inputs: the input artifacts by kind, aligned
    with images.h5; summary: what the stage fills for ``<kind>.summary.json``.
    """

    file: h5py.File
    inputs: dict[str, "Artifact"]
    summary: dict = field(default_factory=dict)

    def write_names(self, names: Sequence[str]) -> None:
        """Write ``/names`` (stages without an images.h5 input: ingest)."""
        write_names(self.file, names)


@contextlib.contextmanager
def stage_output(paths: Paths, kind: str, *, inputs: Sequence[str] = (),
                 params: dict | None = None, source: str | None = None,
                 description: str = "") -> Iterator[StageOutput]:
    """The one skeleton of every stage library: open the inputs, write the artifact
    atomically, write ``/names``, let the stage fill it, then write the summary.

    kind: the artifact written (paths.artifact(kind), paths.summary(kind)); inputs: artifact
    kinds read, opened and checked aligned with images.h5 (whose ``/names`` the output copies;
    without inputs the stage calls :meth:`StageOutput.write_names`); params: the result-shaping
    params (recorded as the root attribute ``params``); source: what was read when not an
    artifact (default: the input file names). Stale temporaries of a killed earlier run are
    removed first. On any error nothing is written and the previous artifact stays.
    """
    out_path, summary_path = paths.artifact(kind), paths.summary(kind)
    for path in (out_path, summary_path):
        remove_stale_temporaries(path)
    arts = open_aligned(inputs, paths.prepared) if inputs else {}
    if source is None:
        source = ", ".join(ARTIFACT_FILES[k] for k in arts)
    try:
        with atomic_h5(out_path, stage=kind, params=params, source=source,
                       description=description) as f:
            if "images" in arts:
                write_names(f, arts["images"].names)
            out = StageOutput(f, arts)
            yield out
            if "names" not in f:
                raise ArtifactError(f"{out_path}: the stage wrote no /names")
        atomic_write_json(summary_path, out.summary)
    finally:
        for art in arts.values():
            art.close()


# --------------------------------------------------------------------------- reading
def read_strings(ds: h5py.Dataset) -> list[str]:
    """A string dataset as a list of Python str."""
    return [s.decode("utf-8") if isinstance(s, bytes) else str(s) for s in ds.asstr()[()]]


class Artifact:
    """Lazy, fork-safe reader of one artifact file.

    The file is opened on first access in the current process, and reopened after a
    fork (e.g. in each torch DataLoader worker), so one instance can be handed to a
    Dataset and used from any number of workers.

    >>> art = Artifact("data/prepared/images.h5")
    >>> art["images"][0].shape
    (256, 256, 3)
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise ArtifactError(f"{self.path}: artifact not found (run `dvc repro` to make it)")
        self._file: h5py.File | None = None
        self._pid: int | None = None
        self._names: list[str] | None = None

    @property
    def file(self) -> h5py.File:
        """The open h5py.File of this process (opened lazily, read-only)."""
        if self._file is None or self._pid != os.getpid():
            try:
                self._file = h5py.File(self.path, "r")
            except OSError as err:
                raise ArtifactError(f"{self.path}: not a readable HDF5 file ({err})") from None
            self._pid = os.getpid()
        return self._file

    def __getitem__(self, key: str) -> h5py.Dataset:
        if key not in self.file:
            raise ArtifactError(f"{self.path}: has no dataset /{key} "
                                f"(holds: {', '.join(sorted(self.file.keys()))})")
        return self.file[key]

    def __contains__(self, key: str) -> bool:
        return key in self.file

    @property
    def attrs(self) -> h5py.AttributeManager:
        return self.file.attrs

    @property
    def names(self) -> list[str]:
        """``/names`` as a list of str (read once)."""
        if self._names is None:
            self._names = read_strings(self["names"])
        return self._names

    def __len__(self) -> int:
        return len(self.names)

    def params(self) -> dict:
        """The parameters that produced this file (root attribute ``params``)."""
        return json.loads(self.attrs.get("params", "{}"))

    def check_aligned(self, reference: "Artifact | Sequence[str]") -> None:
        """Raise :class:`ArtifactError` unless ``/names`` equals the reference's, row for row."""
        ref_names = reference.names if isinstance(reference, Artifact) else list(reference)
        ref_label = reference.path if isinstance(reference, Artifact) else "the reference"
        names = self.names
        if len(names) != len(ref_names):
            raise ArtifactError(f"{self.path}: holds {len(names)} rows but {ref_label} holds "
                                f"{len(ref_names)}; rerun the stages after ingest (dvc repro)")
        for i, (a, b) in enumerate(zip(names, ref_names)):
            if a != b:
                raise ArtifactError(f"{self.path}: row {i} is {a!r} but {ref_label} has {b!r}; "
                                    f"the file is not aligned (rerun dvc repro)")

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_file"] = None
        state["_pid"] = None
        return state

    def __enter__(self) -> "Artifact":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_aligned(kinds: Sequence[str], folder: Path | str = PREPARED_DIR) -> dict[str, Artifact]:
    """Open images.h5 and the given artifact kinds, checking every one is aligned with it.

    Returns {kind: Artifact}, always including "images" (first).
    """
    images = Artifact(artifact_path("images", folder))
    out = {"images": images}
    for kind in kinds:
        if kind == "images":
            continue
        art = Artifact(artifact_path(kind, folder))
        art.check_aligned(images)
        out[kind] = art
    return out
