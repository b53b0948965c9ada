"""Seeding, determinism, shape assertions at module boundaries, and the resumable sampler."""
from __future__ import annotations

import os
import random
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Sampler

#: cuBLAS needs this workspace setting for deterministic results on CUDA >= 10.2
#: [PyTorch docs, "Reproducibility"].
CUBLAS_WORKSPACE = ":4096:8"


def derive_seed(*keys: int) -> int:
    """A 63-bit seed derived from integer keys (NumPy SeedSequence: independent streams)."""
    state = np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def seed_everything(seed: int, rank: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) for process ``rank``.

    Each rank gets its own stream (seed derived from ``(seed, rank)``), so ranks draw different
    noise while the run stays reproducible. Returns a CPU ``torch.Generator`` seeded the same
    way, for explicit use (e.g. a DataLoader's ``generator``).
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    s = derive_seed(seed, rank)
    random.seed(s)
    np.random.seed(s % (1 << 32))
    torch.manual_seed(s)   # also seeds every CUDA device
    gen = torch.Generator()
    gen.manual_seed(s)
    return gen


def worker_init_fn(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: seed Python and NumPy in a worker from torch's per-worker
    seed (torch seeds only itself in workers), so NumPy draws differ between workers and are
    reproducible for a seeded DataLoader generator."""
    s = torch.initial_seed()
    random.seed(s)
    np.random.seed(derive_seed(s, worker_id) % (1 << 32))


def set_deterministic(flag: bool) -> None:
    """Deterministic kernels on (True) or off (False).

    True: ``torch.use_deterministic_algorithms(True)`` (an op without a deterministic kernel
    raises), cuDNN deterministic, cuDNN benchmark off, and ``CUBLAS_WORKSPACE_CONFIG`` set when
    unset (it must be set before the first cuBLAS call). False: the defaults, with cuDNN
    benchmark on (fastest convolution algorithms).
    """
    if flag:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    torch.use_deterministic_algorithms(bool(flag))
    torch.backends.cudnn.deterministic = bool(flag)
    torch.backends.cudnn.benchmark = not flag


def assert_shape(t: torch.Tensor, shape: Sequence[int | None], name: str,
                 dtype: torch.dtype | None = None) -> None:
    """Raise ValueError naming ``name`` unless ``t`` has ``shape`` (None = any size there)
    and, when given, ``dtype``. Example: ``assert_shape(x, (None, 3, H, W), "image")``."""
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{name}: expected a tensor, got {type(t).__name__}")
    ok = t.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, t.shape))
    if not ok:
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(t.shape)}")
    if dtype is not None and t.dtype != dtype:
        raise ValueError(f"{name}: expected dtype {dtype}, got {t.dtype}")


class ResumableSampler(Sampler):
    """An infinite, epoch-reshuffled sampler split across ranks, that resumes exactly.

    Epoch ``e`` is a permutation of ``range(num_items)`` drawn from ``(seed, e)`` (the identity
    order when ``shuffle`` is False). Rank ``r`` of ``world_size`` takes positions
    ``r, r + world_size, ...`` of it, so the ranks see disjoint items. Each rank's epoch has
    :attr:`items_per_epoch` items, a multiple of ``batch_size`` so that batches never straddle
    two epochs: with ``drop_last`` the tail is dropped (every rank gets
    ``floor(num_items / world_size / batch_size) * batch_size`` items), otherwise the permutation
    is padded by wrapping around (DistributedSampler style) until every rank has
    ``ceil(num_items / world_size / batch_size) * batch_size`` items.

    Resume. The sampler's *cursor* ``(epoch, position)`` counts the items the training has
    consumed; only :meth:`advance` moves it (call it after each optimiser step), never the
    iteration, because a DataLoader prefetches ahead of the loop. Every new iterator starts
    at the cursor, so ``load_state_dict(state)`` followed by a fresh ``iter(loader)`` yields
    exactly the sequence an uninterrupted run would have yielded from that point.

    with_epoch: yield ``(index, epoch)`` pairs instead of ints, so a dataset whose augmentation
    depends on the epoch (e.g. flips) gets it in every DataLoader worker.
    """

    def __init__(self, num_items: int, batch_size: int = 1, seed: int = 0, rank: int = 0,
                 world_size: int = 1, shuffle: bool = True, drop_last: bool = True,
                 with_epoch: bool = False) -> None:
        if num_items < 1:
            raise ValueError(f"num_items must be >= 1, got {num_items}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} / world_size {world_size}: need 0 <= rank < "
                             f"world_size")
        self.num_items, self.batch_size, self.seed = int(num_items), int(batch_size), int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.shuffle, self.drop_last, self.with_epoch = bool(shuffle), bool(drop_last), with_epoch
        per_rank = self.num_items / self.world_size / self.batch_size
        batches = int(np.floor(per_rank)) if self.drop_last else int(np.ceil(per_rank))
        if batches < 1:
            raise ValueError(f"{self.num_items} items cannot fill one batch of {self.batch_size} "
                             f"on each of {self.world_size} processes with drop_last; lower the "
                             f"batch size or the process count")
        self.items_per_epoch = batches * self.batch_size
        self.epoch = 0
        self.position = 0

    @property
    def batches_per_epoch(self) -> int:
        return self.items_per_epoch // self.batch_size

    def epoch_indices(self, epoch: int) -> np.ndarray:
        """This rank's ``(items_per_epoch,)`` int64 item indices of ``epoch``, in order."""
        if self.shuffle:
            order = np.random.default_rng([self.seed, int(epoch)]).permutation(self.num_items)
        else:
            order = np.arange(self.num_items)
        total = self.items_per_epoch * self.world_size
        if total > len(order):
            order = np.resize(order, total)       # wrap around (drop_last=False padding)
        return order[:total][self.rank::self.world_size].astype(np.int64)

    def __iter__(self) -> Iterator[Any]:
        epoch, position = self.epoch, self.position
        while True:
            indices = self.epoch_indices(epoch)
            for i in range(position, len(indices)):
                yield (int(indices[i]), epoch) if self.with_epoch else int(indices[i])
            epoch, position = epoch + 1, 0

    def advance(self, batches: int = 1) -> None:
        """Move the cursor over ``batches`` consumed batches of ``batch_size`` items."""
        if batches < 0:
            raise ValueError(f"cannot advance by {batches} batches")
        total = self.epoch * self.items_per_epoch + self.position + batches * self.batch_size
        self.epoch, self.position = divmod(total, self.items_per_epoch)

    def state_dict(self) -> dict[str, int]:
        """The cursor plus what it depends on: ``epoch``, ``position``, ``seed``, ``num_items``,
        ``batch_size``, ``world_size`` (plain ints, checkpoint-safe)."""
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed,
                "num_items": self.num_items, "batch_size": self.batch_size,
                "world_size": self.world_size}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Restore the cursor; refuses a state from a different sampler setting (other data,
        batch size, seed or process count would not continue the same sequence)."""
        for key in ("seed", "num_items", "batch_size", "world_size"):
            if key in state and int(state[key]) != getattr(self, key):
                raise ValueError(f"sampler state has {key}={state[key]} but this run has "
                                 f"{getattr(self, key)}; resume with the same setting or start "
                                 f"a new run")
        epoch, position = int(state["epoch"]), int(state["position"])
        if epoch < 0 or not 0 <= position < self.items_per_epoch:
            raise ValueError(f"sampler state epoch={epoch} position={position} is out of range")
        self.epoch, self.position = epoch, position
