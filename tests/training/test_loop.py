"""The training loop: resume gives the uninterrupted run's weights bit for bit (CPU,
deterministic), also after a real SIGKILL; losses are logged; OOM is one line."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from pipeline.torch_utils.device import resolve_device
from pipeline.torch_utils.distributed import DistInfo
from pipeline.torch_utils.misc import set_deterministic
from pipeline.training.loop import LoopConfig, TrainingError, train
from tests.helpers import REPO
from tests.training.fakes import FakePairs, semantic_training, tiny_params

CPU = DistInfo(0, 1, 0, resolve_device("cpu"))


@pytest.fixture(autouse=True)
def _deterministic():
    torch.set_num_threads(1)
    set_deterministic(True)
    yield
    set_deterministic(False)


def _run(tmp: Path, stop_after: int | None = None, junk_seed: int | None = None, **over):
    """A fresh 'process': new scheme, sampler and loader, resuming from tmp/checkpoint.pt."""
    sp = tiny_params(**over)
    if junk_seed is not None:              # a restarted process starts from other RNG states
        torch.manual_seed(junk_seed)
    tr = semantic_training(sp, CPU, FakePairs(10))
    cfg = LoopConfig(iterations=sp.iterations, log_every=sp.log_every,
                     checkpoint_every=sp.checkpoint_every, checkpoint=tmp / "checkpoint.pt",
                     digest="run-a", progress=False, stop_after=stop_after)
    return tr, train(tr.scheme, tr.loader, tr.sampler, cfg)


def _assert_same_state(a, b) -> None:
    for net in ("generator", "discriminator"):
        sa, sb = a.networks[net].state_dict(), b.networks[net].state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), f"{net}.{k} differs"
    oa = a.optimizers["generator"].state_dict()["state"]
    ob = b.optimizers["generator"].state_dict()["state"]
    for k in oa:
        assert torch.equal(oa[k]["exp_avg"], ob[k]["exp_avg"])


def test_stopped_and_resumed_run_ends_with_identical_weights(tmp_path):
    full, r_full = _run(tmp_path / "full")
    assert r_full.finished and r_full.iteration == 8 and r_full.resumed_from == 0
    _, r_stop = _run(tmp_path / "cut", stop_after=5)
    assert not r_stop.finished and r_stop.iteration == 5
    assert (tmp_path / "cut" / "checkpoint.pt").is_file()
    resumed, r_res = _run(tmp_path / "cut", junk_seed=1234)
    assert r_res.resumed_from == 3 and r_res.finished      # the last checkpoint: iteration 3
    _assert_same_state(full.scheme, resumed.scheme)
    assert r_res.history.steps == r_full.history.steps == [2, 4, 6, 8]
    assert r_res.history.values == r_full.history.values
    assert set(r_full.history.values) == {"loss_ce", "loss_d", "loss_g", "loss_g_adv"}


def test_checkpoint_of_another_run_is_not_resumed(tmp_path):
    _run(tmp_path, stop_after=4)
    assert (tmp_path / "checkpoint.pt").is_file()
    sp = tiny_params()
    tr = semantic_training(sp, CPU, FakePairs(10))
    cfg = LoopConfig(iterations=sp.iterations, checkpoint=tmp_path / "checkpoint.pt",
                     checkpoint_every=3, digest="another-run", progress=False)
    res = train(tr.scheme, tr.loader, tr.sampler, cfg)
    assert res.resumed_from == 0 and res.finished


def test_changing_the_checkpoint_interval_changes_nothing(tmp_path):
    a, ra = _run(tmp_path / "a", checkpoint_every=3)
    b, rb = _run(tmp_path / "b", checkpoint_every=5)
    _assert_same_state(a.scheme, b.scheme)
    assert ra.history.values == rb.history.values


def test_out_of_memory_is_one_line(tmp_path, monkeypatch):
    tr, _ = _run(tmp_path / "x", stop_after=1)

    def boom():
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                           "1099511627776 bytes")
    monkeypatch.setattr(tr.scheme, "optimize_parameters", boom)
    cfg = LoopConfig(iterations=2, progress=False, hint="lower semantic.batch_size")
    with pytest.raises(TrainingError) as err:
        train(tr.scheme, tr.loader, tr.sampler, cfg)
    assert "\n" not in str(err.value) and "semantic.batch_size" in str(err.value)


_KILL_SCRIPT = """
import sys, time, torch
from pathlib import Path
from pipeline.torch_utils.device import resolve_device
from pipeline.torch_utils.distributed import DistInfo
from pipeline.torch_utils.misc import set_deterministic
from pipeline.training.loop import LoopConfig, train
from tests.training.fakes import FakePairs, semantic_training, tiny_params

torch.set_num_threads(1)
set_deterministic(True)
sp = tiny_params(iterations=10 ** 6, checkpoint_every=2)
tr = semantic_training(sp, DistInfo(0, 1, 0, resolve_device("cpu")), FakePairs(10))
cfg = LoopConfig(iterations=sp.iterations, log_every=sp.log_every, checkpoint_every=2,
                 checkpoint=Path(sys.argv[1]), digest="run-k", progress=False)
train(tr.scheme, tr.loader, tr.sampler, cfg)
"""


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    ckpt = tmp_path / "checkpoint.pt"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(ckpt)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if ckpt.is_file() and torch.load(ckpt, weights_only=True)["iteration"] >= 4:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    # the kill may land inside a checkpoint write: only its temporary (never checkpoint.pt
    # itself) can be left half-written, and checkpoint.pt still loads below
    left = [p.name for p in tmp_path.iterdir() if p.name != "checkpoint.pt"]
    assert all(n.startswith(".checkpoint.pt.") and n.endswith(".tmp") for n in left), left
    done = torch.load(ckpt, weights_only=True)["iteration"]
    n = done + 3                            # resume and run 3 more iterations than it saved
    sp = tiny_params(iterations=10 ** 6, checkpoint_every=2)
    resumed = semantic_training(sp, CPU, FakePairs(10))
    res = train(resumed.scheme, resumed.loader, resumed.sampler,
                LoopConfig(iterations=sp.iterations, log_every=sp.log_every, checkpoint_every=2,
                           checkpoint=ckpt, digest="run-k", progress=False, stop_after=n))
    assert res.resumed_from == done >= 4
    fresh = semantic_training(sp, CPU, FakePairs(10))
    train(fresh.scheme, fresh.loader, fresh.sampler,
          LoopConfig(iterations=sp.iterations, log_every=sp.log_every, progress=False,
                     stop_after=n))
    _assert_same_state(fresh.scheme, resumed.scheme)
