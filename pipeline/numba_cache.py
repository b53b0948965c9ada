"""numba's on-disk cache for this package, stamped with the whole package's source.

numba stamps a cached function with its own file's content only, yet the machine code it
caches holds more: the functions it calls are compiled into it, and the module globals it
reads are frozen as constants. The search's first pass (``pipeline/search/first_pass.py``)
compiles in the exact kernel of ``kernel.py`` and constants of ``pipeline.geometry``; after
an edit to either, numba would load the old machine code. The locators here stamp every
cached function of this package with a digest of all its ``.py`` files as well, so any edit
recompiles (seconds) instead of reusing stale code. Functions of other packages keep numba's
own locators.

:func:`install` runs when :mod:`pipeline.search` (where the compiled code lives) is imported,
before any of its functions is decorated.
"""
from __future__ import annotations

import functools
import hashlib
import warnings
from pathlib import Path

from numba.core import caching, config

#: The package whose files stamp the cache.
PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=8)
def _digest(root: Path, files: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for name, _mtime, _size in files:
        h.update(name.encode())
        h.update((root / name).read_bytes())
    return h.hexdigest()


def package_digest(root: Path = PACKAGE) -> str:
    """sha256 of the relative names and contents of every .py file under ``root`` (files
    re-read only when one's modification time or size changes)."""
    files = tuple((path.relative_to(root).as_posix(), path.stat().st_mtime_ns,
                   path.stat().st_size) for path in sorted(root.rglob("*.py")))
    return _digest(root, files)


class _PackageStamp:
    """Locator mixin: only this package's functions, stamped with :func:`package_digest`."""

    @classmethod
    def from_function(cls, py_func, py_file):
        if not Path(py_file).resolve().is_relative_to(PACKAGE):
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return (super().get_source_stamp(), package_digest())


def _numba_class(*names: str) -> type:
    for name in names:                   # numba 0.59 names them with a leading underscore
        if hasattr(caching, name):
            return getattr(caching, name)
    raise ImportError(f"numba.core.caching has none of {names}: update pipeline/numba_cache.py "
                      "for this numba version")


class UserProvidedLocator(_PackageStamp, _numba_class("UserProvidedCacheLocator",
                                                       "_UserProvidedCacheLocator")):
    """NUMBA_CACHE_DIR set: cache there, stamped with the package digest."""


class InTreeLocator(_PackageStamp, _numba_class("InTreeCacheLocator",
                                                 "_InTreeCacheLocator")):
    """The default: cache in ``__pycache__`` next to the source, stamped with the digest."""


class UserWideLocator(_PackageStamp, _numba_class("UserWideCacheLocator",
                                                  "_UserWideCacheLocator")):
    """``__pycache__`` not writable (a read-only install): the user's cache folder."""


def install() -> None:
    """Put this package's locators first in numba's list (idempotent). A locator list the
    user set (NUMBA_CACHE_LOCATOR_CLASSES) replaces numba's list, so this warns there."""
    if getattr(config, "CACHE_LOCATOR_CLASSES", ""):
        warnings.warn("NUMBA_CACHE_LOCATOR_CLASSES is set: the search's compiled code is cached "
                      "without pipeline/numba_cache.py's package stamp; delete the cache after "
                      "editing pipeline/search or pipeline/geometry", stacklevel=2)
    classes = _numba_class("CacheImpl", "_CacheImpl")._locator_classes
    for cls in (UserWideLocator, InTreeLocator, UserProvidedLocator):
        if cls not in classes:
            classes.insert(0, cls)
