"""Atomic file writing: a file appears at its path only once it is complete.

:func:`atomic_path` yields a temporary path beside the target and renames it into place
only after the caller's block finished without error, so a killed stage leaves the previous
file or none, never a truncated one; the temporaries a killed writer left behind are removed
by the next write of that file. :func:`atomic_write_text` and :func:`atomic_write_json`
write text and JSON files this way (the HDF5 artifacts: :func:`pipeline.artifacts.store.atomic_h5`).
:func:`atomic_dir` does the same for a folder (the models folder, eval/images, eval/report).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


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


@contextlib.contextmanager
def atomic_dir(path: Path | str) -> Iterator[Path]:
    """Yield a new empty folder ``.<name>.tmp`` beside ``path``; on success it replaces
    ``path`` (the old folder is moved aside, then deleted). On any exception ``path`` is
    untouched and the temporary folder is removed."""
    path = Path(path)
    tmp, old = (path.parent / f".{path.name}{tag}.tmp" for tag in ("", ".old"))
    for p in (tmp, old):
        shutil.rmtree(p, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)


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
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=json_default)
                      + "\n")


def json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` of the artifacts: numpy scalars and arrays as Python
    numbers and lists, paths as strings; TypeError for anything else."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
