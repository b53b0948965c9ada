"""The pose-detector scheme: its weighted heatmap loss (values by hand), a step, profiles."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pipeline.config.posenet import PosenetParams
from pipeline.torch_utils.distributed import DistInfo
from pipeline.profiles import PROFILES
from pipeline.training.posenet.scheme import PosenetScheme, arch_of, heatmap_loss


def test_heatmap_loss_by_hand():
    target = torch.zeros(1, 18, 2, 2)
    target[0, 0, 0, 0] = 0.5
    pred = torch.zeros(1, 18, 2, 2)
    pred[0, 0, 0, 0] = 1.0                    # error 0.5 on a pixel of target 0.5: weight 26
    pred[0, 1, 1, 1] = 2.0                    # error 2 on background: weight 1
    n = 18 * 4
    assert heatmap_loss(pred, target, 50.0).item() == pytest.approx((26 * 0.25 + 4) / n)
    assert heatmap_loss(pred, target, 0.0).item() == pytest.approx(F.mse_loss(pred, target).item())


def test_a_step_returns_the_loss_and_predict_gives_heatmaps():
    params = PosenetParams(height=16, width=16, channels=2, blocks=1, device="cpu")
    scheme = PosenetScheme(params, DistInfo(0, 1, 0, torch.device("cpu")))
    batch = {"image": torch.rand(2, 3, 16, 16) * 2 - 1, "heatmaps": torch.rand(2, 18, 16, 16)}
    before = [p.clone() for p in scheme.posenet.parameters()]
    scheme.set_input(batch)
    losses = scheme.optimize_parameters()
    assert set(losses) == {"loss_heatmap"} and torch.isfinite(losses["loss_heatmap"])
    assert any(not torch.equal(a, b) for a, b in zip(before, scheme.posenet.parameters()))
    out = scheme.predict(batch)
    assert out.shape == (2, 18, 16, 16) and scheme.posenet.training


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profiles_are_valid_params(name):
    params = PosenetParams(**PROFILES[name].get("posenet", {}))
    assert arch_of(params).height == params.height
