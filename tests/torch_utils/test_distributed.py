"""The torchrun seam: one process without a process group, and two gloo processes."""
from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from pipeline.torch_utils import distributed as D


def test_single_process_needs_no_process_group(monkeypatch, capsys):
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    info = D.init_distributed("cpu")
    assert info == D.DistInfo(0, 1, 0, torch.device("cpu"))
    assert info.is_main and not info.distributed
    assert not torch.distributed.is_initialized()
    t = torch.tensor([1, 2, 3])
    mean = D.all_reduce_mean(t)
    assert mean.dtype == torch.float32 and torch.equal(mean, t.float())
    D.barrier()
    D.print0("hello")
    assert capsys.readouterr().out == "hello\n"
    assert D.is_main() and D.get_world_size() == 1
    D.cleanup()


def test_bad_environment_is_one_line(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="WORLD_SIZE='two' is not an integer"):
        D.init_distributed("cpu")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ValueError, match="not a valid torchrun environment"):
        D.init_distributed("cpu")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, out: dict) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    info = D.init_distributed("cpu")
    try:
        mean = D.all_reduce_mean(torch.tensor([float(rank), 10.0 * rank]))
        D.barrier()
        token = D.broadcast_object(f"run-{rank}")
        out[rank] = (info.rank, info.world_size, D.is_main(), mean.tolist(), token,
                     torch.distributed.get_backend())
    finally:
        D.cleanup()


@pytest.mark.ddp
def test_two_gloo_processes_reduce_and_broadcast():
    with mp.Manager() as manager:
        out = manager.dict()
        mp.start_processes(_worker, args=(_free_port(), out), nprocs=2, join=True,
                           start_method="spawn")
        got = dict(out)
    assert got[0] == (0, 2, True, [0.5, 5.0], "run-0", "gloo")
    assert got[1] == (1, 2, False, [0.5, 5.0], "run-0", "gloo")
