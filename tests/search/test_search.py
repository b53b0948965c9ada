"""The pseudo-label search: the fast implementation against the literal formula, resume,
cluster backends, and the sanity anchors of docs/method.md §4."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import pipeline.search
from pipeline.annotations import read_keypoint_file
from pipeline.config.data import SyntheticParams
from pipeline.config.search import SearchParams
from pipeline.geometry import scale_keypoints
from pipeline.search import blocks, fast, reference
from pipeline.search.blocks import cache_key, run_search
from pipeline.search.inputs import build_inputs
from pipeline.synthetic.dataset import generate
from tests.helpers import ANNOTATIONS
from tests.search.cases import MISMATCH, WORK


def test_self_cost_is_zero():
    ds = generate(SyntheticParams(identities=3, poses_per_identity=3, real_pose_fraction=0.5,
                                  real_poses=str(ANNOTATIONS / "fasion-annotation-sample.csv")),
                  128, 128)
    inputs = build_inputs(ds.keypoints, ds.labels, (128, 128), WORK)
    assert inputs.torso_ok.sum() >= 6
    for s in np.flatnonzero(inputs.torso_ok):
        kp, lab = inputs.keypoints[s], inputs.labels[s]
        assert reference.pair_cost(kp, lab, kp, lab, MISMATCH) == 0.0
        pool = np.array([s])
        # the kernel too (admissibility would exclude s, so call the kernel directly)
        from pipeline.geometry import part_affines_batch
        from pipeline.search.kernel import source_costs
        aff, _ = part_affines_batch(kp, kp[None], *WORK)
        c = source_costs(lab, inputs.parts[s], inputs.bbox[s], inputs.labels, inputs.parts,
                         inputs.bbox, pool.astype(np.int64), aff, MISMATCH)
        assert c[0] == 0.0


@pytest.mark.parametrize("mismatch_cost,min_dist", [(2.0, 0.2), (1.0, 0.0), (3.5, 0.5)])
def test_fast_equals_reference_for_every_source(realistic_inputs, mismatch_cost, min_dist):
    inputs, person = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    assert 20 < pool.size < len(inputs)                    # some poses have no torso
    checked = 0
    for s in pool:
        c_ref, k_ref = reference.search_source(int(s), inputs, pool, min_dist, None,
                                               mismatch_cost)
        c_fast, k_fast = fast.search_source(int(s), inputs, pool, min_dist, None, mismatch_cost)
        np.testing.assert_array_equal(c_ref, c_fast)
        np.testing.assert_allclose(k_fast, k_ref, rtol=0, atol=1e-9)
        top_ref = fast.top_k(c_ref, k_ref, 4)
        top_pruned = fast.search_source_top_k(int(s), inputs, pool, min_dist, None,
                                              mismatch_cost, 4)
        np.testing.assert_array_equal(top_pruned[0], top_ref[0])     # same argmin and top k
        np.testing.assert_array_equal(top_pruned[1], top_ref[1])
        assert top_pruned[2] == c_ref.size
        checked += c_ref.size > 0
    assert checked > 20


def test_handed_on_distances_and_layout_give_the_same_bits(realistic_inputs):
    """The block runner hands the admissibility test's pose distances and one prepared target
    layout to the exact top-k (and the torch costs); both must change nothing."""
    from pipeline.geometry import prepare_targets
    from pipeline.search import torch_search
    from pipeline.search.admissible import admissible, admissible_with_distance, pose_distance
    inputs, person = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    layout = prepare_targets(inputs.keypoints)
    dev = torch_search.device_inputs(inputs, "cpu")
    for s in pool:
        s = int(s)
        cands, dist = admissible_with_distance(s, inputs.keypoints, inputs.torso_ok,
                                               inputs.torso_size, pool, 0.2, person)
        np.testing.assert_array_equal(cands, admissible(s, inputs.keypoints, inputs.torso_ok,
                                                        inputs.torso_size, pool, 0.2, person))
        np.testing.assert_array_equal(dist, pose_distance(inputs.keypoints[s],
                                                          inputs.keypoints[cands],
                                                          float(inputs.torso_size[s])))
        assert (dist >= 0.2).all()
        cands = cands.astype(np.int64)
        plain = fast.candidates_top_k(s, inputs, cands, MISMATCH, 4)
        handed = fast.candidates_top_k(s, inputs, cands, MISMATCH, 4, distance=dist,
                                       layout=layout)
        for a, b in zip(plain, handed):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(
            fast.candidate_affines(s, inputs, cands, layout).view(np.int64),
            fast.candidate_affines(s, inputs, cands).view(np.int64))
        np.testing.assert_array_equal(
            torch_search.candidate_costs(s, inputs, dev, cands, MISMATCH, layout),
            torch_search.candidate_costs(s, inputs, dev, cands, MISMATCH))


def test_identity_switch_excludes_the_same_person(realistic_inputs):
    inputs, person = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    s = int(pool[0])
    with_same, _ = fast.search_source(s, inputs, pool, 0.0, None, MISMATCH)
    without, _ = fast.search_source(s, inputs, pool, 0.0, person, MISMATCH)
    assert (person[without] != person[s]).all()
    assert set(without) < set(with_same) and s not in with_same


def test_top_k_ties_and_padding():
    idx, cost = fast.top_k(np.array([7, 3, 5]), np.array([1.0, 2.0, 1.0]), 5)
    assert idx.tolist() == [5, 7, 3, -1, -1]
    assert np.isnan(cost[3:]).all() and cost[:3].tolist() == [1.0, 1.0, 2.0]


def _opts(**kw) -> SearchParams:
    base = dict(top_k=3, min_pose_distance=0.2, block_size=8, workers=1, backend="threading")
    base.update(kw)
    return SearchParams(**base)


def test_cache_key_ignores_execution_keys_only(realistic_inputs):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    key = cache_key(inputs, pool, None, _opts())
    same = _opts(workers=7, backend="loky", block_size=3, scheduler="tcp://x:1")
    assert cache_key(inputs, pool, None, same) == key
    for changed in (_opts(top_k=4), _opts(mismatch_cost=1.0), _opts(min_pose_distance=0.3),
                    _opts(same_identity="exclude"), _opts(implementation="reference")):
        assert cache_key(inputs, pool, None, changed) != key


def test_search_defaults_live_only_in_the_schema():
    """No function of pipeline.search gives a default to a search parameter (top_k / k,
    mismatch_cost, min_pose_distance, ...): SearchParams in config.py is their one home."""
    names = set(SearchParams.model_fields) | {"k", "opts", "params"}
    offenders = []
    for info in pkgutil.iter_modules(pipeline.search.__path__):
        module = importlib.import_module(f"pipeline.search.{info.name}")
        for fname, fn in inspect.getmembers(module):
            target = getattr(fn, "py_func", fn)             # numba-compiled functions
            if not inspect.isfunction(target) or target.__module__ != module.__name__:
                continue
            for p in inspect.signature(target).parameters.values():
                if p.name in names and p.default is not inspect.Parameter.empty:
                    offenders.append(f"{module.__name__}.{fname}({p.name}={p.default!r})")
    assert not offenders, offenders
    assert not hasattr(blocks, "SearchOptions")


def test_blocks_resume_after_interruption(realistic_inputs, tmp_path: Path, monkeypatch):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    full = run_search(inputs, pool, pool, None, _opts(), tmp_path / "a", progress=False)

    calls = {"n": 0}
    real = blocks._search_block

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        return real(*args)

    monkeypatch.setattr(blocks, "_search_block", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_search(inputs, pool, pool, None, _opts(), tmp_path / "b", progress=False)
    saved = sorted((tmp_path / "b").rglob("block_*.npz"))
    assert len(saved) == 2

    calls["n"] = 100                                     # no more interruptions; count calls
    resumed = run_search(inputs, pool, pool, None, _opts(), tmp_path / "b", progress=False)
    n_blocks = -(-pool.size // 8)
    assert calls["n"] - 100 == n_blocks - 2              # finished blocks were not recomputed
    for field in ("target", "cost", "topk_index", "topk_cost", "num_admissible"):
        np.testing.assert_array_equal(getattr(resumed, field), getattr(full, field))
    # different parameters never reuse those blocks
    other = run_search(inputs, pool, pool, None, _opts(min_pose_distance=0.3), tmp_path / "b",
                       progress=False)
    assert len({p.parent for p in (tmp_path / "b").rglob("block_*.npz")}) == 2
    assert other.num_admissible.sum() <= full.num_admissible.sum()


def test_loky_and_dask_give_the_same_result(realistic_inputs, tmp_path: Path):
    distributed = pytest.importorskip("dask.distributed")
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    local = run_search(inputs, pool, pool, None, _opts(), tmp_path / "t", progress=False)
    loky = run_search(inputs, pool, pool, None, _opts(backend="loky", workers=2),
                      tmp_path / "l", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        dask = run_search(inputs, pool, pool, None, _opts(backend="dask", workers=2),
                          tmp_path / "d", progress=False)
    for other in (loky, dask):
        np.testing.assert_array_equal(other.topk_index, local.topk_index)
        np.testing.assert_array_equal(other.topk_cost, local.topk_cost)


def test_no_admissible_candidate_is_reported_not_dropped(realistic_inputs, tmp_path: Path):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    res = run_search(inputs, pool, pool, None, _opts(min_pose_distance=1e9), tmp_path,
                     progress=False)
    assert (res.target[pool] == -1).all() and (res.num_admissible[pool] == 0).all()
    assert np.isnan(res.cost[pool]).all()


def test_working_resolution_scaling_keeps_missing_points():
    kp = read_keypoint_file(ANNOTATIONS / "market-annotation-sample.csv").keypoints
    small = scale_keypoints(kp, (128, 64), (32, 16))
    assert ((small < 0) == (kp < 0)).all()
    inputs = build_inputs(kp, np.zeros((len(kp), 128, 64), np.uint8), (128, 64), (32, 16))
    assert inputs.labels.shape == (len(kp), 32, 16) and (inputs.bbox[:, :, 0] > inputs.bbox[:, :, 1]).all()


def test_reference_implementation_through_the_block_runner(realistic_inputs, tmp_path: Path):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    sources = pool[:6]
    ref = run_search(inputs, sources, pool, None, _opts(implementation="reference"),
                     tmp_path / "r", progress=False)
    fst = run_search(inputs, sources, pool, None, _opts(), tmp_path / "f", progress=False)
    np.testing.assert_array_equal(ref.topk_index, fst.topk_index)
    np.testing.assert_array_equal(ref.topk_cost, fst.topk_cost)
    np.testing.assert_array_equal(ref.num_admissible, fst.num_admissible)


def test_fractional_mismatch_cost_gives_identical_floats(realistic_inputs):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    for s in pool[:5]:
        c_ref, k_ref = reference.search_source(int(s), inputs, pool, 0.2, None, 0.3)
        c_fast, k_fast = fast.search_source(int(s), inputs, pool, 0.2, None, 0.3)
        np.testing.assert_array_equal(c_ref, c_fast)
        np.testing.assert_array_equal(k_ref, k_fast)       # bit for bit


def test_changed_code_never_reuses_saved_blocks(realistic_inputs, tmp_path, monkeypatch):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)[:10]
    run_search(inputs, pool, pool, None, _opts(), tmp_path, progress=False)
    monkeypatch.setattr(blocks, "code_digest", lambda: "other code")
    run_search(inputs, pool, pool, None, _opts(), tmp_path, progress=False)
    assert len({p.parent for p in tmp_path.rglob("block_*.npz")}) == 2


def _whole_frame_cost(src_lab, src_bits, c_lab, c_bits, affines, mismatch_cost):
    """The cost with every pixel of every part visited (no boxes, no spans), numpy."""
    h, w = src_lab.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    single = mismatch = 0
    for j, a in enumerate(affines):
        la = np.where(c_bits & (1 << j), c_lab, 0)
        fx = np.floor(((a[0, 0] * xs + a[0, 1] * ys) + a[0, 2]) + 0.5)
        fy = np.floor(((a[1, 0] * xs + a[1, 1] * ys) + a[1, 2]) + 0.5)
        inside = (fx >= 0) & (fx < w) & (fy >= 0) & (fy < h)
        ix = np.where(inside, fx, 0).astype(np.int64)
        iy = np.where(inside, fy, 0).astype(np.int64)
        lb = np.where(inside & (src_bits[iy, ix] & (1 << j) > 0), src_lab[iy, ix], 0)
        both = (la != 0) & (lb != 0)
        mismatch += int((both & (la != lb)).sum())
        single += int(((la != lb) & ~both).sum())
    return float(single) + mismatch_cost * float(mismatch)


def _random_affine(rng):
    """Rotations, shears, reflections, 0.1x to 10x scales, half-pixel offsets (samples on
    rounding ties), an axis-aligned or exactly zero coefficient, near-singular maps, |det|
    just above the kernel's threshold at a large scale, huge terms that cancel."""
    kind = rng.integers(8)
    if kind == 0:                                   # rational: samples land on .5 ties
        a = rng.choice([-2, -1, -0.5, 0, 0.5, 1, 2], size=(2, 2))
    elif kind == 1:                                 # rotation and scale
        t, s = rng.uniform(0, 2 * np.pi), np.exp(rng.uniform(np.log(0.1), np.log(10)))
        a = s * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    elif kind == 2:                                 # near singular
        v = rng.normal(size=2)
        a = np.outer(rng.normal(size=2), v) + rng.normal(scale=1e-7, size=(2, 2))
    elif kind == 3:                                 # tiny slopes along the rows
        a = rng.normal(size=(2, 2))
        a[:, 0] = rng.choice([1e-12, -1e-9, 1e-15, 1e-310, -5e-324, 0.0], size=2)
    elif kind == 4:                                 # |det| 1e-12..1e-9 at scale ~100
        v = rng.normal(size=2) * 100
        a = np.outer(rng.normal(size=2), v)
        a[1, 1] += 10.0 ** rng.uniform(-14, -11) / a[0, 0]
    elif kind == 5:                                 # huge terms that cancel along a row
        a = np.array([[rng.uniform(-1, 1), 1e8], [rng.uniform(-1, 1), rng.normal()]])
        return np.array([[a[0, 0], a[0, 1], -1e8 * rng.integers(0, 16) + rng.uniform(0, 20)],
                         [a[1, 0], a[1, 1], rng.uniform(0, 16)]])
    else:
        a = rng.normal(scale=rng.choice([0.3, 1.0, 3.0]), size=(2, 2))
    offset = rng.integers(-10, 30, size=2) + rng.choice([0.0, 0.5, rng.uniform()], size=2)
    return np.concatenate([a, offset[:, None]], axis=1)


def test_kernel_visits_every_pixel_that_can_cost():
    """The kernel visits, row by row, only the candidate's span and the source box's
    preimage span of each part: on random maps and adversarial affines it must equal the
    whole-frame count, and its early exit must only ever stop above the limit."""
    from pipeline.search.inputs import part_label_bboxes
    from pipeline.search.kernel import pair_cost_kernel
    rng = np.random.default_rng(0)
    h, w = 16, 20
    checked_nonzero = 0
    for _ in range(400):
        maps = []
        for _side in range(2):
            lab = np.where(rng.uniform(size=(h, w)) < 0.5, rng.integers(1, 10, (h, w)), 0)
            bits = np.zeros((h, w), np.uint16)
            for j in range(10):                     # each part: a random rectangle
                y0, x0 = rng.integers(0, h), rng.integers(0, w)
                y1, x1 = y0 + rng.integers(0, 8), x0 + rng.integers(0, 8)
                bits[y0:y1 + 1, x0:x1 + 1] |= np.uint16(1 << j)
            lab = lab.astype(np.uint8)
            maps.append((lab, bits, part_label_bboxes(lab, bits)))
        (s_lab, s_bits, s_box), (c_lab, c_bits, c_box) = maps
        aff = np.stack([_random_affine(rng) for _ in range(10)])
        want = _whole_frame_cost(s_lab, s_bits, c_lab, c_bits, aff, 2.0)
        got = pair_cost_kernel(s_lab, s_bits, s_box, c_lab, c_bits, c_box, aff, 2.0)
        assert got == want
        checked_nonzero += want > 0
        limit = float(rng.uniform(0, want + 5))
        cut = pair_cost_kernel(s_lab, s_bits, s_box, c_lab, c_bits, c_box, aff, 2.0, limit)
        assert cut == want or limit < cut <= want
    assert checked_nonzero > 300


def test_kernel_counts_the_edge_pixels_of_two_hard_maps():
    """Found in review: a 1e8 term that cancels along the row (the sample rounds onto the
    box's edge with an error above a fixed slack), and |det| = 3.6e-12 at scale 75 (the
    preimage's rows off by more than one)."""
    from pipeline.search.inputs import part_label_bboxes
    from pipeline.search.kernel import pair_cost_kernel
    no_point = np.array([[1.0, 0.0, -1e6], [0.0, 1.0, -1e6]])
    cases = []
    h, w = 4, 20
    s_lab = np.zeros((h, w), np.uint8)
    s_bits = np.zeros((h, w), np.uint16)
    s_lab[1, 5], s_bits[1, 5] = 1, 1
    aff = np.stack([no_point] * 10)
    aff[0] = [[0.7162394190794505, 1e8, -100000005.52735187], [0.0, 1.0, 0.0]]
    cases.append((s_lab, s_bits, aff))
    h, w = 16, 20
    s_lab = np.zeros((h, w), np.uint8)
    s_bits = np.zeros((h, w), np.uint16)
    s_lab[4:6, 14:16], s_bits[4:6, 14:16] = 1, 1
    aff = np.stack([no_point] * 10)
    aff[0] = [[float.fromhex("-0x1.2edd519d16650p+6"), float.fromhex("0x1.2edd519d16651p+6"),
               float.fromhex("0x1.359d519d1664fp+9")],
              [float.fromhex("0x1.2307dcf01cb0ep+6"), float.fromhex("-0x1.2307dcf01cb0bp+6"),
               float.fromhex("-0x1.2147dcf01cb10p+9")]]
    cases.append((s_lab, s_bits, aff))
    for s_lab, s_bits, aff in cases:
        c_lab = np.zeros_like(s_lab)
        c_bits = np.zeros_like(s_bits)
        want = _whole_frame_cost(s_lab, s_bits, c_lab, c_bits, aff, 2.0)
        assert want > 0
        assert pair_cost_kernel(s_lab, s_bits, part_label_bboxes(s_lab, s_bits), c_lab, c_bits,
                                part_label_bboxes(c_lab, c_bits), aff, 2.0) == want
