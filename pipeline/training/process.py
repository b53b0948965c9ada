"""What every training run does around its scheme: process setup, run identity, loader, work
folder and summary fields (used by the template :mod:`pipeline.training.stage`).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import torch
from torch.utils.data import DataLoader, Dataset

from pipeline.artifacts.code_digest import source_digest
from pipeline.artifacts.paths import Paths
from pipeline.torch_utils.distributed import DistInfo, cleanup, init_distributed
from pipeline.torch_utils.misc import ResumableSampler, set_deterministic, worker_init_fn
from pipeline.training.loop import LoopResult, TrainingError

#: Code whose change makes a checkpoint stale (besides params and inputs): the packages (and
#: modules) a training step runs.
CODE_PACKAGES: tuple[str, ...] = ("models", "losses", "training", "inference",
                                  "appearance_schemes", "datasets", "torch_utils", "geometry")


class LoaderSettings(Protocol):
    """The fields of a training section that shape its loader."""

    batch_size: int
    workers: int
    seed: int


@contextmanager
def training_process(device: str, threads: int) -> Iterator[DistInfo]:
    """Set up this process for a training stage and undo it afterwards.

    Sets the intra-op thread count, joins the torchrun process group (when there is one),
    uses deterministic kernels on CPU (bit-reproducible runs per torch build and thread count)
    and does not NaN-fill new tensors (a debugging aid that costs bandwidth; no op of these
    networks reads uninitialised memory, which the bit-reproducibility tests guard).
    """
    torch.set_num_threads(threads)
    dist = init_distributed(device)
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    set_deterministic(dist.device.type == "cpu")
    fill = torch.utils.deterministic.fill_uninitialized_memory
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield dist
    finally:
        torch.utils.deterministic.fill_uninitialized_memory = fill
        set_deterministic(was_deterministic)
        cleanup()


def run_digest(sections: dict[str, Any], files: Sequence[Path],
               code: Sequence[str] = CODE_PACKAGES) -> str:
    """sha256 of the result-shaping params (``sections``: JSON-able), the bytes of ``files``
    (input artifacts, model files) and the training code: the identity of a run, so that a
    checkpoint of anything else is never resumed."""
    h = hashlib.sha256()
    h.update(json.dumps(sections, sort_keys=True).encode())
    for path in files:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    h.update(source_digest(*code).encode())
    return h.hexdigest()


def work_dir(paths: Paths, stage: str, digest: str) -> Path:
    """data/cache/<stage>/<digest[:16]>: checkpoint and grids of the run in progress."""
    return paths.cache / stage / digest[:16]


def remove_work_dir(wdir: Path) -> None:
    """Delete a finished run's work folder (and its stage folder when empty)."""
    shutil.rmtree(wdir, ignore_errors=True)
    try:
        wdir.parent.rmdir()
    except OSError:
        pass


def build_loader(dataset: Dataset, section: LoaderSettings, dist: DistInfo, name: str,
                 what: str = "training pairs") -> tuple[ResumableSampler, DataLoader]:
    """Resumable sampler (items keyed ``(index, epoch)``) and DataLoader of a run over
    ``dataset``; ``section.batch_size`` is the global batch, split evenly over the processes.
    name: the params section (for error messages)."""
    if section.batch_size % dist.world_size:
        raise TrainingError(f"{name}.batch_size = {section.batch_size} cannot be split over "
                            f"{dist.world_size} processes: use a multiple of {dist.world_size}")
    per_rank = section.batch_size // dist.world_size
    try:
        sampler = ResumableSampler(len(dataset), per_rank, seed=section.seed, rank=dist.rank,
                                   world_size=dist.world_size, shuffle=True, drop_last=True,
                                   with_epoch=True)
    except ValueError as err:
        raise TrainingError(f"{len(dataset)} {what}: {err} ({name}.batch_size)") from None
    loader = DataLoader(dataset, batch_size=per_rank, sampler=sampler,
                        num_workers=section.workers, pin_memory=dist.device.type == "cuda",
                        persistent_workers=section.workers > 0, worker_init_fn=worker_init_fn,
                        generator=torch.Generator().manual_seed(section.seed))
    return sampler, loader


def summary_base(stage: str, dist: DistInfo, n_train: int, result: LoopResult) -> dict:
    """The summary fields every training stage reports."""
    return {"stage": stage, "training_items": n_train, "iterations": result.iteration,
            "finished": result.finished, "resumed_from": result.resumed_from,
            "processes": dist.world_size, "device": str(dist.device),
            "data_wait_share": round(result.data_seconds / max(result.step_seconds, 1e-9), 4),
            "iterations_per_second": round(result.steps_timed / max(result.step_seconds, 1e-9),
                                           2)}
