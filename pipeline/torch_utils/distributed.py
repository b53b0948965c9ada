"""One process or many: the torchrun environment, the process group and a few collectives.

The same script runs as ``python -m stages.X`` (one process) or under ``torchrun
--nproc_per_node N -m stages.X``; torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT``. With world size 1 no process group is created and every
helper here is a cheap no-op, so single-process code needs no special case.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from pipeline.torch_utils.device import resolve_device


@dataclass(frozen=True)
class DistInfo:
    """rank: global process index; world_size: number of processes; local_rank: index on this
    node (its GPU); device: the device this process computes on."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _env_int(key: str, default: int) -> int:
    value = os.environ.get(key, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {key}={value!r} is not an integer "
                         f"(set by torchrun)") from None


def init_distributed(device_name: str) -> DistInfo:
    """Read torchrun's environment and join the process group when there are several processes.

    device_name: params ``device`` ("auto" | "cpu" | "cuda"), resolved per process with its
    LOCAL_RANK (see :func:`resolve_device`). Backend: NCCL on CUDA, gloo on CPU. Idempotent: a
    second call in a process that already joined returns the same information.
    """
    rank = _env_int("RANK", 0)
    world_size = _env_int("WORLD_SIZE", 1)
    local_rank = _env_int("LOCAL_RANK", 0)
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"RANK={rank} / WORLD_SIZE={world_size}: not a valid torchrun "
                         f"environment")
    device = resolve_device(device_name, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world_size > 1 and not (dist.is_available() and dist.is_initialized()):
        if not dist.is_available():
            raise RuntimeError("torch.distributed is not available in this torch build; "
                               "run one process")
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size,
                                device_id=device if device.type == "cuda" else None)
    return DistInfo(rank, world_size, local_rank, device)


def _active() -> bool:
    return dist.is_available() and dist.is_initialized()


def get_rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if _active() else 0


def get_world_size() -> int:
    """Number of processes (1 without a process group)."""
    return dist.get_world_size() if _active() else 1


def is_main() -> bool:
    """True on rank 0, the only process that writes logs, pictures and checkpoints."""
    return get_rank() == 0


def print0(*args: object, **kwargs: object) -> None:
    """print() on rank 0 only."""
    if is_main():
        print(*args, **kwargs)  # type: ignore[arg-type]


def barrier() -> None:
    """Wait for every process (no-op in one process)."""
    if _active():
        dist.barrier()


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """Mean of ``tensor`` over processes, returned as a new tensor (the input is untouched).

    Any shape; integer tensors are averaged in float32. One process: a detached copy.
    """
    out = tensor.detach().clone()
    if not out.is_floating_point():
        out = out.float()
    if _active() and get_world_size() > 1:
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        out /= get_world_size()
    return out


def broadcast_object(obj: object, src: int = 0) -> object:
    """Rank ``src``'s picklable ``obj`` on every process (e.g. a run id); itself in one process."""
    if not _active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def cleanup() -> None:
    """Leave the process group (no-op when none was joined)."""
    if _active():
        dist.destroy_process_group()
