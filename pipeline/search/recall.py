"""What the shortlist misses, measured against the exact search on a sample of sources.

For a random sample of the searched sources, the exact search over every admissible
candidate is run (cheap: only those sources) and compared with the shortlist search's
result for the same sources:

- recall: the share of sampled sources whose exact argmin survives the shortlist (then the
  shortlist's choice is that argmin, as the exact cost ranks the shortlist with the same
  tie-break);
- cost excess: the mean of (cost_short - cost_exact) / max(cost_exact, 1) over the sample
  (0 where the argmin survives; the floor of one pixel keeps a rare zero exact cost finite).

Sources with no admissible candidate are left out of both (neither search finds one).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.search.blocks import SearchResult, run_search
from pipeline.search.inputs import SearchInputs

if TYPE_CHECKING:
    from pipeline.config.search import SearchParams

#: Seed of the recall sample's draw [choice]: fixed, so that pseudo.h5 is reproducible.
SAMPLE_SEED = 0


@dataclass
class Recall:
    """The shortlist against the exact search on ``sample`` sources (those with a target).

    recall: share in [0, 1]; cost_excess: mean relative excess (>= 0); max_excess: its max.
    """

    sample: int
    recall: float
    cost_excess: float
    max_excess: float


def sample_sources(sources: np.ndarray, n: int, seed: int = SAMPLE_SEED) -> np.ndarray:
    """A seeded random subset of ``n`` of ``sources`` (all of them when n >= len), ascending."""
    sources = np.asarray(sources)
    if n >= sources.size:
        return np.sort(sources)
    return np.sort(np.random.default_rng(seed).choice(sources, n, replace=False))


def compare(short: SearchResult, exact: SearchResult, sample: np.ndarray) -> Recall:
    """:class:`Recall` of the rows ``sample`` of two results over the same inputs."""
    rows = np.asarray(sample)[exact.target[sample] >= 0]
    if rows.size == 0:
        return Recall(0, float("nan"), float("nan"), float("nan"))
    hit = short.target[rows] == exact.target[rows]
    c_exact = exact.cost[rows].astype(np.float64)
    c_short = short.cost[rows].astype(np.float64)
    excess = np.where(hit, 0.0, (c_short - c_exact) / np.maximum(c_exact, 1.0))
    return Recall(int(rows.size), float(hit.mean()), float(excess.mean()), float(excess.max()))


def measure(inputs: SearchInputs, short: SearchResult, sources: np.ndarray, pool: np.ndarray,
            identity: np.ndarray | None, opts: SearchParams, cache_root: Path,
            progress: bool = True) -> Recall:
    """Recall of the shortlist search ``short`` (run with ``opts``) on
    ``opts.shortlist_recall_sample`` of ``sources``: the exact search of those sources only
    (same implementation, backend and block cache as the stage; ``shortlist`` = 0)."""
    sample = sample_sources(sources, opts.shortlist_recall_sample)
    exact = run_search(inputs, sample, pool, identity, opts.model_copy(update={"shortlist": 0}),
                       cache_root, progress)
    return compare(short, exact, sample)
