"""bench/search.py: the cached people and the end-to-end shortlist search (``--part full``)
on a few tiny synthetic people."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from search import _INPUT_FIELDS, _implementation, cached_people_inputs, part_full  # noqa: E402

from pipeline.config.search import SearchParams  # noqa: E402

N, SIZE, WORK = 24, 64, (32, 32)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench") / "people.npz"


def test_cached_people_inputs_round_trip(cache: Path) -> None:
    """The second call reads the .npz instead of generating: the same arrays; another N is
    generated again (the key differs) and replaces the file."""
    first = cached_people_inputs(N, SIZE, WORK, str(cache))
    assert cache.exists() and len(first) == N
    again = cached_people_inputs(N, SIZE, WORK, str(cache))
    for name in _INPUT_FIELDS:
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name), err_msg=name)
    other = cached_people_inputs(N - 4, SIZE, WORK, str(cache))
    assert len(other) == N - 4
    with np.load(cache) as z:
        assert z["key"].tolist() == [N - 4, SIZE, *WORK]


def _recall(text: str) -> float:
    row = next(line for line in text.splitlines() if line.startswith("| shortlist"))
    return float(re.search(r"\| (\d\.\d{4}) \(\d+ sources\)", row).group(1))


def test_part_full_recall(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A shortlist as long as the pool keeps every admissible candidate, so every exact
    argmin survives (recall 1); the table names the end-to-end measurement."""
    inputs = cached_people_inputs(N, SIZE, WORK, str(cache))
    opts = SearchParams(workers=1, backend="threading", device="cpu", height=WORK[0],
                        width=WORK[1])
    part_full(inputs, opts, n_sources=8, m=N)
    out = capsys.readouterr().out
    assert f"N = {N}" in out and "measured end to end" in out
    assert _recall(out) == 1.0
    pairs = int(re.search(r"\(([\d,]+) admissible pairs", out).group(1).replace(",", ""))
    assert 0 < pairs <= N * (N - 1)


def test_part_full_on_the_torch_path(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--implementation torch``: the end-to-end shortlist search and the exact search that
    checks it both run on the torch path (CPU here), with the numba path's recall and pair
    count on the same people; the header names the path."""
    inputs = cached_people_inputs(N, SIZE, WORK, str(cache))
    outs = []
    for implementation in ("fast", "torch"):
        opts = SearchParams(workers=1, backend="threading", device="cpu", height=WORK[0],
                            width=WORK[1], implementation=implementation)
        assert _implementation(opts).startswith(f"implementation {implementation}")
        part_full(inputs, opts, n_sources=8, m=N // 2)
        outs.append(capsys.readouterr().out)
    pairs = [re.search(r"\(([\d,]+) admissible pairs", o).group(1) for o in outs]
    assert pairs[0] == pairs[1]
    assert _recall(outs[0]) == _recall(outs[1])
    assert _implementation(SearchParams(device="cpu", implementation="torch")) == \
        "implementation torch on cpu (CPU)"
