"""Metrics, one file per metric plus one registry line each (stylegan2-ada style).

- :mod:`.parsing`: pixel accuracy and IoU per label / mIoU of label maps.
- :mod:`.pckh`: PCKh@alpha of keypoints (as Pose-Transfer computes it).
- :mod:`.ssim`, :mod:`.l1`: SSIM / mask-SSIM (SPEC 6 settings) and L1 of uint8 images;
  :mod:`.images` accumulates them over batches.
- :mod:`.fid`: FID of generated images vs their targets, with the pinned offline Inception
  (:mod:`.inception`: weights location and sha256, input preparation).
- :mod:`.inception_score`: IS / mask-IS, only from a local Inception-logits file.
- :mod:`.lpips`: shift-tolerant LPIPS (stlpips-pytorch weights), per pair.
- :mod:`.peer_ssim`: peer-compatible SSIM (per-image data range, DeepFashion white padding).

Every accumulator has ``update(...)`` and ``result() -> dict``. The registry names modules
rather than importing them, so a stage that uses one metric depends on that metric's file
only (dvc.yaml lists each stage's import closure).
"""
from __future__ import annotations

import importlib

#: name -> "module:accumulator class".
METRICS: dict[str, str] = {
    "parsing": "pipeline.metrics.parsing:ParsingScores",
    "pckh": "pipeline.metrics.pckh:PckhScores",
    "images": "pipeline.metrics.images:ImageScores",
    "fid": "pipeline.metrics.fid:FrechetInceptionDistance",
    "is": "pipeline.metrics.inception_score:InceptionScore",
    "lpips": "pipeline.metrics.lpips:LPIPS",
    "peer_ssim": "pipeline.metrics.peer_ssim:PeerSSIM",
}


def get(name: str) -> type:
    """The accumulator class registered as ``name`` (KeyError naming the known ones)."""
    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    module, cls = METRICS[name].split(":")
    return getattr(importlib.import_module(module), cls)
