"""Resumable, parallel exact search over blocks of sources.

Sources are split into blocks of ``search.block_size``; each finished block is saved as an
.npz file in a cache folder keyed by a digest of the inputs, the result-shaping parameters
and the code, so an interrupted search resumes without recomputing finished blocks, and a
changed input never reuses a stale block. Blocks run in parallel through joblib: ``loky``
(processes on this machine), ``threading``, or a cluster through joblib's own ``dask`` or
``ray`` backends. The options are the validated ``search`` section of params.yaml
(:class:`pipeline.config.SearchParams`, which holds every default).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from joblib import Parallel, delayed, parallel_config
from tqdm import tqdm

from pipeline.artifacts.atomic import atomic_path
from pipeline.artifacts.code_digest import source_digest
from pipeline.config.base import section_dict
from pipeline.search import fast, reference, torch_search
from pipeline.geometry import TargetLayout, prepare_targets
from pipeline.search.admissible import admissible_with_distance
from pipeline.search.first_pass import LowRes, lowres
from pipeline.search.inputs import SearchInputs
from pipeline.search.shortlist import shortlist
from pipeline.search.torch_kernel import DeviceInputs

if TYPE_CHECKING:
    from pipeline.config.search import SearchParams


@dataclass
class SearchResult:
    """Per source (rows of the inputs; -1 / NaN where not searched or nothing admissible).

    target (N,) int32 c*; cost (N,) float32; topk_index (N, k) int32; topk_cost (N, k) float32;
    num_admissible (N,) int32 (-1 where not searched).
    """

    target: np.ndarray
    cost: np.ndarray
    topk_index: np.ndarray
    topk_cost: np.ndarray
    num_admissible: np.ndarray


def _search_block(sources: np.ndarray, inputs: SearchInputs, pool: np.ndarray,
                  identity: np.ndarray | None, opts: SearchParams,
                  low: LowRes | None = None, layout: TargetLayout | None = None
                  ) -> dict[str, np.ndarray]:
    """Top-k of every source of one block; low: the shortlist's low-resolution first pass
    (:func:`pipeline.search.first_pass.lowres`) when ``shortlist_method`` is lowres; layout:
    every image's prepared targets (:func:`pipeline.geometry.prepare_targets`), or None to
    prepare the candidates' per source (same bits, slower)."""
    k = opts.top_k
    out = {"sources": sources.astype(np.int64),
           "topk_index": np.full((len(sources), k), -1, np.int32),
           "topk_cost": np.full((len(sources), k), np.nan, np.float32),
           "num_admissible": np.zeros(len(sources), np.int32)}
    dev = _device_inputs(inputs, opts) if opts.implementation == "torch" else None
    for row, s in enumerate(sources):
        s = int(s)
        cands, dist = admissible_with_distance(s, inputs.keypoints, inputs.torso_ok,
                                               inputs.torso_size, pool, opts.min_pose_distance,
                                               identity)
        cands = cands.astype(np.int64)
        out["num_admissible"][row] = cands.size
        if opts.shortlist > 0:
            cands = shortlist(s, inputs, low, cands, opts.shortlist_method, opts.shortlist,
                              opts.mismatch_cost, distance=dist)
            dist = None                           # the shortlist comes best first
        if opts.implementation == "fast":
            idx, cst = fast.candidates_top_k(s, inputs, cands, opts.mismatch_cost, k,
                                             best_first=opts.shortlist > 0, distance=dist,
                                             layout=layout)
        else:
            if opts.implementation == "torch":
                costs = torch_search.candidate_costs(s, inputs, dev, cands, opts.mismatch_cost,
                                                     layout)
            else:
                costs = reference.candidate_costs(s, inputs, cands, opts.mismatch_cost)
            idx, cst = fast.top_k(cands, costs, k)
        out["topk_index"][row], out["topk_cost"][row] = idx, cst
    return out


def _device_inputs(inputs: SearchInputs, opts: SearchParams) -> DeviceInputs:
    """The torch implementation's maps on ``search.device`` (wrapping read-only memmaps of a
    loky worker without a copy on CPU: the search never writes to them)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not writable.*")
        return torch_search.device_inputs(inputs, opts.device)


def code_digest() -> str:
    """Digest of the source files of the search and the geometry it calls (stale-code guard)."""
    return source_digest("search", "geometry")


def cache_key(inputs: SearchInputs, pool: np.ndarray, identity: np.ndarray | None,
              opts: SearchParams) -> str:
    """Digest of everything a block's result depends on: inputs, the result-shaping params
    (:func:`pipeline.config.section_dict`: no execution-only key such as workers, backend or
    block_size; a block is reused only if it holds the same sources) and the code."""
    h = hashlib.sha256()
    h.update(code_digest().encode())
    for arr in (inputs.keypoints, inputs.labels, inputs.parts, pool):
        h.update(np.ascontiguousarray(arr).tobytes())
    if identity is not None:
        h.update(json.dumps([str(v) for v in identity]).encode())
    # the recall sample shapes only the recall measured afterwards, not a block's result
    h.update(json.dumps(section_dict(opts, exclude=("shortlist_recall_sample",)),
                        sort_keys=True).encode())
    return h.hexdigest()[:16]


@contextlib.contextmanager
def backend_context(opts: SearchParams) -> Iterator[None]:
    """joblib's parallel configuration for ``opts.backend`` (starting a dask client, on
    ``opts.scheduler`` or a local cluster, if needed)."""
    scheduler = opts.scheduler
    if opts.backend == "dask":
        try:
            from dask.distributed import Client, LocalCluster, get_client
        except ImportError:
            raise RuntimeError("search.backend=dask needs dask[distributed] installed") from None
        client = None
        try:
            get_client()                      # a client the caller already opened
        except ValueError:
            if scheduler:
                client = Client(scheduler)
            else:
                client = Client(LocalCluster(n_workers=opts.workers, threads_per_worker=1,
                                             processes=True, dashboard_address=None))
        try:
            with parallel_config(backend="dask"):
                yield
        finally:
            if client is not None:
                cluster = client.cluster
                client.close()
                if cluster is not None:
                    cluster.close()
    elif opts.backend == "ray":
        try:
            from ray.util.joblib import register_ray
        except ImportError:
            raise RuntimeError("search.backend=ray needs ray installed (pip install 'ray')"
                               ) from None
        register_ray()
        with parallel_config(backend="ray"):
            yield
    else:
        with parallel_config(backend=opts.backend, n_jobs=opts.workers):
            yield


def run_search(inputs: SearchInputs, sources: np.ndarray, pool: np.ndarray,
               identity: np.ndarray | None, opts: SearchParams, cache_root: Path,
               progress: bool = True, low: LowRes | None = None) -> SearchResult:
    """Search every source in ``sources`` (indices into ``inputs``) among ``pool``.

    low: the shortlist's first-pass maps (:func:`pipeline.search.first_pass.lowres` of
    ``inputs`` at ``shortlist_factor``), to reuse them across calls; built here when needed.

    Finished blocks are kept under ``cache_root/<digest>/`` until the whole search is done;
    the caller deletes them (:func:`clear_cache`) after writing the final artifact.
    """
    n = len(inputs)
    k = opts.top_k
    ident = identity if opts.same_identity == "exclude" else None
    key = cache_key(inputs, pool, ident, opts)
    cache = Path(cache_root) / key
    cache.mkdir(parents=True, exist_ok=True)
    blocks = [sources[i:i + opts.block_size] for i in range(0, len(sources), opts.block_size)]
    results: dict[int, dict[str, np.ndarray]] = {}
    todo = []
    for b, block in enumerate(blocks):
        path = cache / f"block_{b:06d}.npz"
        if path.exists():
            with np.load(path) as z:
                if np.array_equal(z["sources"], block):
                    results[b] = {name: z[name] for name in z.files}
                    continue
        todo.append(b)
    bar = tqdm(total=len(sources), initial=sum(len(blocks[b]) for b in results), unit="src",
               desc=f"search ({len(results)} blocks resumed)" if results else "search",
               disable=not progress)
    if low is None and todo and opts.shortlist > 0 and opts.shortlist_method == "lowres":
        low = lowres(inputs, opts.shortlist_factor)
    # the reference implementation fits its affines pair by pair; the others share one layout
    layout = (prepare_targets(inputs.keypoints) if todo and opts.implementation != "reference"
              else None)
    if todo:
        with backend_context(opts):
            parallel = Parallel(n_jobs=opts.workers, return_as="generator_unordered")
            jobs = parallel(delayed(_with_index)(b, blocks[b], inputs, pool, ident, opts,
                                                 low, layout)
                            for b in todo)
            for b, res in jobs:
                with atomic_path(cache / f"block_{b:06d}.npz", suffix=".npz") as tmp:
                    with open(tmp, "wb") as fh:
                        np.savez(fh, **res)
                results[b] = res
                bar.update(len(blocks[b]))
    bar.close()

    out = SearchResult(target=np.full(n, -1, np.int32), cost=np.full(n, np.nan, np.float32),
                       topk_index=np.full((n, k), -1, np.int32),
                       topk_cost=np.full((n, k), np.nan, np.float32),
                       num_admissible=np.full(n, -1, np.int32))
    for res in results.values():
        rows = res["sources"]
        out.topk_index[rows] = res["topk_index"]
        out.topk_cost[rows] = res["topk_cost"]
        out.num_admissible[rows] = res["num_admissible"]
        out.target[rows] = res["topk_index"][:, 0]
        out.cost[rows] = res["topk_cost"][:, 0]
    return out


def _with_index(b: int, *args) -> tuple[int, dict[str, np.ndarray]]:
    return b, _search_block(*args)


def clear_cache(cache_root: Path) -> None:
    """Remove the block cache (after the final artifact is in place)."""
    shutil.rmtree(cache_root, ignore_errors=True)
