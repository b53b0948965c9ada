"""Seeding, determinism, shape assertions and the resumable sampler."""
from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from pipeline.torch_utils.misc import (ResumableSampler, assert_shape, seed_everything,
                                       set_deterministic)


def _draws() -> tuple:
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_seed_everything_is_reproducible_and_differs_per_rank():
    g1 = seed_everything(3)
    a = _draws() + (float(torch.rand((), generator=g1)),)
    g2 = seed_everything(3)
    b = _draws() + (float(torch.rand((), generator=g2)),)
    assert a == b
    seed_everything(3, rank=1)
    c = _draws()
    assert all(x != y for x, y in zip(a, c))


def test_set_deterministic_toggles_torch_and_cudnn():
    try:
        set_deterministic(True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    finally:
        set_deterministic(False)
    assert not torch.are_deterministic_algorithms_enabled()
    assert not torch.backends.cudnn.deterministic


def test_assert_shape_names_the_tensor():
    x = torch.zeros(2, 3, 8, 8)
    assert_shape(x, (None, 3, 8, 8), "image")
    with pytest.raises(ValueError, match=r"image: expected shape \(\*, 3, 4, 8\), got "
                                         r"\(2, 3, 8, 8\)"):
        assert_shape(x, (None, 3, 4, 8), "image")
    with pytest.raises(ValueError, match="heatmaps: expected shape"):
        assert_shape(x, (2, 3, 8), "heatmaps")
    with pytest.raises(ValueError, match="labels: expected dtype torch.int64"):
        assert_shape(x, (2, 3, 8, 8), "labels", dtype=torch.int64)


def _take(sampler: ResumableSampler, n: int) -> list:
    return list(itertools.islice(iter(sampler), n))


def test_sampler_splits_ranks_and_reshuffles_epochs():
    n, bs, ws = 23, 2, 3
    samplers = [ResumableSampler(n, bs, seed=5, rank=r, world_size=ws) for r in range(ws)]
    per = samplers[0].items_per_epoch
    assert per == 6 and samplers[0].batches_per_epoch == 3      # floor(23 / 3 / 2) * 2
    epochs = [[_take(s, 2 * per)[e * per:(e + 1) * per] for s in samplers] for e in range(2)]
    for ranks in epochs:
        flat = sum(ranks, [])
        assert len(set(flat)) == len(flat) == per * ws            # disjoint across ranks
        assert set(flat) <= set(range(n))
    assert epochs[0] != epochs[1]                                 # reshuffled per epoch
    again = ResumableSampler(n, bs, seed=5, rank=1, world_size=ws)
    assert _take(again, 2 * per) == epochs[0][1] + epochs[1][1]   # seeded
    assert _take(ResumableSampler(n, bs, seed=6, rank=1, world_size=ws), per) != epochs[0][1]
    ordered = ResumableSampler(n, bs, rank=1, world_size=ws, shuffle=False)
    assert _take(ordered, per) == list(range(1, 3 * per, 3))


def test_sampler_without_drop_last_pads_by_wrapping():
    s = [ResumableSampler(10, 4, seed=1, rank=r, world_size=2, drop_last=False)
         for r in range(2)]
    assert s[0].items_per_epoch == 8                              # ceil(10 / 2 / 4) * 4
    flat = _take(s[0], 8) + _take(s[1], 8)
    assert set(flat) == set(range(10)) and len(flat) == 16
    with pytest.raises(ValueError, match="cannot fill one batch"):
        ResumableSampler(5, 4, world_size=2)


class _Ids(Dataset):
    def __len__(self) -> int:
        return 17

    def __getitem__(self, key):
        i, epoch = key
        return torch.tensor([i, epoch])


def test_resumed_sampler_yields_exactly_the_remaining_sequence():
    """Kill after 7 steps (a DataLoader with 2 workers has prefetched ahead), save the state,
    resume in a fresh sampler and loader: the rest equals the uninterrupted run's rest."""
    def loader(s: ResumableSampler) -> DataLoader:
        return DataLoader(_Ids(), batch_size=3, sampler=s, num_workers=2)

    make = lambda: ResumableSampler(17, 3, seed=2, with_epoch=True)  # noqa: E731
    full_sampler = make()
    full = [b.tolist() for b in itertools.islice(loader(full_sampler), 12)]
    assert {b[0][1] for b in full} == {0, 1, 2}                     # crosses epochs (5 per epoch)

    first = make()
    it = iter(loader(first))
    for _ in range(7):
        next(it)
        first.advance()
    state = first.state_dict()
    del it
    assert (state["epoch"], state["position"]) == (1, 6)          # 7 batches of 3, 15 per epoch
    resumed = make()
    resumed.load_state_dict(state)
    rest = [b.tolist() for b in itertools.islice(loader(resumed), 5)]
    assert rest == full[7:]
    with pytest.raises(ValueError, match="batch_size=3 but this run has 4"):
        ResumableSampler(17, 4, seed=2).load_state_dict(state)
