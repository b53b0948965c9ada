"""Deformable skip connections (Deformable GAN, used by G_S and G_A; docs/method.md §3, 5).

A generator's source-encoder features at every scale are warped part by part by the 10 part
affines from the source pose to the target pose and max-aggregated over parts
(:func:`pipeline.torch_utils.warp.warp_by_parts`) before the decoder concatenates them. The
affine thetas of :mod:`pipeline.torch_utils.warp` are valid at every feature scale of the same
frame, so one theta per part serves all scales; the part masks are max-pooled to each scale.

The max over parts is a union only for NON-NEGATIVE features: a part is 0 outside its mask (and
an invalid part is 0 everywhere), so a negative feature value loses to those zeros; Deformable
GAN's and the SPT demo's max over parts drop negative values the same way [code].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from pipeline.torch_utils.warp import warp_by_parts


def deform_features(feats: list[torch.Tensor], theta: torch.Tensor, src_parts: torch.Tensor,
                    part_valid: torch.Tensor) -> list[torch.Tensor]:
    """Deformable skips: every scale's features warped by the part affines, max over parts.

    feats: scale i is (B, C_i, H / 2**i, W / 2**i); theta (B, 10, 2, 3) is valid at every scale
    (edges map to edges); src_parts (B, 10, H, W) is max-pooled to each scale (a feature pixel
    belongs to a part when any of its full-resolution pixels does).
    """
    out: list[torch.Tensor] = []
    if not feats:
        return out
    theta = theta.to(feats[0].dtype)
    for i, f in enumerate(feats):
        masks = src_parts if i == 0 else F.max_pool2d(src_parts, 2 ** i)
        out.append(warp_by_parts(f, theta, masks.to(f.dtype), part_valid))
    return out
