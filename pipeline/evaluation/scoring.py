"""Scores of one set of pairs (the test pairs, or the unpaired oracle pairs) for the trained
models and for the two references that need no learning, computed in one pass (SPEC 6).

Systems (:data:`SYSTEMS`), each scored against the same true images:
- ``model``: I~_Pt, the trained models' image (:class:`pipeline.training.trained.TrainedModels`);
- ``source``: the source image unchanged;
- ``part_warp``: the source warped part by part into the target pose
  (:func:`pipeline.training.image_eval.part_warp_images`).

Metrics per system: SSIM, mask-SSIM and L1 (:class:`pipeline.metrics.images.ImageScores`, SPEC 6
settings), the peer-compatible SSIM, LPIPS, FID and IS / mask-IS (registry
:data:`pipeline.metrics.METRICS`; each can be switched off in ``evaluate.*`` or is reported as
not computed), and PCKh@0.5 of the keypoints that the project's pose detector finds in the
image against the wanted pose P_t. The model's predicted target maps get pixel accuracy and
mIoU against the true target parsing beside the unchanged source map and its part warp, when
the scheme predicts maps and the data has true parsing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from pipeline.config import EvaluateParams
from pipeline.geometry import scale_keypoints
from pipeline.metrics.fid import FrechetInceptionDistance
from pipeline.metrics.images import ImageScores, to_uint8
from pipeline.metrics.inception_score import InceptionScore
from pipeline.metrics.lpips import LPIPS
from pipeline.metrics.parsing import ParsingScores
from pipeline.metrics.pckh import PckhScores
from pipeline.metrics.peer_ssim import PeerSSIM
from pipeline.models.posenet import heatmaps_to_keypoints
from pipeline.training.evaluate import part_warp as part_warp_labels
from pipeline.training.image_eval import part_warp_images
from pipeline.training.trained import TrainedModels

#: The scored systems, in report order.
SYSTEMS: tuple[str, ...] = ("model", "source", "part_warp")

#: Called with (pair indices, generated uint8 images (B, H, W, 3)) for every batch.
OnBatch = Callable[[np.ndarray, np.ndarray], None]


@dataclass
class PoseDetector:
    """The project's frozen pose detector (models/posenet.safetensors) as a keypoint finder
    for uint8 images of any size: images are resized (bilinear) to its resolution and the
    keypoints scaled back (SPEC 6: PCKh of generated images against the wanted pose)."""

    net: nn.Module
    threshold: float
    device: torch.device

    def __post_init__(self) -> None:
        self.net.to(self.device).eval()

    @torch.no_grad()
    def keypoints(self, images: np.ndarray) -> np.ndarray:
        """images: (B, H, W, 3) uint8 -> (B, 18, 2) float32 (y, x) pixels of that frame, -1 =
        not found."""
        arch = self.net.arch
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
        x = (x / 127.5 - 1.0).to(self.device)
        hw = tuple(images.shape[1:3])
        if hw != (arch.height, arch.width):
            x = F.interpolate(x, size=(arch.height, arch.width), mode="bilinear",
                              align_corners=False)
        kp = heatmaps_to_keypoints(self.net(x), self.threshold).cpu().numpy()
        return scale_keypoints(kp, (arch.height, arch.width), hw)


@dataclass
class SystemScores:
    """Every image metric of one system on one pair set (``update`` per batch, ``result``)."""

    ev: EvaluateParams
    device: str
    fid: bool = True
    images: ImageScores = field(default_factory=ImageScores)
    pckh: PckhScores = field(default_factory=PckhScores)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ev = self.ev
        self.extra["peer_ssim"] = PeerSSIM(pad_to=ev.peer_ssim_pad or None)
        if ev.lpips:
            self.extra["lpips"] = LPIPS(device=self.device)
        if ev.fid and self.fid:
            self.extra["fid"] = FrechetInceptionDistance(device=self.device, batch_size=ev.batch_size)
        self.extra["is"] = InceptionScore(weights=ev.inception_logits, device=self.device,
                                        batch_size=ev.batch_size)
        self.extra["mask_is"] = InceptionScore(weights=ev.inception_logits, device=self.device,
                                             batch_size=ev.batch_size, masked=True)

    def update(self, pred: np.ndarray, true: np.ndarray, masks: np.ndarray,
               keypoints: np.ndarray | None, wanted: np.ndarray) -> None:
        """pred, true: (B, H, W, 3) uint8; masks: (B, H, W) target pose masks; keypoints:
        (B, 18, 2) detected in pred (None: no detector); wanted: (B, 18, 2) P_t, same frame."""
        self.images.update(pred, true, masks)
        for m in self.extra.values():
            m.update(pred, true, masks)
        if keypoints is not None:
            self.pckh.update(keypoints, wanted)

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.images.result())
        out["pckh"] = (round(float(self.pckh.result()["pckh"]), 4)
                       if len(self.pckh._true) else None)
        settings: dict[str, Any] = {}
        for name, m in self.extra.items():
            r = m.result()
            settings[name] = r.pop("settings", {})
            for key, value in r.items():
                out[key if key not in out else f"{name}_{key}"] = value
        out["settings"] = settings
        return out


@dataclass
class SetScores:
    """The scores of every system on one pair set plus the model's map scores and the
    per-pair values that pick the report grid's rows."""

    systems: dict[str, SystemScores]
    maps: dict[str, ParsingScores] | None
    pairs: int = 0

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: s.result() for k, s in self.systems.items()}
        if self.maps is not None:
            out["maps"] = {k: _parsing_summary(s.result()) for k, s in self.maps.items()}
        out["pairs"] = self.pairs
        return out

    def per_pair(self, system: str = "model") -> dict[str, list[float]]:
        """Per-pair values of ``system`` in pair order: ssim, mask_ssim, l1 (and lpips)."""
        s = self.systems[system]
        out = {"ssim": list(s.images.ssim_values), "mask_ssim": list(s.images.mask_ssim_values),
               "l1": list(s.images.l1_values)}
        lp = s.extra.get("lpips")
        if lp is not None and hasattr(lp, "values"):
            out["lpips"] = [float(v) for v in lp.values]
        return out


def _parsing_summary(r: dict[str, Any]) -> dict[str, Any]:
    keep = ("miou", "pixel_accuracy", "accuracy")
    return {k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v)
            for k, v in r.items() if k in keep}


def batches(dataset: Dataset, batch_size: int) -> Iterator[tuple[np.ndarray, dict]]:
    """(pair indices, collated batch) in dataset order."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    start = 0
    for batch in loader:
        n = len(batch["src_index"])
        yield np.arange(start, start + n), batch
        start += n


def score_pairs(models: TrainedModels, dataset: Dataset, ev: EvaluateParams, device: str,
                detector: PoseDetector | None, true_parsing: bool, fid: bool = True,
                on_batch: OnBatch | None = None, progress: bool = True,
                desc: str = "pairs") -> SetScores:
    """Generate every pair of ``dataset`` (items with ``tgt_image``, at the image resolution
    as map resolution, and ``sem`` for the schemes with G_S) and score all systems.

    true_parsing: the target maps of the data are true (synthetic or given label maps), so
    the predicted maps are scored; fid: compute FID (off for sets that are too small)."""
    systems = {k: SystemScores(ev, device, fid=fid) for k in SYSTEMS}
    maps = None
    if true_parsing and models.semantic is not None:
        maps = {k: ParsingScores() for k in ("model", "source_map", "part_warp")}
    n = len(dataset)  # type: ignore[arg-type]
    bar = tqdm(total=n, desc=desc, unit="pair", disable=not progress, leave=False)
    for index, batch in batches(dataset, ev.batch_size):
        out = models.render(batch)
        true = to_uint8(batch["tgt_image"])
        masks = batch["tgt_pose_mask"][:, 0].numpy() > 0.5
        wanted = batch["tgt_keypoints"].numpy()
        images = {"model": to_uint8(out.fake_t), "source": to_uint8(batch["src_image"]),
                  "part_warp": to_uint8(part_warp_images(batch))}
        for name, pred in images.items():
            kp = detector.keypoints(pred) if detector is not None else None
            systems[name].update(pred, true, masks, kp, wanted)
        if maps is not None and out.tgt_maps is not None:
            tgt = batch["tgt_labels"]
            maps["model"].update(out.tgt_maps.argmax(1), tgt)
            maps["source_map"].update(batch["src_labels"], tgt)
            maps["part_warp"].update(part_warp_labels(batch), tgt)
        if on_batch is not None:
            on_batch(index, images["model"])
        bar.update(len(index))
    bar.close()
    return SetScores(systems, maps, n)
