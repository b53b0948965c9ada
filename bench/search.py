"""Benchmark of the pseudo-label search (docs/method.md §4): implementations, the shortlist's
recall, and the search at DeepFashion scale.

    python bench/search.py --part speed  [--n 4000] [--sources 20] [--ref-pairs 300]
    python bench/search.py --part recall [--n 4000,10000] [--sample 0,500] [--shortlists 400,800,1600]
    python bench/search.py --part scale  [--n 38000] [--shortlists 1600,4000] [--scale-sources 500] [--inputs-cache F.npz]
    python bench/search.py --part cascade [--n 38000] [--cascades 0:8000,12000:8000] [--scale-sources 200]
    python bench/search.py --part full   [--n 38000] [--shortlists 3000] [--scale-sources 500] [--inputs-cache F.npz]

    --implementation torch --device cuda: the exact searches of recall, scale and full on the
    torch path (scale with --shortlists 0 times the exact search alone)

Poses are real (the DeepFashion sample's OpenPose rows, missing points included), worn by
synthetic people (so the label maps are realistic), generated identity by identity and
reduced to the working resolution in chunks (memory linear in N, no N x H x W image array
at full size). All timings run in this one process with ``--threads`` threads (numba's
kernels release the GIL; joblib's threading backend runs the blocks), so "2 threads" means
2 cores.

- speed: pairs per second of the reference, numba (``fast``) and torch implementations on
  the same pairs: every cost of ``--sources`` sources against the whole pool (numba and torch
  CPU, one thread), numba's exact top-k with early exit, and torch on CUDA ("no GPU here"
  without one). The reference is timed on ``--ref-pairs`` pairs of one source.
- recall: for each N, the exact search (``shortlist: 0``) and the shortlist search for each
  M of ``--shortlists`` and each first pass (lowres, pose) on the same sources (all, or a
  seeded random ``--sample`` of them): recall of the exact argmin, mean and max relative cost
  excess (:mod:`pipeline.search.recall`), and the wall time of each search.
- scale: at N = 38,000, the exact search and the shortlist search for each M, timed on the
  same ``--scale-sources`` random sources and extrapolated to every source (measured end to
  end when it covers them all; the table says which), the shortlist's recall on those
  sources, and the peak RSS of the process (memory linear in N: compare N = 4,000).
- cascade: first passes at two resolutions, one thread, on ``--scale-sources`` random
  sources. For each C:M of ``--cascades``, a pass at 1/(2 x shortlist_factor) (1/8) keeps
  the C best admissible candidates (C = 0: no such pass), the lowres pass at 1/4 keeps M of
  those, and the exact top-k ranks them; the seconds of each step, summed over the sources,
  and the recall against the exact search of the same sources. C <= M skips the 1/4 pass
  (a 1/8 first pass alone, shown as "–" under M).
- full: the shortlist search of every source at N = 38,000 with the first M of
  ``--shortlists``, measured end to end (the 1/4 maps, the first pass, the exact ranking and
  the resumable blocks, as the stage runs them), then the exact search of ``--scale-sources``
  random sources, against which the full run's argmins on those sources give the recall.
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from pipeline.config.data import SyntheticParams
from pipeline.config.search import SearchParams
from pipeline.geometry import prepare_targets
from pipeline.search import fast, first_pass, recall, reference, torch_search
from pipeline.search.admissible import admissible, admissible_with_distance
from pipeline.search.blocks import SearchResult, run_search
from pipeline.search.first_pass import lowres
from pipeline.search.inputs import SearchInputs, build_inputs
from pipeline.search.shortlist import shortlist
from pipeline.synthetic.dataset import generate_identity, real_pose_pool
from pipeline.torch_utils.device import resolve_device

REPO = Path(__file__).resolve().parents[1]
#: The fields of SearchInputs, in order (what --inputs-cache stores).
_INPUT_FIELDS = tuple(f.name for f in fields(SearchInputs))
#: Identities per chunk of generation (x 4 poses): bounds the full-size maps held at once.
GEN_CHUNK = 250


def people_inputs(n: int, size: int, work: tuple[int, int]) -> SearchInputs:
    """Search inputs of ``n`` synthetic people in real DeepFashion poses (4 poses per
    identity, seed 1), rendered at ``size`` px and reduced to ``work`` chunk by chunk."""
    params = SyntheticParams(identities=max(2, -(-n // 4)), poses_per_identity=4, seed=1,
                             real_pose_fraction=1.0,
                             real_poses=str(REPO / "data/annotations/fasion-annotation-sample.csv"))
    pool = real_pose_pool(params, size, size)
    chunks = []
    for lo in range(0, params.identities, GEN_CHUNK):
        ids = [generate_identity(params, k, size, size, pool)
               for k in range(lo, min(lo + GEN_CHUNK, params.identities))]
        kp = np.concatenate([i.keypoints for i in ids])
        lab = np.concatenate([i.labels for i in ids])
        chunks.append(build_inputs(kp, lab, (size, size), work))
    return SearchInputs(*(np.concatenate([getattr(c, f) for c in chunks])[:n]
                          for f in _INPUT_FIELDS))


def cached_people_inputs(n: int, size: int, work: tuple[int, int], cache: str
                         ) -> SearchInputs:
    """:func:`people_inputs`, read from the .npz ``cache`` when it holds the same n, image
    size and working size, else generated and saved there ('' = no cache)."""
    key = np.array([n, size, *work], np.int64)
    if cache and Path(cache).exists():
        with np.load(cache) as z:
            if "key" in z.files and np.array_equal(z["key"], key):
                return SearchInputs(*(z[f] for f in _INPUT_FIELDS))
        print(f"{cache}: made for other settings, regenerating", flush=True)
    inputs = people_inputs(n, size, work)
    if cache:
        tmp = Path(f"{cache}.tmp.npz")
        np.savez(tmp, key=key, **{f: getattr(inputs, f) for f in _INPUT_FIELDS})
        tmp.replace(cache)
    return inputs


def _pairs_per_second(fn, sources: np.ndarray, pool: np.ndarray) -> tuple[float, int]:
    """fn(source, pool) -> candidates searched; returns (pairs/s, pairs)."""
    pairs = 0
    t = time.perf_counter()
    for s in sources:
        pairs += fn(int(s), pool)
    return pairs / (time.perf_counter() - t), pairs


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20   # ru_maxrss: KiB


def part_speed(inputs: SearchInputs, opts: SearchParams, n_sources: int, ref_pairs: int
               ) -> None:
    pool = np.flatnonzero(inputs.torso_ok)
    md, mc, k = opts.min_pose_distance, opts.mismatch_cost, opts.top_k
    dev_cpu = torch_search.device_inputs(inputs, "cpu")

    def numba_every(s, p):
        return fast.search_source(s, inputs, p, md, None, mc)[0].size

    def numba_topk(s, p):
        return fast.search_source_top_k(s, inputs, p, md, None, mc, k)[2]

    layout = prepare_targets(inputs.keypoints)                # once, as run_search does

    def numba_topk_handed(s, p):
        cands, dist = admissible_with_distance(s, inputs.keypoints, inputs.torso_ok,
                                               inputs.torso_size, p, md)
        fast.candidates_top_k(s, inputs, cands.astype(np.int64), mc, k, distance=dist,
                              layout=layout)
        return cands.size

    def torch_on(dev):
        return lambda s, p: torch_search.search_source(s, inputs, dev, p, md, None, mc)[0].size

    def ref(s, p):
        return reference.search_source(s, inputs, p, md, None, mc)[0].size

    for warm in (numba_every, numba_topk, numba_topk_handed, torch_on(dev_cpu)):
        warm(int(pool[0]), pool[:10])                          # compile beforehand
    sources = pool[:n_sources]
    rows = []
    r_pps, r_pairs = _pairs_per_second(ref, pool[:1], pool[:ref_pairs + 1])
    f_pps, _ = _pairs_per_second(numba_every, pool[:1], pool[:ref_pairs + 1])
    rows.append(("reference (literal formula), 1 source", r_pairs, r_pps))
    rows.append(("numba every cost, same pairs", r_pairs, f_pps))
    for name, fn in (("numba (fast) every cost", numba_every),
                     ("torch CPU every cost", torch_on(dev_cpu)),
                     (f"numba exact top-{k}, early exit, distances and targets prepared per "
                      "call", numba_topk),
                     (f"numba exact top-{k}, early exit, distances and targets handed on "
                      "(the stage)", numba_topk_handed)):
        pps, pairs = _pairs_per_second(fn, sources, pool)
        rows.append((f"{name}, {len(sources)} sources x pool", pairs, pps))
    if torch.cuda.is_available():
        dev_gpu = torch_search.device_inputs(inputs, "cuda")
        torch_on(dev_gpu)(int(pool[0]), pool[:10])
        pps, pairs = _pairs_per_second(torch_on(dev_gpu), sources, pool)
        rows.append((f"torch CUDA ({torch.cuda.get_device_name()}) every cost, "
                     f"{len(sources)} sources x pool", pairs, pps))
    else:
        rows.append(("torch CUDA", 0, float("nan")))
    print(f"\n### speed, N = {len(inputs)} ({pool.size} with a torso), "
          f"{torch.get_num_threads()} torch thread(s), numba single-threaded\n")
    print("| implementation | pairs | pairs/s |")
    print("|---|---|---|")
    for name, pairs, pps in rows:
        value = "no GPU here" if np.isnan(pps) else f"{pps:,.0f}"
        print(f"| {name} | {pairs:,} | {value} |")


def _implementation(opts: SearchParams) -> str:
    """The searches' implementation and device, in words (the speed part times them all)."""
    if opts.implementation != "torch":
        return f"implementation {opts.implementation}"
    device = resolve_device(opts.device)          # a clear error for cuda without CUDA
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    return f"implementation torch on {device} ({name})"


def _timed_search(inputs: SearchInputs, sources: np.ndarray, pool: np.ndarray,
                  opts: SearchParams) -> tuple[SearchResult, float]:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        res = run_search(inputs, sources, pool, None, opts, Path(tmp), progress=False)
        return res, time.perf_counter() - t


def part_recall(inputs: SearchInputs, opts: SearchParams, sample: int, shortlists: list[int],
                methods: list[str]) -> None:
    pool = np.flatnonzero(inputs.torso_ok)
    sources = recall.sample_sources(pool, sample) if sample > 0 else pool
    exact, t_exact = _timed_search(inputs, sources, pool, opts)
    pairs = int(exact.num_admissible[sources].sum())
    print(f"\n### recall, N = {len(inputs)}: {sources.size} sources "
          f"({'all' if sources.size == pool.size else 'random sample'}), {pairs:,} admissible "
          f"pairs; exact search {t_exact:.1f} s\n")
    print("| first pass | M | recall of the exact argmin | mean cost excess | max cost excess "
          "| wall (s) | speed-up vs exact |")
    print("|---|---|---|---|---|---|---|")
    for method in methods:
        for m in shortlists:
            short, t = _timed_search(inputs, sources, pool,
                                     opts.model_copy(update={"shortlist": m,
                                                             "shortlist_method": method}))
            rec = recall.compare(short, exact, sources)
            print(f"| {method} | {m} | {rec.recall:.4f} ({rec.sample} sources) | "
                  f"{rec.cost_excess:.5f} | {rec.max_excess:.4f} | {t:.1f} | "
                  f"{t_exact / t:.1f}x |", flush=True)


def part_scale(inputs: SearchInputs, opts: SearchParams, n_sources: int,
               shortlists: list[int]) -> None:
    """Exact and shortlist searches timed on the same random sources, extrapolated to every
    source, with the shortlist's recall on those sources and the process's peak RSS."""
    pool = np.flatnonzero(inputs.torso_ok)
    n_src = pool.size
    src = recall.sample_sources(pool, n_sources, seed=1)
    full = src.size == n_src
    how = "measured end to end" if full else "extrapolated"
    print(f"\n### scale, N = {len(inputs)} ({n_src} sources with a torso), {opts.workers} "
          f"threads, {src.size} {'(all)' if full else 'random'} sources timed\n", flush=True)
    t = time.perf_counter()
    low = lowres(inputs, opts.shortlist_factor)
    t_low = time.perf_counter() - t
    exact, t_e = _timed_search(inputs, src, pool, opts)
    pairs = int(exact.num_admissible[src].sum())
    print("| search | M | wall on the timed sources (s) | all sources (h) | recall of the exact "
          "argmin | mean cost excess | max cost excess |")
    print("|---|---|---|---|---|---|---|")
    print(f"| exact ({pairs / t_e:,.0f} pairs/s) | - | {t_e:.1f} | "
          f"{t_e / src.size * n_src / 3600:.2f} ({how}) | 1 | 0 | 0 |", flush=True)
    for m in shortlists:
        short_opts = opts.model_copy(update={"shortlist": m})
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            short = run_search(inputs, src, pool, None, short_opts, Path(tmp), progress=False,
                               low=low)
            t_s = time.perf_counter() - t
        rec = recall.compare(short, exact, src)
        total = t_s / src.size * n_src + t_low
        print(f"| shortlist lowres 1/{opts.shortlist_factor} | {m} | {t_s:.1f} | "
              f"{total / 3600:.2f} ({how}, + {t_low:.0f} s of 1/{opts.shortlist_factor} maps) "
              f"| {rec.recall:.4f} ({rec.sample} sources) | {rec.cost_excess:.5f} "
              f"| {rec.max_excess:.4f} |", flush=True)
    print(f"\npeak RSS of this process: {_peak_rss_gib():.2f} GiB")


def part_full(inputs: SearchInputs, opts: SearchParams, n_sources: int, m: int) -> None:
    """The shortlist search (M = ``m``) of every source, timed end to end with its 1/4 maps,
    and its recall against the exact search of ``n_sources`` seeded random sources."""
    pool = np.flatnonzero(inputs.torso_ok)
    print(f"\n### full shortlist search, N = {len(inputs)} ({pool.size} sources with a "
          f"torso), M = {m}, {opts.workers} threads, measured end to end\n", flush=True)
    short_opts = opts.model_copy(update={"shortlist": m})
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        short = run_search(inputs, pool, pool, None, short_opts, Path(tmp), progress=True)
        t_s = time.perf_counter() - t
    pairs = int(short.num_admissible[pool].sum())
    print(f"shortlist search of all {pool.size} sources: {t_s:.0f} s = {t_s / 3600:.2f} h "
          f"({pairs:,} admissible pairs; peak RSS {_peak_rss_gib():.2f} GiB)", flush=True)
    src = recall.sample_sources(pool, n_sources, seed=1)
    exact, t_e = _timed_search(inputs, src, pool, opts)
    rec = recall.compare(short, exact, src)
    print("| search | M | wall, all sources (h) | recall of the exact argmin | mean cost excess "
          "| max cost excess |")
    print("|---|---|---|---|---|---|")
    print(f"| exact, {src.size} random sources | - | {t_e / src.size * pool.size / 3600:.2f} "
          f"(extrapolated from {t_e:.0f} s) | 1 | 0 | 0 |")
    print(f"| shortlist lowres 1/{opts.shortlist_factor} | {m} | {t_s / 3600:.2f} (measured end "
          f"to end) | {rec.recall:.4f} ({rec.sample} sources) | {rec.cost_excess:.5f} | "
          f"{rec.max_excess:.4f} |")
    print(f"\npeak RSS of this process: {_peak_rss_gib():.2f} GiB")


def part_cascade(inputs: SearchInputs, opts: SearchParams, n_sources: int,
                 cascades: list[tuple[int, int]]) -> None:
    """Each C:M cascade (a 1/(2 x shortlist_factor) pass keeps C, the shortlist_factor pass
    keeps M, the exact top-k ranks them) against the exact search on the same random sources,
    one thread. Seconds per step are summed over the sources; the admissibility test is timed
    with each cascade, as the exact search times it; the two map builds are reported apart."""
    pool = np.flatnonzero(inputs.torso_ok)
    src = recall.sample_sources(pool, n_sources, seed=1)
    exact, t_exact = _timed_search(inputs, src, pool, opts.model_copy(update={"workers": 1}))
    factor, mc = opts.shortlist_factor, opts.mismatch_cost
    t = time.perf_counter()
    fine = lowres(inputs, factor)
    t_fine = time.perf_counter() - t
    coarse = lowres(inputs, 2 * factor)
    t_coarse = time.perf_counter() - t - t_fine

    def cands_of(s: int) -> np.ndarray:
        return admissible(s, inputs.keypoints, inputs.torso_ok, inputs.torso_size, pool,
                          opts.min_pose_distance).astype(np.int64)

    warm = next((c for c in map(cands_of, (int(x) for x in src)) if c.size), None)
    if warm is not None:                                        # compile beforehand
        for low in (fine, coarse):
            first_pass.best(int(src[0]), low, warm[:20], 5, mc)
    lo_f, lo_c = f"1/{2 * factor}", f"1/{factor}"
    print(f"\n### first-pass cascades, N = {len(inputs)}: {src.size} random sources, "
          f"{int(exact.num_admissible[src].sum()):,} admissible pairs, one thread; exact "
          f"search {t_exact:.1f} s; maps at {lo_c} {t_fine:.1f} s, at {lo_f} {t_coarse:.1f} s "
          f"(once, not in the totals)\n")
    print(f"| {lo_f} pass keeps C | {lo_c} pass keeps M | recall of the exact argmin | mean "
          f"cost excess | max cost excess | admissible (s) | {lo_f} pass (s) | {lo_c} pass (s) "
          f"| exact top-{opts.top_k} (s) | total (s) | speed-up vs exact |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for c_keep, m_keep in cascades:
        steps = np.zeros(4)
        short = SearchResult(target=np.full(len(inputs), -1, np.int32),
                             cost=np.full(len(inputs), np.nan, np.float32),
                             topk_index=np.zeros((0, 0), np.int32),
                             topk_cost=np.zeros((0, 0), np.float32),
                             num_admissible=np.zeros(0, np.int32))
        for s in (int(x) for x in src):
            t0 = time.perf_counter()
            c = cands_of(s)
            t1 = time.perf_counter()
            if c_keep:
                c = shortlist(s, inputs, coarse, c, "lowres", c_keep, mc)
            t2 = time.perf_counter()
            c = shortlist(s, inputs, fine, c, "lowres", m_keep, mc)
            t3 = time.perf_counter()
            idx, cost = fast.candidates_top_k(s, inputs, c, mc, opts.top_k, best_first=True)
            steps += (t1 - t0, t2 - t1, t3 - t2, time.perf_counter() - t3)
            short.target[s], short.cost[s] = idx[0], cost[0]
        rec = recall.compare(short, exact, src)
        fine_keep = "–" if 0 < c_keep <= m_keep else m_keep
        print(f"| {c_keep or '–'} | {fine_keep} | {rec.recall:.4f} ({rec.sample} sources) | "
              f"{rec.cost_excess:.5f} | {rec.max_excess:.4f} | {steps[0]:.1f} | {steps[1]:.1f} "
              f"| {steps[2]:.1f} | {steps[3]:.1f} | {steps.sum():.1f} | "
              f"{t_exact / steps.sum():.2f}x |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("speed", "recall", "scale", "cascade", "full"), required=True)
    ap.add_argument("--n", default="", help="N people, comma separated (recall: one table "
                    "each); default 4000 (speed), 4000,10000 (recall), 38000 (scale, cascade, full)")
    ap.add_argument("--sample", default="", help="recall: sources per N (0 = all), comma "
                    "separated like --n (default 0,500)")
    ap.add_argument("--shortlists", default="", help="shortlist sizes M, comma separated "
                    "(default 400,800,1600 for recall, 1600,4000 for scale, 3000 for full)")
    ap.add_argument("--methods", default="lowres,pose", help="recall: first passes")
    ap.add_argument("--cascades", default="0:8000,12000:8000,16000:8000,12000:12000",
                    help="cascade: C:M pairs, comma separated (C = 0: the 1/4 pass alone)")
    ap.add_argument("--sources", type=int, default=20, help="speed: sources x pool timed")
    ap.add_argument("--ref-pairs", type=int, default=300, help="speed: reference pairs")
    ap.add_argument("--scale-sources", type=int, default=500, help="scale, cascade: random sources "
                    "timed for every search (>= N: all, end to end); full: sources of the "
                    "exact search that the recall is measured on")
    ap.add_argument("--threads", type=int, default=2, help="threads (search.workers)")
    ap.add_argument("--implementation", choices=("fast", "torch"), default="fast",
                    help="recall, scale, full: search.implementation of every search "
                    "(default fast, numba)")
    ap.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                    help="with --implementation torch: search.device (default cpu)")
    ap.add_argument("--image-size", type=int, default=256)
    ap.add_argument("--inputs-cache", default="", help="scale, cascade, full: an .npz file that keeps "
                    "the generated people's search inputs for the next run (regenerated when "
                    "made for another N or size; the key holds no code version, so delete it "
                    "after changing the synthetic generator or build_inputs)")
    args = ap.parse_args()
    torch.set_num_threads(1 if args.part == "speed" else args.threads)
    opts = SearchParams(workers=args.threads, backend="threading",
                        implementation=args.implementation, device=args.device)
    work = (opts.height, opts.width)
    default_n = {"speed": "4000", "recall": "4000,10000", "scale": "38000",
                 "cascade": "38000", "full": "38000"}[args.part]
    sizes = [int(x) for x in (args.n or default_n).split(",")]
    try:
        implementation = _implementation(opts)
    except ValueError as err:
        ap.error(str(err))
    print(f"search at {work[0]}x{work[1]}, top_k {opts.top_k}, min_pose_distance "
          f"{opts.min_pose_distance}, images {args.image_size}x{args.image_size}, synthetic "
          f"people in real DeepFashion poses; {implementation}", flush=True)
    if args.part == "speed":
        for n in sizes:
            part_speed(people_inputs(n, args.image_size, work), opts, args.sources,
                       args.ref_pairs)
    elif args.part == "recall":
        samples = [int(x) for x in (args.sample or "0,500").split(",")]
        shortlists = [int(x) for x in (args.shortlists or "400,800,1600").split(",")]
        for n, sample in zip(sizes, samples):
            part_recall(people_inputs(n, args.image_size, work), opts, sample, shortlists,
                        args.methods.split(","))
    elif args.part == "cascade":
        cascades = [tuple(int(v) for v in c.split(":")) for c in args.cascades.split(",")]
        for n in sizes:
            part_cascade(cached_people_inputs(n, args.image_size, work, args.inputs_cache),
                         opts, args.scale_sources, cascades)
    elif args.part == "full":
        m = int((args.shortlists or "3000").split(",")[0])
        for n in sizes:
            part_full(cached_people_inputs(n, args.image_size, work, args.inputs_cache),
                      opts, args.scale_sources, m)
    else:
        shortlists = [m for m in (int(x) for x in (args.shortlists or "1600,4000").split(","))
                      if m > 0]
        for n in sizes:
            t = time.perf_counter()
            inputs = cached_people_inputs(n, args.image_size, work, args.inputs_cache)
            print(f"inputs of {n} people: {time.perf_counter() - t:.0f} s, peak RSS "
                  f"{_peak_rss_gib():.2f} GiB", flush=True)
            part_scale(inputs, opts, args.scale_sources, shortlists)

if __name__ == "__main__":
    main()
