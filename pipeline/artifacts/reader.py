"""Reading the HDF5 artifacts: :class:`Artifact`, a lazy, fork-safe reader of one file, and
:func:`open_aligned`, which opens several and checks they are aligned with images.h5."""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import h5py

from pipeline.artifacts.paths import PREPARED_DIR, artifact_path


class ArtifactError(RuntimeError):
    """An artifact that is missing, malformed or not aligned with images.h5."""


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
