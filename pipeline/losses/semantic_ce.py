"""L_ce of the semantic generative network (docs/method.md §5) [paper]:

    L_ce = - || S*_Pt (x) log S~_Pt (x) (1 + M*_Pt) ||_1

S*_Pt is the one-hot pseudo target map, S~_Pt = softmax(logits) the prediction, M*_Pt the pseudo
target's pose mask: pixels on the body count twice. Normalisation [choice]: the L1 norm is
divided by the number of pixels B x H x W, so the loss is a per-pixel mean whose scale does not
depend on batch size or map resolution (uniform weight 1: the usual cross-entropy).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from pipeline.labels import NUM_LABELS
from pipeline.torch_utils.misc import assert_shape


def pose_weighted_ce(logits: torch.Tensor, target: torch.Tensor,
                     pose_mask: torch.Tensor) -> torch.Tensor:
    """L_ce, averaged over pixels and batch (module docstring).

    logits: (B, 10, H, W) float (any float dtype; computed in float32); target: (B, H, W) int64
    labels 0..9 (S*_Pt); pose_mask: (B, H, W) or (B, 1, H, W) float/bool in {0, 1} (M*_Pt).
    Returns a float32 scalar.
    """
    b, _, h, w = logits.shape
    assert_shape(logits, (b, NUM_LABELS, h, w), "logits")
    assert_shape(target, (b, h, w), "target", torch.int64)
    if pose_mask.dim() == 4:
        assert_shape(pose_mask, (b, 1, h, w), "pose_mask")
        pose_mask = pose_mask[:, 0]
    assert_shape(pose_mask, (b, h, w), "pose_mask")
    nll = F.cross_entropy(logits.float(), target, reduction="none")        # (B, H, W)
    return (nll * (1.0 + pose_mask.float())).mean()
