"""The appearance stage's learning-curve scorer (:mod:`pipeline.training.curves`): SSIM,
ST-LPIPS and the independent MediaPipe PCKh of G_A's generated test images, beside the image
references (the source unchanged, the part warp), on fixed test pairs."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from pipeline.evaluation.independent_pckh import IndependentDetector, IndependentPckh
from pipeline.evaluation.references import IMAGE_REFERENCES
from pipeline.evaluation.scoring import Batch, Predict
from pipeline.metrics.images import ImageScores, to_uint8
from pipeline.metrics.lpips import LPIPS, LPIPSWeightsError
from pipeline.training.curves import FixedBatches, Scores


class ImageCurveScorer:
    """SSIM, ST-LPIPS and the independent PCKh of generated test images and of the image
    references (module docstring). Scoring the model on 16 pairs at 64 px: ~1.4 s with 2
    threads, ~6 s on cores busy with other jobs (docs/appearance-network.md "Learning
    curves").

    predict(batch) -> (B, 3, H, W) in [-1, 1] (the scheme's, eval mode, no gradients);
    dataset: test pairs with maps and masks at the image resolution (``tgt_image``,
    ``tgt_pose_mask``, ``tgt_keypoints``); device: where ST-LPIPS runs; pckh_size: the
    height (px) images are enlarged to for MediaPipe (the evaluate stage's
    ``evaluate.pckh_size`` default); detector: None = MediaPipe's. ST-LPIPS and MediaPipe are
    built on the first call; a metric whose weights or package are missing is left out
    (:meth:`settings` says why). Values: SSIM in [-1, 1] (mean over pairs), ST-LPIPS >= 0,
    PCKh in [0, 1] (people MediaPipe misses count as wrong), rounded to 4 digits.
    """

    def __init__(self, predict: Predict, dataset: Dataset, device: str = "cpu",
                 batch_size: int = 16, pckh_size: int = 256,
                 detector: IndependentDetector | None = None) -> None:
        self.predict, self.device, self.pckh_size = predict, device, pckh_size
        self.pairs = FixedBatches(dataset, batch_size)
        self.detector = detector
        self.lpips: LPIPS | None = None
        self.skipped: dict[str, str] = {}
        self._references: Scores | None = None

    def _setup(self) -> None:
        if self.detector is None:
            self.detector = IndependentDetector(self.pckh_size)
        if self.lpips is None and "lpips" not in self.skipped:
            try:
                self.lpips = LPIPS(device=self.device)
            except LPIPSWeightsError as err:
                self.skipped["lpips"] = str(err)

    def _score(self, make: Callable[[Batch], torch.Tensor]) -> dict[str, float]:
        """The metrics of the images ``make(batch)`` over every fixed batch."""
        assert self.detector is not None
        images, pckh = ImageScores(), IndependentPckh(self.detector, ("model",))
        start = len(self.lpips) if self.lpips is not None else 0
        for batch in self.pairs.get():
            true = to_uint8(batch["tgt_image"])
            pred = to_uint8(make(batch).detach().float().cpu())
            images.update(pred, true, batch["tgt_pose_mask"][:, 0].numpy() > 0.5)
            if self.lpips is not None:
                self.lpips.update(pred, true)
            pckh.update({"model": pred}, batch["tgt_keypoints"].numpy())
        out = {"ssim": float(images.result()["ssim"])}
        if self.lpips is not None:
            out["lpips"] = round(float(np.mean(self.lpips.values[start:])), 4)
        value = pckh.result()["model"]["pckh"]
        if isinstance(value, float):
            out["pckh"] = value
        elif "pckh" not in self.skipped:
            self.skipped["pckh"] = (value.get("reason", "not computed")
                                    if isinstance(value, dict) else "no keypoint to score")
        return out

    def __call__(self) -> Scores:
        self._setup()
        if self._references is None:
            self._references = {name: self._score(ref) for name, ref in IMAGE_REFERENCES.items()}
        return {"model": self._score(self.predict), **self._references}

    def settings(self) -> dict[str, Any]:
        """pairs, and per metric how it is computed or ``"not computed: <why>"``."""
        how = {"ssim": "SSIM of uint8 images (pipeline/metrics/ssim.py)",
               "lpips": "ST-LPIPS vgg (pipeline/metrics/lpips.py)",
               "pckh": f"MediaPipe PCKh@0.5 on images enlarged (bicubic) to {self.pckh_size} "
                       "px, people not found count as wrong "
                       "(pipeline/evaluation/independent_pckh.py)"}
        return {"pairs": len(self.pairs),
                **{k: f"not computed: {self.skipped[k]}" if k in self.skipped else v
                   for k, v in how.items()}}
