"""The torch implementation of the exact search: bit for bit the numba kernel's costs, on CPU
and (where there is one) on CUDA, chunked, and through the block runner."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.config.search import SearchParams
from pipeline.search import fast, torch_kernel, torch_search
from pipeline.search.blocks import cache_key, run_search
from pipeline.search.torch_kernel import DeviceInputs


def _bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, np.float64).view(np.int64)


@pytest.mark.parametrize("mismatch_cost,min_dist", [(2.0, 0.2), (1.0, 0.0), (0.3, 0.5)])
def test_torch_cpu_equals_numba_bit_for_bit(realistic_inputs, mismatch_cost, min_dist):
    """Every source of the hard cases (missing keypoints, mirrored limbs, zero-length and
    collinear parts, missing heads): same candidates, same float64 costs bit for bit."""
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    dev = torch_search.device_inputs(inputs, "cpu")
    pairs = 0
    for s in pool:
        c_fast, k_fast = fast.search_source(int(s), inputs, pool, min_dist, None, mismatch_cost)
        c_t, k_t = torch_search.search_source(int(s), inputs, dev, pool, min_dist, None,
                                              mismatch_cost)
        np.testing.assert_array_equal(c_t, c_fast)
        np.testing.assert_array_equal(_bits(k_t), _bits(k_fast))
        np.testing.assert_array_equal(fast.top_k(c_t, k_t, 4)[0],
                                      fast.search_source_top_k(int(s), inputs, pool, min_dist,
                                                               None, mismatch_cost, 4)[0])
        pairs += c_fast.size
    assert pairs > 500


def test_torch_chunks_do_not_change_costs(realistic_inputs, monkeypatch):
    """Chunk boundaries anywhere (3 candidates per chunk) give the same costs as one chunk."""
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    dev = torch_search.device_inputs(inputs, "cpu")
    h, w = inputs.shape
    s = int(pool[0])
    whole = torch_search.search_source(s, inputs, dev, pool, 0.0, None, 2.0)[1]
    assert torch_kernel.chunk_size(torch.device("cpu"), h, w) >= pool.size
    monkeypatch.setitem(torch_kernel.CHUNK_PIXELS, "cpu", 3 * h * w)
    assert torch_kernel.chunk_size(torch.device("cpu"), h, w) == 3
    chunked = torch_search.search_source(s, inputs, dev, pool, 0.0, None, 2.0)[1]
    np.testing.assert_array_equal(_bits(chunked), _bits(whole))


def test_torch_self_cost_is_zero(realistic_inputs):
    inputs, _ = realistic_inputs
    dev = torch_search.device_inputs(inputs, "cpu")
    pool = np.flatnonzero(inputs.torso_ok)[:8]
    for s in pool:
        cost = torch_search.candidate_costs(int(s), inputs, dev, np.array([s]), 2.0)
        assert cost.tolist() == [0.0]


def _opts(**kw) -> SearchParams:
    base = dict(top_k=3, min_pose_distance=0.2, block_size=8, workers=1, backend="threading")
    base.update(kw)
    return SearchParams(**base)


def test_torch_through_the_block_runner(realistic_inputs, tmp_path: Path):
    """Same argmin, top-k (cost, then lower index) and counts as the numba path."""
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    fst = run_search(inputs, pool, pool, None, _opts(), tmp_path / "f", progress=False)
    tch = run_search(inputs, pool, pool, None, _opts(implementation="torch", device="cpu"),
                     tmp_path / "t", progress=False)
    for field in ("target", "cost", "topk_index", "topk_cost", "num_admissible"):
        np.testing.assert_array_equal(getattr(tch, field), getattr(fst, field))


def test_device_is_an_execution_key(realistic_inputs):
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    key = cache_key(inputs, pool, None, _opts(implementation="torch", device="cpu"))
    assert cache_key(inputs, pool, None, _opts(implementation="torch", device="cuda")) == key
    assert cache_key(inputs, pool, None, _opts(implementation="fast")) != key
    with pytest.raises(ValueError, match="device"):
        SearchParams(device="gpu")


def test_cuda_unavailable_is_refused_with_a_clear_error(realistic_inputs):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    inputs, _ = realistic_inputs
    with pytest.raises(ValueError, match="CUDA is not available"):
        torch_search.device_inputs(inputs, "cuda")
    assert torch_search.device_inputs(inputs, "auto").device.type == "cpu"


@pytest.mark.gpu
def test_torch_cuda_equals_numba_bit_for_bit(realistic_inputs):
    """float64 on the GPU: the same costs, bit for bit, as the numba kernel (and torch CPU)."""
    inputs, _ = realistic_inputs
    pool = np.flatnonzero(inputs.torso_ok)
    dev = DeviceInputs.from_inputs(inputs, torch.device("cuda"))
    for s in pool:
        c_fast, k_fast = fast.search_source(int(s), inputs, pool, 0.0, None, 2.0)
        c_t, k_t = torch_search.search_source(int(s), inputs, dev, pool, 0.0, None, 2.0)
        np.testing.assert_array_equal(c_t, c_fast)
        np.testing.assert_array_equal(_bits(k_t), _bits(k_fast))
