"""The code part of cache keys: a digest of the sources of ``pipeline`` packages, so that a
saved block or checkpoint made by other code is never reused."""
from __future__ import annotations

import hashlib
from pathlib import Path

#: The ``pipeline`` package folder; digested paths are relative to it.
_PIPELINE_ROOT = Path(__file__).resolve().parents[1]


def source_digest(*packages: str) -> str:
    """sha256 (hex) of the Python sources of ``pipeline.<package>`` folders, recursively (or of
    the module ``pipeline/<package>.py``), with their relative paths: the code part of a cache
    key, so that a saved block or checkpoint of other code is never reused."""
    root = _PIPELINE_ROOT
    h = hashlib.sha256()
    for package in packages:
        module = root / f"{package}.py"
        files = [module] if module.is_file() else sorted((root / package).rglob("*.py"))
        for path in files:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()
