"""The one skeleton of every stage library: :func:`stage_output` opens the inputs, writes the
artifact atomically with its ``/names``, lets the stage fill it, then writes the summary."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import h5py

from pipeline.artifacts.atomic import atomic_write_json, remove_stale_temporaries
from pipeline.artifacts.paths import ARTIFACT_FILES, Paths
from pipeline.artifacts.reader import Artifact, ArtifactError, open_aligned
from pipeline.artifacts.store import atomic_h5, write_names


@dataclass
class StageOutput:
    """The artifact a stage is writing (inside :func:`stage_output`).

    file: the open, still temporary HDF5 file; inputs: the input artifacts by kind, aligned
    with images.h5; summary: what the stage fills for ``<kind>.summary.json``.
    """

    file: h5py.File
    inputs: dict[str, Artifact]
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
