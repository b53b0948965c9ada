"""Checkpoints: atomic, safe to load (a crafted pickle never runs), exact."""
from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

from pipeline.models.semantic import SemanticArch, SemanticGenerator
from pipeline.training.checkpoint import (CheckpointError, load_checkpoint, rng_state,
                                          save_checkpoint, set_rng_state)

ARCH = SemanticArch(height=32, width=32, channels=4, depth=2, max_channels=8, disc_layers=2)


class _Exploit:
    """Unpickling this calls os.system (what a malicious checkpoint would do)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_round_trip_and_rng_states(tmp_path):
    torch.manual_seed(3)
    np.random.seed(4)
    random.seed(5)
    net = SemanticGenerator(ARCH)
    opt = torch.optim.Adam(net.parameters())
    state = {"model": net.state_dict(), "opt": opt.state_dict(), "iteration": 7,
             "history": {"steps": [1, 2], "values": {"loss": [0.5, 0.25]}}, "rng": rng_state()}
    path = tmp_path / "ckpt" / "checkpoint.pt"
    save_checkpoint(path, state)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    loaded = load_checkpoint(path)
    set_rng_state(loaded["rng"])
    assert torch.equal(torch.rand(3), expected[0])
    np.testing.assert_array_equal(np.random.rand(3), expected[1])
    assert random.random() == expected[2]
    assert loaded["iteration"] == 7 and loaded["history"]["values"]["loss"] == [0.5, 0.25]
    for k, v in net.state_dict().items():
        assert torch.equal(loaded["model"][k], v)
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.pt"]   # no temporaries


def test_crafted_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "payload": _Exploit(str(marker))}, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    msg = str(err.value)
    assert "\n" not in msg and "refused" in msg and str(path) in msg
    assert not marker.exists()
    # the same file through plain pickle semantics WOULD run the command: the test can fail
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_missing_corrupt_or_foreign_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "none.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(bad)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="format"):
        load_checkpoint(other)
