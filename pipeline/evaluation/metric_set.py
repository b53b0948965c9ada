"""The registry of image metrics that the `evaluate` stage computes beside SSIM, mask-SSIM, L1
and PCKh, in report order (docs/method.md §6; docs/metrics.md).

Each entry builds the metric's accumulator from the ``evaluate`` params section, or returns
None where the section switches it off (``evaluate.lpips``, ``evaluate.fid``; FID also needs a
large enough set). Every accumulator has ``update(pred, true, masks)`` on ``(B, H, W, 3)``
uint8 images and ``(B, H, W)`` 0/1 target pose masks, and ``result() -> dict`` (with its
``settings``). The imports are plain, so the stage's DVC deps list each metric's file.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.config.evaluate import EvaluateParams
from pipeline.metrics.fid import FrechetInceptionDistance
from pipeline.metrics.inception_score import InceptionScore
from pipeline.metrics.lpips import LPIPS
from pipeline.metrics.peer_ssim import PeerSSIM

#: (evaluate section, device, FID wanted for this set) -> accumulator, or None when off.
MetricFactory = Callable[[EvaluateParams, str, bool], Any]

IMAGE_METRICS: dict[str, MetricFactory] = {
    "peer_ssim": lambda ev, device, fid: PeerSSIM(pad_to=ev.peer_ssim_pad or None),
    "lpips": lambda ev, device, fid: LPIPS(device=device) if ev.lpips else None,
    "fid": lambda ev, device, fid: (FrechetInceptionDistance(device=device,
                                                             batch_size=ev.batch_size)
                                    if ev.fid and fid else None),
    "is": lambda ev, device, fid: InceptionScore(weights=ev.inception_logits, device=device,
                                                 batch_size=ev.batch_size),
    "mask_is": lambda ev, device, fid: InceptionScore(weights=ev.inception_logits,
                                                      device=device, batch_size=ev.batch_size,
                                                      masked=True),
}


def build_metrics(ev: EvaluateParams, device: str, fid: bool = True) -> dict[str, Any]:
    """The switched-on accumulators of :data:`IMAGE_METRICS`, by name, in registry order."""
    out = {}
    for name, make in IMAGE_METRICS.items():
        metric = make(ev, device, fid)
        if metric is not None:
            out[name] = metric
    return out
