"""The semantic scheme's step on CPU: plain, bf16 autocast + channels_last, no adversary,
deformable skips; the loss decreases on a fixed batch."""
from __future__ import annotations

import pytest
import torch

from pipeline.torch_utils.device import resolve_device
from pipeline.torch_utils.distributed import DistInfo
from pipeline.training.semantic.scheme import SemanticScheme
from tests.training.fakes import FakePairs, tiny_params

CPU = DistInfo(0, 1, 0, resolve_device("cpu"))


def _batch(n: int = 4) -> dict[str, torch.Tensor]:
    return torch.utils.data.default_collate([FakePairs(n)[i] for i in range(n)])


@pytest.mark.parametrize("over", [{}, {"amp": "bf16", "channels_last": True},
                                  {"adv_weight": 0.0}, {"deformable_skips": True},
                                  {"adversarial": "vanilla"}])
def test_steps_reduce_the_loss_on_a_fixed_batch(over):
    torch.manual_seed(0)
    scheme = SemanticScheme(tiny_params(lr=0.01, **over), CPU)
    batch = _batch()
    scheme.set_input(batch)
    first = scheme.optimize_parameters()
    assert all(torch.isfinite(v) for v in first.values())
    assert ("loss_d" in first) == (over.get("adv_weight", 1.0) > 0)
    for _ in range(15):
        last = scheme.optimize_parameters()
    assert last["loss_ce"] < first["loss_ce"]
    logits = scheme.predict(batch)
    assert logits.shape == (4, 10, 32, 32) and logits.dtype == torch.float32


def test_discriminator_is_frozen_during_the_generator_step():
    torch.manual_seed(0)
    scheme = SemanticScheme(tiny_params(adv_weight=1.0), CPU)
    scheme.set_input(_batch())
    d = scheme.discriminator
    before = {k: v.clone() for k, v in d.state_dict().items()}
    scheme.optimizers["discriminator"].param_groups[0]["lr"] = 0.0
    scheme.optimize_parameters()
    assert all(torch.equal(before[k], v) for k, v in d.state_dict().items())
    assert all(p.requires_grad for p in d.parameters())
