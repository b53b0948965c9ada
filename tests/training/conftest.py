"""Training fixtures on top of the session's tiny project (tests/conftest.py)."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: tiny tensors gain nothing from two, and a busy 2-core machine
    makes a second thread's wake-ups cost more than the work (seen: 10x slower steps)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
