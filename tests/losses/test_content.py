"""Content loss: MSE of features, tensors or dicts of layers."""
from __future__ import annotations

import pytest
import torch

from pipeline.losses.content import content_loss


def test_tensor_mse_hand_computed():
    a = torch.zeros(1, 2, 1, 2)
    b = torch.tensor([[[[1.0, 3.0]], [[0.0, -2.0]]]])
    assert content_loss(a, b).item() == pytest.approx((1 + 9 + 0 + 4) / 4)
    assert content_loss(b, b).item() == 0.0


def test_dict_mean_over_layers_and_gradient():
    a = {"relu1_2": torch.zeros(1, 1, 2, 2, requires_grad=True),
         "relu2_1": torch.zeros(1, 1, 1, 1, requires_grad=True)}
    b = {"relu1_2": torch.ones(1, 1, 2, 2), "relu2_1": torch.full((1, 1, 1, 1), 3.0)}
    loss = content_loss(a, b)
    assert loss.item() == pytest.approx((1.0 + 9.0) / 2)
    loss.backward()
    assert a["relu2_1"].grad.item() == pytest.approx(-3.0)   # d/da (a-3)^2 / 2 layers


def test_mismatches_are_refused():
    with pytest.raises(ValueError, match="same non-empty layers"):
        content_loss({"a": torch.zeros(1)}, {"b": torch.zeros(1)})
    with pytest.raises(ValueError, match="shapes differ"):
        content_loss(torch.zeros(1, 2, 3, 3), torch.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match="two tensors or two dicts"):
        content_loss(torch.zeros(1), {"a": torch.zeros(1)})
