"""Stage `train_posenet`: training images and keypoints -> the pose detector of the pose loss,
filled into :class:`pipeline.training.stage.TrainingStage` (docs/pose-detector.md).

Outputs (rank 0): ``models/posenet.safetensors`` and ``eval/posenet/``: PCKh@0.5 on the same
held-out test images, against poses.h5 at the stored frame, of ``posenet`` (decoded at its input
size with ``posenet.peak_threshold``, scaled back) and ``mediapipe`` (``{"computed": false,
"reason": ...}`` when MediaPipe is missing, never a 0); ``train``: the detector on its own
training images; sample grids (true skeleton, detected skeleton, heatmaps).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from torch.utils.data import DataLoader

from pipeline.artifacts.paths import Paths
from pipeline.config.base import section_dict
from pipeline.datasets.images import PoseImageDataset
from pipeline.datasets.pairs import DatasetError
from pipeline.inference.model_files import save_model_file
from pipeline.inference.pose_detector import decode_keypoints
from pipeline.metrics.pckh import pckh, per_joint_by_name
from pipeline.training.posenet.scheme import PosenetScheme, arch_of
from pipeline.training.stage import SampleGrids, Training, TrainingStage, first_items
from pipeline.visualize import draw_skeleton, hstack_panels, titled, vstack_panels

if TYPE_CHECKING:
    from pipeline.config.params import Params

#: Images per inference batch of the evaluation.
EVAL_BATCH = 16


class PosenetStage(TrainingStage):
    """`train_posenet` (module docstring)."""

    name = "train_posenet"
    section = "posenet"
    inputs = ("images", "poses")
    seed_offset = 0x9E
    scheme_class = PosenetScheme
    architecture = staticmethod(arch_of)
    items = "training images"

    def dataset(self, params: Params, paths: Paths) -> PoseImageDataset:
        """The training split's images with at least one keypoint."""
        pp = params.posenet
        return PoseImageDataset(paths.prepared, (pp.height, pp.width), "train", flip=pp.flip,
                                seed=pp.seed, sigma=pp.heatmap_sigma)

    def samples(self, params: Params, paths: Paths, scheme: PosenetScheme,
                folder: Path) -> SampleGrids:
        return PosenetGrids(scheme, paths, params, folder)

    def describe(self, params: Params, summary: dict[str, Any], training: Training) -> None:
        summary["training_items_without_keypoints"] = training.dataset.left_out

    def finish(self, params: Params, paths: Paths, scheme: PosenetScheme
               ) -> tuple[dict[str, Any], dict[str, Any]]:
        save_model_file(paths.posenet_model, "posenet", scheme.posenet, scheme.arch.to_dict(),
                        extra={"params": json.dumps(section_dict(params.posenet),
                                                    sort_keys=True),
                               "stage": self.name})
        metrics = score_detector(scheme, params, paths)
        short = {k: (v.get("pckh") if v.get("computed", True) else None)
                 for k, v in metrics["test"].items()}
        fields = {"model": str(paths.posenet_model), "test_images": metrics["images"],
                  "test_pckh": short,
                  "mediapipe_reason": metrics["test"]["mediapipe"].get("reason"),
                  "train_pckh": metrics["train"]["posenet"]["pckh"]}
        return metrics, fields

    def result_lines(self, summary: dict[str, Any]) -> list[str]:
        lines = []
        if summary.get("training_items_without_keypoints"):
            lines.append(f"  left out {summary['training_items_without_keypoints']} training "
                         f"image(s) without a single keypoint")
        if "test_pckh" in summary:
            t = summary["test_pckh"]
            mp = t.get("mediapipe")
            mp_text = (f"{mp:.4f}" if mp is not None else
                       f"not computed ({summary.get('mediapipe_reason') or 'nothing counted'})")
            pn = t.get("posenet")
            lines.append(f"  PCKh@0.5 on {summary['test_images']} test images: posenet "
                         f"{'n/a' if pn is None else f'{pn:.4f}'}, mediapipe {mp_text}")
            tp = summary.get("train_pckh")
            lines.append(f"  PCKh@0.5 of posenet on its training images: "
                         f"{'n/a' if tp is None else f'{tp:.4f}'}")
        return lines


# --------------------------------------------------------------------------- scores
def detect_keypoints(scheme: PosenetScheme, dataset: PoseImageDataset, threshold: float
                     ) -> np.ndarray:
    """(n, 18, 2) float32 keypoints the detector finds in every item of ``dataset`` (no
    flips), decoded at the input size and scaled to the stored frame; -1 = missing."""
    loader = DataLoader(dataset, batch_size=EVAL_BATCH, shuffle=False, num_workers=0)
    out = [decode_keypoints(scheme.predict(batch), threshold, dataset.frame_hw)
           for batch in loader]
    return np.concatenate(out).astype(np.float32)


def mediapipe_keypoints(dataset: PoseImageDataset, min_visibility: float) -> np.ndarray:
    """(n, 18, 2) float32 keypoints of the project's MediaPipe backend on the stored images of
    ``dataset``'s rows (stored frame, -1 = missing). ImportError when MediaPipe is missing."""
    from pipeline.pose.mediapipe_detector import MediaPipeDetector

    images = dataset.images["images"]
    with MediaPipeDetector(min_visibility) as det:
        return np.stack([det.detect(images[int(r)]).keypoints for r in dataset.rows])


def _scores(pred: np.ndarray, true: np.ndarray) -> dict:
    res = pckh(pred, true)
    res["per_joint"] = per_joint_by_name(res)
    return res


def score_detector(scheme: PosenetScheme, params: Params, paths: Paths) -> dict:
    """metrics.json's measurements: PCKh@0.5 of the detector and of MediaPipe on the same
    test-split images, and of the detector on its training images (module docstring)."""
    pp = params.posenet
    hw = (pp.height, pp.width)
    test = PoseImageDataset(paths.prepared, hw, "test")
    true = test.keypoints[test.rows]
    scores: dict[str, Any] = {"posenet": _scores(detect_keypoints(scheme, test,
                                                                  pp.peak_threshold), true)}
    try:
        scores["mediapipe"] = _scores(mediapipe_keypoints(test, params.pose.min_visibility),
                                      true)
    except ImportError as err:
        scores["mediapipe"] = {"computed": False, "reason": str(err).splitlines()[0]}
    train_ds = PoseImageDataset(paths.prepared, hw, "train")
    train_scores = _scores(detect_keypoints(scheme, train_ds, pp.peak_threshold),
                           train_ds.keypoints[train_ds.rows])
    return {"test": scores, "images": len(test),
            "test_images_without_keypoints": test.left_out,
            "train": {"posenet": train_scores, "images": len(train_ds)}}


# --------------------------------------------------------------------------- sample grids
def heatmap_panel(heatmaps: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """(18, h, w) heatmaps -> (H, W, 3) uint8 picture of their maximum over the keypoints
    (clipped to [0, 1], JET colours), resized to ``hw`` by nearest neighbour."""
    peak = np.clip(np.asarray(heatmaps, np.float32).max(0), 0.0, 1.0)
    img = cv2.applyColorMap((peak * 255).astype(np.uint8), cv2.COLORMAP_JET)
    img = cv2.resize(img, (hw[1], hw[0]), interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


class PosenetGrids(SampleGrids):
    """Per image: the stored image with the true skeleton, with the detected skeleton, and
    the detector's heatmaps (maximum over the 18 channels)."""

    def __init__(self, scheme: PosenetScheme, paths: Paths, params: Params,
                 folder: Path) -> None:
        super().__init__(folder)
        pp = params.posenet
        self.scheme, self.paths = scheme, paths
        self.hw, self.count, self.threshold = (pp.height, pp.width), pp.sample_count, \
            pp.peak_threshold

    def fixed(self) -> dict[str, Any]:
        out = {}
        for split in ("train", "test"):
            try:
                ds = PoseImageDataset(self.paths.prepared, self.hw, split)
            except DatasetError:
                continue
            out[split] = (ds, first_items(ds, self.count))
        return out

    def draw(self, name: str, batch: Any, iteration: int) -> np.ndarray:
        ds, items = batch
        heat = self.scheme.predict(items)
        kp = decode_keypoints(heat, self.threshold, ds.frame_hw)
        heat = heat.cpu().numpy()
        rows = []
        for i, row in enumerate(items["index"].tolist()):
            image = ds.images["images"][int(row)]
            panels = [("true", draw_skeleton(image, ds.keypoints[int(row)])),
                      ("detected", draw_skeleton(image, kp[i])),
                      ("heatmaps (max)", heatmap_panel(heat[i], ds.frame_hw))]
            rows.append(hstack_panels([titled(p, t) for t, p in panels]))
        return titled(vstack_panels(rows), f"{name} images, iteration {iteration}", bar=20)


#: The stage's entry points (stages/train_posenet.py, tests, benchmarks).
USER_ERRORS, run, summary_text = PosenetStage.entry_points()
