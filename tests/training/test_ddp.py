"""Two processes (gloo on CPU): both ranks end with identical weights.

The two ranks are started directly with the environment torchrun gives its workers (RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT), which is all that
:func:`pipeline.torch_utils.distributed.init_distributed` reads. torchrun's elastic agent is not
in the loop: it looks up the machine's fully qualified hostname, which can block for minutes
where the hostname does not resolve (as on CI machines), and it starts its workers in sessions of
their own, out of reach of a timeout that kills the agent.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import torch

from pipeline.torch_utils.device import resolve_device
from pipeline.torch_utils.distributed import DistInfo
from tests.helpers import REPO
from tests.training.fakes import FakePairs, semantic_training, tiny_params

TIMEOUT_S = 180


def _two_ranks(module: str, *args: str) -> list[subprocess.CompletedProcess]:
    """``python -m module *args`` as ranks 0 and 1 of a gloo group on 127.0.0.1.

    Each rank runs in a session of its own and writes to a log file (a pipe that nobody
    drains could block a rank and, through the collectives, the other). On a timeout both are
    killed with their children and the test fails with their log tails (it never waits on a
    stuck rank).
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as logs:
        paths = [Path(logs) / f"rank{rank}.log" for rank in (0, 1)]
        procs = []
        for rank, path in enumerate(paths):
            env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", RANK=str(rank),
                       LOCAL_RANK=str(rank), WORLD_SIZE="2", LOCAL_WORLD_SIZE="2",
                       MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
            with open(path, "w") as log:
                procs.append(subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO,
                                              env=env, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        deadline = time.monotonic() + TIMEOUT_S
        stuck = None
        try:
            for rank, proc in enumerate(procs):
                try:
                    proc.wait(timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    stuck = rank
                    break
        finally:
            for proc in procs:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        outs = [path.read_text(errors="replace") for path in paths]
    if stuck is not None:
        pytest.fail(f"rank {stuck} did not finish in {TIMEOUT_S} s; output tails: "
                    + " | ".join(f"rank {r}: {t[-1500:]!r}" for r, t in enumerate(outs)))
    return [subprocess.CompletedProcess(p.args, p.returncode, o, "") for p, o in zip(procs, outs)]


def _assert_ok(ranks: list[subprocess.CompletedProcess]) -> None:
    for rank, proc in enumerate(ranks):
        assert proc.returncode == 0, f"rank {rank}: {proc.stdout[-3000:]}"


@pytest.mark.ddp
def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    _assert_ok(_two_ranks("tests.training.ddp_worker", str(tmp_path)))
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert r0["world"] == r1["world"] == 2
    for net in ("generator", "discriminator"):
        for k, v in r0[net].items():
            assert torch.equal(v, r1[net][k]), f"{net}.{k} differs between ranks"
    # the ranks drew disjoint items, and the weights moved away from their initial values
    assert not set(r0["items"][:6]) & set(r1["items"][:6])
    init = semantic_training(tiny_params(), DistInfo(0, 1, 0, resolve_device("cpu")),
                          FakePairs(12)).scheme.generator.state_dict()
    assert any(not torch.equal(v, init[k]) for k, v in r0["generator"].items())
    assert r0["history"] == r1["history"]                  # losses averaged over the ranks
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "rank0.pt",
                                                          "rank1.pt"]


@pytest.mark.ddp
def test_learning_curves_under_ddp_score_on_rank_0_and_change_no_weight(tmp_path):
    """Rank 0 scores (step 0, every 3 steps, the last), rank 1 waits at the barrier; the
    weights of both ranks are those of the same run without curves."""
    off, on = tmp_path / "off", tmp_path / "on"
    off.mkdir(), on.mkdir()
    _assert_ok(_two_ranks("tests.training.ddp_worker", str(off)))
    _assert_ok(_two_ranks("tests.training.ddp_worker", str(on), "curves"))
    runs = [torch.load(d / f"rank{r}.pt", weights_only=True) for d in (off, on) for r in (0, 1)]
    for run in runs[1:]:
        for net in ("generator", "discriminator"):
            for k, v in runs[0][net].items():
                assert torch.equal(v, run[net][k]), f"{net}.{k} differs"
    assert runs[2]["curves"]["steps"] == [0, 3, 6]
    assert runs[3]["curves"]["steps"] == [] and runs[0]["curves"] is None
    assert set(runs[2]["curves"]["values"]) == {"model/miou", "source_map/miou",
                                                "part_warp/miou"}


@pytest.mark.ddp
def test_appearance_cycle_under_ddp(project, tmp_path):
    """The e2e scheme in 2 processes: G_A runs twice per step (the cycle) and G_S joins in the
    joint phase; both ranks end with identical weights of every trained network."""
    paths = project("ddp")
    out = tmp_path / "out"
    out.mkdir()
    _assert_ok(_two_ranks("tests.training.ddp_appearance_worker", str(paths.root), str(out)))
    r0 = torch.load(out / "rank0.pt", weights_only=True)
    r1 = torch.load(out / "rank1.pt", weights_only=True)
    assert set(r0) >= {"generator", "discriminator", "face_discriminator", "semantic_generator"}
    for net, state in r0.items():
        if net == "history":          # the joint-phase loss is NaN (not yet measured) at first
            assert json.dumps(state) == json.dumps(r1[net]) and "loss_semantic_ce" in state
            continue
        for k, v in state.items():
            assert torch.equal(v, r1[net][k]), f"{net}.{k} differs between ranks"
