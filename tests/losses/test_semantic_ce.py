"""L_ce = -|| S*_Pt (x) log S~_Pt (x) (1 + M*_Pt) ||_1 / (B H W) against the formula itself."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pipeline.losses.semantic_ce import pose_weighted_ce


def _case(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(3, 10, 8, 6, generator=g)
    target = torch.randint(0, 10, (3, 8, 6), generator=g)
    mask = (torch.rand(3, 1, 8, 6, generator=g) > 0.5).float()
    return logits, target, mask


def test_matches_the_literal_formula():
    logits, target, mask = _case()
    onehot = F.one_hot(target, 10).permute(0, 3, 1, 2).float()          # S*_Pt
    log_s = torch.log(torch.softmax(logits, 1))                          # log S~_Pt
    literal = (-(onehot * log_s * (1 + mask))).abs().sum() / (3 * 8 * 6)   # L1 norm / (B H W)
    torch.testing.assert_close(pose_weighted_ce(logits, target, mask), literal)


def test_mask_doubles_the_weight_and_zero_mask_is_plain_ce():
    logits, target, _ = _case(1)
    zero = torch.zeros(3, 8, 6)
    torch.testing.assert_close(pose_weighted_ce(logits, target, zero),
                               F.cross_entropy(logits, target))
    torch.testing.assert_close(pose_weighted_ce(logits, target, torch.ones(3, 8, 6)),
                               2 * F.cross_entropy(logits, target))


def test_confident_correct_prediction_costs_nothing_and_gradient_flows():
    _, target, mask = _case(2)
    logits = (F.one_hot(target, 10).permute(0, 3, 1, 2).float() * 50).requires_grad_()
    loss = pose_weighted_ce(logits, target, mask)
    assert loss.item() < 1e-6
    wrong = torch.zeros_like(logits, requires_grad=True)
    pose_weighted_ce(wrong, target, mask).backward()
    assert wrong.grad.abs().sum() > 0


def test_bad_shapes_name_the_argument():
    logits, target, mask = _case()
    with pytest.raises(ValueError, match="target"):
        pose_weighted_ce(logits, target[:, :4], mask)
    with pytest.raises(ValueError, match="logits"):
        pose_weighted_ce(logits[:, :9], target, mask)
