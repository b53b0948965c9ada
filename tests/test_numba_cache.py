"""The numba cache of this package is stamped with every source file of the package."""
from __future__ import annotations

from pathlib import Path

from pipeline import numba_cache
from pipeline.search import first_pass, kernel


def test_compiled_functions_use_the_package_locator():
    for fn in (kernel.pair_cost_kernel, kernel.source_top_k, first_pass._best):
        locator = fn._cache._impl._locator
        assert isinstance(locator, numba_cache.InTreeLocator | numba_cache.UserProvidedLocator)
        stamp = locator.get_source_stamp()
        assert stamp[1] == numba_cache.package_digest()


def test_the_digest_follows_any_file_of_the_package(tmp_path: Path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("X = 1\n")
    (pkg / "sub" / "b.py").write_text("Y = 2\n")
    (pkg / "notes.txt").write_text("not code\n")
    before = numba_cache.package_digest(pkg)
    assert numba_cache.package_digest(pkg) == before
    (pkg / "notes.txt").write_text("still not code\n")
    assert numba_cache.package_digest(pkg) == before
    (pkg / "sub" / "b.py").write_text("Y = 3\n")          # a callee's edit
    changed = numba_cache.package_digest(pkg)
    assert changed != before
    (pkg / "sub" / "b.py").rename(pkg / "b.py")            # same text, another place
    assert numba_cache.package_digest(pkg) not in (before, changed)


def test_functions_of_other_packages_keep_numba_s_locators(tmp_path: Path):
    def f():
        return 1
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text("def f():\n    return 1\n")
    for ours in (numba_cache.InTreeLocator, numba_cache.UserWideLocator):
        assert ours.from_function(f, str(elsewhere)) is None
        assert ours.__mro__[2].from_function(f, str(elsewhere)) is not None   # numba's own


def test_a_read_only_tree_keeps_the_stamp(monkeypatch):
    """Where __pycache__ cannot be written numba falls back to the user-wide folder; the
    package stamp must come along."""
    inner = numba_cache.InTreeLocator.__mro__[2]                # numba's in-tree locator

    def refuse(self):
        raise OSError("read-only")
    monkeypatch.setattr(inner, "ensure_cache_path", refuse)
    src = Path(first_pass.__file__)
    assert numba_cache.InTreeLocator.from_function(first_pass._best.py_func, str(src)) is None
    loc = numba_cache.UserWideLocator.from_function(first_pass._best.py_func, str(src))
    assert loc is not None and loc.get_source_stamp()[1] == numba_cache.package_digest()
