"""Two processes under torchrun (gloo on CPU): both ranks end with identical weights.

torchrun runs with the static rendezvous on 127.0.0.1: ``--standalone`` advertises the machine's
hostname to the workers, which hangs where the hostname does not resolve (as on CI machines).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest
import torch

from pipeline.torch_utils.device import resolve_device
from pipeline.torch_utils.distributed import DistInfo
from tests.helpers import REPO
from tests.training.fakes import FakePairs, semantic_training, tiny_params


def _torchrun(module: str, *args: str) -> subprocess.CompletedProcess:
    """``module`` in 2 gloo processes under torchrun (static rendezvous on 127.0.0.1)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node",
           "2", "--master-addr", "127.0.0.1", "--master-port", str(port), "-m", module, *args]
    # a session of its own: on a timeout the whole group (torchrun and its workers) is killed
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"torchrun did not finish in 180 s; stdout/stderr tails: "
                    f"{out[-2000:]!r} {err[-2000:]!r}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.mark.ddp
def test_two_gloo_processes_end_with_identical_weights(tmp_path):
    proc = _torchrun("tests.training.ddp_worker", str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
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
def test_appearance_cycle_under_ddp(project, tmp_path):
    """The e2e scheme in 2 processes: G_A runs twice per step (the cycle) and G_S joins in the
    joint phase; both ranks end with identical weights of every trained network."""
    paths = project("ddp")
    out = tmp_path / "out"
    out.mkdir()
    proc = _torchrun("tests.training.ddp_appearance_worker", str(paths.root), str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r0 = torch.load(out / "rank0.pt", weights_only=True)
    r1 = torch.load(out / "rank1.pt", weights_only=True)
    assert set(r0) >= {"generator", "discriminator", "face_discriminator", "semantic_generator"}
    for net, state in r0.items():
        if net == "history":          # the joint-phase loss is NaN (not yet measured) at first
            assert json.dumps(state) == json.dumps(r1[net]) and "loss_semantic_ce" in state
            continue
        for k, v in state.items():
            assert torch.equal(v, r1[net][k]), f"{net}.{k} differs between ranks"
