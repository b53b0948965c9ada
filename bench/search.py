"""Benchmark of the pseudo-label search (docs/method.md §4): reference vs fast, and the full exact search.

    python bench/search.py [--sizes 1000,4000] [--workers 2] [--ref-pairs 300]

Poses are real (the DeepFashion sample's OpenPose rows, missing points included), worn by
synthetic people (so the label maps are realistic). For each N it prints the reference's and
the fast implementation's pairs per second, measured in the same run on the same pairs, their
ratio, and the wall time of the full exact search over all N x N pairs with ``--workers``
loky processes (the stage's default configuration).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.config.data import SyntheticParams
from pipeline.config.search import SearchParams
from pipeline.search import fast, reference
from pipeline.search.blocks import run_search
from pipeline.search.inputs import build_inputs
from pipeline.synthetic.dataset import generate

REPO = Path(__file__).resolve().parents[1]


def _people(n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    params = SyntheticParams(identities=max(2, n // 4), poses_per_identity=4, seed=1,
                             real_pose_fraction=1.0,
                             real_poses=str(REPO / "data/annotations/fasion-annotation-sample.csv"))
    ds = generate(params, size, size)
    return ds.keypoints[:n], ds.labels[:n]


def _pairs_per_second(fn, inputs, pool, sources, params: SearchParams) -> tuple[float, int]:
    pairs = 0
    t = time.perf_counter()
    for s in sources:
        cands, _ = fn(int(s), inputs, pool, params.min_pose_distance, None,
                      params.mismatch_cost)
        pairs += cands.size
    return pairs / (time.perf_counter() - t), pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,4000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--ref-pairs", type=int, default=300, help="pairs timed for the reference")
    ap.add_argument("--image-size", type=int, default=256)
    args = ap.parse_args()
    params = SearchParams(workers=args.workers)
    work = (params.height, params.width)
    print(f"search at {work[0]}x{work[1]}, min_pose_distance {params.min_pose_distance}, "
          f"images {args.image_size}x{args.image_size}, synthetic people in real DeepFashion poses")
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        kp, labels = _people(n, args.image_size)
        inputs = build_inputs(kp, labels, (args.image_size,) * 2, work)
        pool = np.flatnonzero(inputs.torso_ok)
        # one source's candidates for the reference (the first ref-pairs of them), and the
        # same source for the fast implementation (compiled once beforehand)
        fast.search_source(int(pool[0]), inputs, pool[:10], params.min_pose_distance, None,
                           params.mismatch_cost)
        src = pool[:1]
        sub = pool[: args.ref_pairs + 1]
        ref_pps, ref_pairs = _pairs_per_second(reference.search_source, inputs, sub, src,
                                               params)
        fast_pps, _ = _pairs_per_second(fast.search_source, inputs, sub, src,
                                        params)
        # one core, realistic load (20 sources against the whole pool): every cost vs the
        # exact top-k with early exit that the stage uses
        fast_full_pps, _ = _pairs_per_second(fast.search_source, inputs, pool, pool[:20],
                                             params)
        topk_pps, _ = _pairs_per_second(_top_k_as_pairs, inputs, pool, pool[:20],
                                        params)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            res = run_search(inputs, pool, pool, None, params, Path(tmp), progress=False)
            wall = time.perf_counter() - t
        pairs = int(res.num_admissible[pool].sum())
        rows.append((n, pool.size, ref_pps, fast_pps, fast_full_pps, topk_pps, pairs, wall))
        print(f"N={n}: done ({pairs} admissible pairs in {wall:.1f} s)", flush=True)
    print()
    print("| N | with torso | reference pairs/s | fast, every cost: pairs/s (same pairs) "
          "| fast / reference | 1 core, 20 sources x pool: every cost | exact top-k, early exit "
          "| early exit / every cost | admissible pairs | full exact search "
          f"({args.workers} workers) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, v, r, f, ff, tk, pairs, wall in rows:
        print(f"| {n} | {v} | {r:,.0f} | {f:,.0f} | {f / r:,.0f}x | {ff:,.0f} | {tk:,.0f} "
              f"| {tk / ff:.1f}x | {pairs:,} | {wall:.1f} s ({pairs / wall:,.0f} pairs/s) |")


def _top_k_as_pairs(source, inputs, pool, min_dist, identity, mismatch_cost):
    """search_source_top_k with the (candidates, costs) shape _pairs_per_second counts."""
    _, _, n_adm = fast.search_source_top_k(source, inputs, pool, min_dist, identity,
                                           mismatch_cost, SearchParams().top_k)
    return np.zeros(n_adm), None


if __name__ == "__main__":
    main()
