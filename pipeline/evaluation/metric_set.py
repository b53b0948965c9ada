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
from pipeline.metrics.inception import InceptionFeatures
from pipeline.metrics.inception_score import InceptionScore
from pipeline.metrics.lpips import LPIPS
from pipeline.metrics.peer_ssim import PeerSSIM

#: (evaluate section, device, FID wanted for this set, a shared FID Inception or None) ->
#: accumulator, or None when off.
MetricFactory = Callable[[EvaluateParams, str, bool, InceptionFeatures | None], Any]

IMAGE_METRICS: dict[str, MetricFactory] = {
    "peer_ssim": lambda ev, device, fid, inc: PeerSSIM(pad_to=ev.peer_ssim_pad or None),
    "lpips": lambda ev, device, fid, inc: LPIPS(device=device) if ev.lpips else None,
    "fid": lambda ev, device, fid, inc: (FrechetInceptionDistance(device=device,
                                                                  batch_size=ev.batch_size,
                                                                  inception=inc)
                                         if ev.fid and fid else None),
    "is": lambda ev, device, fid, inc: InceptionScore(weights=ev.inception_logits,
                                                      device=device, batch_size=ev.batch_size),
    "mask_is": lambda ev, device, fid, inc: InceptionScore(weights=ev.inception_logits,
                                                           device=device,
                                                           batch_size=ev.batch_size,
                                                           masked=True),
}


def build_metrics(ev: EvaluateParams, device: str, fid: bool = True,
                  inception: InceptionFeatures | None = None) -> dict[str, Any]:
    """The switched-on accumulators of :data:`IMAGE_METRICS`, by name, in registry order.
    inception: one FID extractor for the accumulators of several systems (with a memo, the
    true targets they share pass through it once; :func:`shared_inception`)."""
    out = {}
    for name, make in IMAGE_METRICS.items():
        metric = make(ev, device, fid, inception)
        if metric is not None:
            out[name] = metric
    return out


def shared_inception(ev: EvaluateParams, device: str, fid: bool = True
                     ) -> InceptionFeatures | None:
    """The FID extractor that the systems of one pair set share (None when FID is off): it
    keeps the features of its last 4 batches, so the true targets, which every system is
    scored against, cost one pass per batch instead of one per system [choice: the systems
    score a batch one after another, so the memo holds their common targets]."""
    if not (ev.fid and fid):
        return None
    return InceptionFeatures(device=device, batch_size=ev.batch_size, memo=4)
