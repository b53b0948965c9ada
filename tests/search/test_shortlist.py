"""The shortlist (search.shortlist = M): its first passes, its result against an independent
recomputation, every implementation and backend, and the recall it reports."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config.search import SearchParams
from pipeline.geometry import part_affines_batch
from pipeline.search import fast, first_pass, recall, shortlist
from pipeline.search.admissible import pose_distance
from pipeline.search.blocks import SearchResult, cache_key, run_search
from pipeline.search.kernel import source_costs


def _opts(**kw) -> SearchParams:
    base = dict(top_k=3, min_pose_distance=0.2, block_size=8, workers=1, backend="threading")
    base.update(kw)
    return SearchParams(**base)


def test_select_keeps_the_best_with_ties_to_the_lower_index():
    cands = np.array([9, 4, 7, 2, 5])
    score = np.array([1.0, 3.0, 1.0, 0.5, 3.0])
    assert shortlist.select(cands, score, 4).tolist() == [2, 7, 9, 4]
    assert shortlist.select(cands, score, 10).tolist() == [2, 7, 9, 4, 5]


def test_lowres_refuses_a_too_small_first_pass(realistic_inputs):
    inputs, _ = realistic_inputs
    low = first_pass.lowres(inputs, 4)
    assert low.inputs.shape == (8, 8)
    assert ((low.inputs.keypoints < 0) == (inputs.keypoints < 0)).all()
    with pytest.raises(ValueError, match="shortlist_factor"):
        first_pass.lowres(inputs, 16)
    with pytest.raises(ValueError, match="shortlist_factor"):
        SearchParams(height=32, width=32, shortlist=10, shortlist_factor=16)
    SearchParams(height=32, width=32, shortlist=0, shortlist_factor=16)   # no first pass: fine


def test_block_labels_vote_per_block():
    """Hand-computed 4x4 -> 2x2 blocks (factor 2, so a block is person from 1 of its 4
    pixels): the most frequent person label wins, ties go to the lower label, an all-background
    block stays background; at factor 4 a block needs 4 of 16 person pixels."""
    lab = np.array([[[0, 0, 3, 3],
                     [0, 5, 5, 3],
                     [0, 0, 7, 2],
                     [0, 0, 2, 7]]], np.uint8)
    got = first_pass.block_labels(lab, 2)
    assert got.dtype == np.uint8
    assert got.tolist() == [[[5, 3], [0, 2]]]
    big = np.zeros((2, 8, 8), np.uint8)
    big[0, :2, :1] = 4            # 2 person pixels of 16 in block (0, 0): background
    big[1, :2, :2] = 4            # 4 of 16: person, label 4
    big[1, 4:, 4:] = 6            # a full block of 6
    got = first_pass.block_labels(big, 4)
    assert got.tolist() == [[[0, 0], [0, 0]], [[4, 0], [0, 6]]]
    # not a multiple of the factor: resampled to the next lower multiple first
    assert first_pass.block_labels(np.ones((1, 9, 10), np.uint8), 4).shape == (1, 2, 2)
    # chunks give the same maps
    many = np.random.default_rng(0).integers(0, 10, (7, 8, 8)).astype(np.uint8)
    np.testing.assert_array_equal(first_pass.block_labels(many, 2, chunk=3),
                                  first_pass.block_labels(many, 2))


def test_compiled_fits_match_the_numpy_fits(realistic_inputs):
    """The first pass's numba fits equal part_affines_batch up to summation order, on the hard
    cases (missing points, mirrored limbs, collinear torsos: similarity and no-point
    fallbacks), and so give the numpy-fitted low-resolution cost on nearly every pair."""
    inputs, _ = realistic_inputs
    low = first_pass.lowres(inputs, 2)
    li = low.inputs
    pool = np.flatnonzero(inputs.torso_ok)
    same = total = 0
    for s in pool:
        cands = pool[pool != s].astype(np.int64)
        ref, _ = part_affines_batch(li.keypoints[s], li.keypoints[cands], *li.shape)
        got = first_pass.affines(int(s), low, cands)
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)
        want = source_costs(li.labels[s], li.parts[s], li.bbox[s], li.labels, li.parts,
                            li.bbox, cands, np.ascontiguousarray(ref), 2.0)
        same += int((first_pass.scores(int(s), low, cands, 2.0) == want).sum())
        total += cands.size
    assert same >= 0.99 * total


def test_early_exit_ranking_equals_ranking_every_score(realistic_inputs):
    inputs, _ = realistic_inputs
    low = first_pass.lowres(inputs, 2)
    pool = np.flatnonzero(inputs.torso_ok).astype(np.int64)
    for s in pool:
        cands = pool[pool != s]
        score = first_pass.scores(int(s), low, cands, 2.0)
        for m in (1, 5, 17, cands.size + 3):
            got, got_cost = first_pass.best(int(s), low, cands, m, 2.0)
            np.testing.assert_array_equal(got, shortlist.select(cands, score, m))
            np.testing.assert_array_equal(got_cost, np.sort(score)[:m])


def test_first_pass_result_does_not_depend_on_the_visiting_order(realistic_inputs):
    """The stage's shortlist (index order) must be the one of any other visiting order,
    nearest in pose first or random, ties included."""
    inputs, _ = realistic_inputs
    low = first_pass.lowres(inputs, 2)
    pool = np.flatnonzero(inputs.torso_ok).astype(np.int64)
    rng = np.random.default_rng(0)
    for s in pool:
        cands = pool[pool != s]
        dist = pose_distance(inputs.keypoints[s], inputs.keypoints[cands],
                             float(inputs.torso_size[s]))
        for m in (1, 6, 17):
            want = first_pass.best(int(s), low, cands, m, 2.0)[0]
            got = shortlist.shortlist(int(s), inputs, low, cands, "lowres", m, 2.0,
                                      distance=dist)
            np.testing.assert_array_equal(got, want)
            by_pose = cands[np.argsort(dist, kind="stable")]
            np.testing.assert_array_equal(first_pass.best(int(s), low, by_pose, m, 2.0)[0],
                                          want)
            shuffled = rng.permutation(cands)
            np.testing.assert_array_equal(first_pass.best(int(s), low, shuffled, m, 2.0)[0],
                                          want)
        np.testing.assert_array_equal(      # the pose method takes the handed-on distances
            shortlist.shortlist(int(s), inputs, None, cands, "pose", 6, 2.0, distance=dist),
            shortlist.shortlist(int(s), inputs, None, cands, "pose", 6, 2.0))


def _expected(inputs, pool, s, method, m, k, low):
    """Independent recomputation: every exact cost, every first-pass score, keep the m best."""
    cands, costs = fast.search_source(int(s), inputs, pool, 0.2, None, 2.0)
    if cands.size > m:
        if method == "pose":
            score = pose_distance(inputs.keypoints[s], inputs.keypoints[cands],
                                  float(inputs.torso_size[s]))
        else:
            score = first_pass.scores(int(s), low, cands, 2.0)
        keep = np.lexsort((cands, score))[:m]
        cands, costs = cands[keep], costs[keep]
    return fast.top_k(cands, costs, k)


@pytest.mark.parametrize("implementation", ["fast", "torch", "reference"])
@pytest.mark.parametrize("method", ["pose", "lowres"])
def test_shortlist_ranks_exactly_the_m_best_of_the_first_pass(realistic_inputs, tmp_path,
                                                              implementation, method):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    sources = pool if implementation != "reference" else pool[:4]
    m = 6
    res = run_search(inputs, sources, pool, None,
                     _opts(shortlist=m, shortlist_method=method, shortlist_factor=2,
                           implementation=implementation, device="cpu"),
                     tmp_path, progress=False)
    low = first_pass.lowres(inputs, 2)
    for s in sources:
        idx, cst = _expected(inputs, pool, s, method, m, 3, low)
        np.testing.assert_array_equal(res.topk_index[s], idx)
        np.testing.assert_array_equal(res.topk_cost[s], cst)
    exact = run_search(inputs, sources, pool, None, _opts(), tmp_path / "exact",
                       progress=False)
    # num_admissible still counts every admissible candidate, and the shortlist did cut
    np.testing.assert_array_equal(res.num_admissible, exact.num_admissible)
    assert (res.num_admissible[sources] > m).any()


def test_a_shortlist_as_long_as_the_pool_is_the_exact_search(realistic_inputs, tmp_path):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    exact = run_search(inputs, pool, pool, None, _opts(), tmp_path / "e", progress=False)
    for method in ("pose", "lowres"):
        long = run_search(inputs, pool, pool, None,
                          _opts(shortlist=pool.size, shortlist_method=method),
                          tmp_path / method, progress=False)
        np.testing.assert_array_equal(long.topk_index, exact.topk_index)
        np.testing.assert_array_equal(long.topk_cost, exact.topk_cost)


def test_shortlist_with_loky_dask_and_resume(realistic_inputs, tmp_path: Path):
    distributed = pytest.importorskip("dask.distributed")
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    opts = dict(shortlist=5, shortlist_method="lowres", shortlist_factor=2)
    local = run_search(inputs, pool, pool, None, _opts(**opts), tmp_path / "t", progress=False)
    loky = run_search(inputs, pool, pool, None, _opts(backend="loky", workers=2, **opts),
                      tmp_path / "l", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        dask = run_search(inputs, pool, pool, None, _opts(backend="dask", workers=2, **opts),
                          tmp_path / "d", progress=False)
    # resume: a second run over the same cache reads every block back
    resumed = run_search(inputs, pool, pool, None, _opts(**opts), tmp_path / "t",
                         progress=False)
    for other in (loky, dask, resumed):
        np.testing.assert_array_equal(other.topk_index, local.topk_index)
        np.testing.assert_array_equal(other.topk_cost, local.topk_cost)


def test_cache_key_follows_the_shortlist_but_not_the_recall_sample(realistic_inputs):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    key = cache_key(inputs, pool, None, _opts(shortlist=5))
    assert cache_key(inputs, pool, None, _opts(shortlist=5, shortlist_recall_sample=7)) == key
    for changed in (_opts(), _opts(shortlist=6), _opts(shortlist=5, shortlist_method="pose"),
                    _opts(shortlist=5, shortlist_factor=2)):
        assert cache_key(inputs, pool, None, changed) != key


def _result(target, cost) -> SearchResult:
    t = np.asarray(target, np.int32)
    c = np.asarray(cost, np.float32)
    return SearchResult(t, c, t[:, None], c[:, None], np.ones_like(t))


def test_recall_and_cost_excess_by_hand():
    exact = _result([5, 6, 7, -1, 9], [10.0, 4.0, 0.0, np.nan, 8.0])
    short = _result([5, 2, 3, -1, 9], [10.0, 5.0, 2.0, np.nan, 8.0])
    rec = recall.compare(short, exact, np.arange(5))
    assert rec.sample == 4                                # the source with no target is left out
    assert rec.recall == 0.5
    # excesses 0, (5-4)/4, (2-0)/max(0,1), 0
    assert rec.cost_excess == pytest.approx((0.25 + 2.0) / 4)
    assert rec.max_excess == 2.0


def test_measured_recall_on_a_sample(realistic_inputs, tmp_path):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    full = _opts(shortlist=pool.size, shortlist_recall_sample=10)
    res = run_search(inputs, pool, pool, None, full, tmp_path / "a", progress=False)
    rec = recall.measure(inputs, res, pool, pool, None, full, tmp_path / "a", progress=False)
    assert (rec.sample, rec.recall, rec.cost_excess) == (10, 1.0, 0.0)
    tiny = _opts(shortlist=1, shortlist_method="pose", shortlist_recall_sample=pool.size)
    res = run_search(inputs, pool, pool, None, tiny, tmp_path / "b", progress=False)
    rec = recall.measure(inputs, res, pool, pool, None, tiny, tmp_path / "b", progress=False)
    assert rec.sample > 20 and rec.recall < 1.0 and rec.cost_excess > 0.0
    assert recall.sample_sources(pool, 10).tolist() == recall.sample_sources(pool, 10).tolist()
    assert len(set(recall.sample_sources(pool, 10))) == 10


def test_stage_records_the_shortlist_and_its_measured_recall(project_copy):
    """pseudo.h5 says how exact the search was: M, the first pass, and the recall measured
    on a random sample of sources (exact search of those sources only)."""
    import h5py

    from pipeline.config.params import validate
    from pipeline.search import stage
    from tests.helpers import TINY_RAW

    paths = project_copy("shortlist")
    raw = {**TINY_RAW, "search": {"workers": 1, "backend": "threading", "shortlist": 2,
                                  "shortlist_recall_sample": 6}}
    summary = stage.run(validate(raw), paths, progress=False)
    with h5py.File(paths.artifact("pseudo"), "r") as f:
        attrs = dict(f.attrs)
        with_target = int((f["target_index"][:] >= 0).sum())
    assert attrs["shortlist"] == 2 and attrs["shortlist_method"] == "lowres"
    assert attrs["shortlist_factor"] == 4 and attrs["shortlist_recall_sample"] == 6
    assert 0.0 <= attrs["shortlist_recall"] <= 1.0 and attrs["shortlist_cost_excess"] >= 0.0
    assert summary["shortlist_recall"] == attrs["shortlist_recall"]
    assert summary["pairs_evaluated"] <= 2 * with_target       # at most M exact pairs each
    exact = stage.run(validate({**TINY_RAW, "search": {"workers": 1}}), paths, progress=False)
    assert exact["shortlist"] == 0 and "shortlist_recall" not in exact
