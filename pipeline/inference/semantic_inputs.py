"""How a batch feeds the semantic generator G_S: its batch keys, the one-hot maps and the call
(shared by the semantic scheme and the appearance schemes that run G_S)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.labels import NUM_LABELS
from pipeline.models.blocks import to_memory_format

#: Batch keys G_S and its loss read (:mod:`pipeline.datasets.pairs` items at map resolution).
SEMANTIC_INPUT_KEYS = ("src_labels", "src_heatmaps", "src_pose_mask", "tgt_heatmaps",
                       "tgt_pose_mask", "tgt_labels", "theta", "src_parts", "part_valid")
#: The way back's keys (datasets with ``cycle=True``): e2e's G_S maps S~_Pt back to P_s.
SEMANTIC_BACK_KEYS = ("tgt_parts", "back_theta", "back_part_valid")


def one_hot_maps(labels: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(B, H, W) int64 labels -> (B, 10, H, W) one-hot of ``dtype``."""
    return F.one_hot(labels, NUM_LABELS).permute(0, 3, 1, 2).to(dtype)


def semantic_logits(net: nn.Module, x: dict[str, torch.Tensor], deformable: bool,
                    channels_last: bool = False) -> torch.Tensor:
    """G_S's logits (B, 10, H, W) for the batch ``x`` (keys :data:`SEMANTIC_INPUT_KEYS`).
    net: the generator or its DDP wrapper; deformable: its ``arch.deformable_skips``."""
    args = [to_memory_format(t, channels_last) for t in (
        one_hot_maps(x["src_labels"]), x["src_heatmaps"], x["src_pose_mask"],
        x["tgt_heatmaps"], x["tgt_pose_mask"])]
    if deformable:
        return net(*args, theta=x["theta"], src_parts=x["src_parts"],
                   part_valid=x["part_valid"])
    return net(*args)
