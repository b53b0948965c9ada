"""Content loss of the appearance network (docs/method.md §5) [code, SPT: weight 0.03, VGG16 relu2_1]:

    L_content = MSE( phi(I~_Ps), phi(I_s) )

phi = frozen VGG16 features (:class:`pipeline.models.vgg.VGGFeatures`), I~_Ps the cycle's
reconstruction of the source image I_s. Features may be one tensor or a dict of layers; with
several layers the loss is the mean of the per-layer MSEs [choice: the authors use one layer].
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

Features = torch.Tensor | Mapping[str, torch.Tensor]


def _layers(a: Features, b: Features) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs of same-layer tensors from two feature tensors or two dicts with equal keys."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        pairs = [(a, b)]
    elif isinstance(a, Mapping) and isinstance(b, Mapping):
        if set(a) != set(b) or not a:
            raise ValueError(f"feature dicts must hold the same non-empty layers, got "
                             f"{sorted(a)} and {sorted(b)}")
        pairs = [(a[k], b[k]) for k in sorted(a)]
    else:
        raise ValueError(f"features must be two tensors or two dicts, got "
                         f"{type(a).__name__} and {type(b).__name__}")
    for name, (x, y) in zip(sorted(a) if isinstance(a, Mapping) else ["features"], pairs):
        if x.shape != y.shape:
            raise ValueError(f"{name}: shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    return pairs


def content_loss(feats_a: Features, feats_b: Features) -> torch.Tensor:
    """Mean squared error of two feature sets (module docstring).

    feats_a, feats_b: (B, C, h, w) tensors, or dicts layer -> (B, C, h, w) with the same keys.
    Returns a float32 scalar: the MSE over every element, averaged over layers.
    """
    pairs = _layers(feats_a, feats_b)
    return torch.stack([F.mse_loss(x.float(), y.float()) for x, y in pairs]).mean()
