"""What the appearance network's images are worth, measured (issue 9, "Measured, not assumed").

:func:`evaluate_image_pairs` scores, on images.h5 ``/pairs/test`` against the true target image
I_Pt, SSIM, mask-SSIM (target pose mask M_Pt) and L1 (:class:`pipeline.metrics.images.
ImageScores`, SPEC 6 settings) of the generated image I~_Pt and of two references that need no
learning, in the same run:

- ``source``: the source image I_Ps unchanged;
- ``part_warp``: the source image warped part by part into the target pose
  (:func:`part_warp_images`), the image twin of f(S_Ps) in
  :mod:`pipeline.training.evaluate`.

Everything is compared at the dataset's image resolution, with maps and masks at that same
resolution (``TestPairDataset(prepared, map_hw=image_hw, image_hw=image_hw)``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from pipeline.metrics.images import ImageScores, to_uint8
from pipeline.metrics.ssim import SSIM_SETTINGS
from pipeline.torch_utils.warp import paint_parts, warp_parts
from pipeline.training.grids import image_pair_row

#: (B, 3, H, W) images in [-1, 1] from a test batch.
Generate = Callable[[dict[str, torch.Tensor]], torch.Tensor]
Aggregate = Literal["paint", "max"]
#: The references scored beside the model, in this order.
REFERENCES: tuple[str, ...] = ("source", "part_warp")


def source_background(image: torch.Tensor, pose_mask: torch.Tensor) -> torch.Tensor:
    """Mean colour of each image outside its pose mask: ``(B, 3, 1, 1)``.

    image: ``(B, 3, H, W)`` in [-1, 1]; pose_mask: ``(B, 1, H, W)`` {0, 1} (M_Ps). An image
    whose mask covers the whole frame gets white (1.0).
    """
    outside = 1.0 - pose_mask.to(image.dtype)
    count = outside.sum((2, 3), keepdim=True)
    mean = (image * outside).sum((2, 3), keepdim=True) / count.clamp(min=1.0)
    return torch.where(count > 0, mean, torch.ones_like(mean))


def part_warp_images(batch: dict[str, torch.Tensor], aggregate: Aggregate = "paint",
                     background: float | None = None) -> torch.Tensor:
    """The source image warped part by part into the target pose: ``(B, 3, H, W)`` in [-1, 1].

    batch: ``src_image (B, 3, H, W)`` in [-1, 1], ``theta (B, 10, 2, 3)``, ``src_parts
    (B, 10, H, W)`` and ``part_valid (B, 10)`` at the image's resolution, and ``src_pose_mask
    (B, 1, H, W)`` when ``background`` is None. Each part j is masked in the source and
    inverse-warped with bilinear sampling (:func:`pipeline.torch_utils.warp.warp_parts`; 0
    outside the source frame), the image shifted to [0, 2] first and back after, together
    with a channel of ones that gives each warped part's coverage alpha_j in [0, 1].

    aggregate: how the warped parts make one image.
    - ``"paint"`` (default): front-to-back "over" compositing in
      :data:`pipeline.torch_utils.warp.PAINT_ORDER` (limbs, head box, torso), the order in
      which f(S_Ps) composes label maps; warped parts are premultiplied by alpha_j already, so
      ``out += (1 - A) * part_j; A += (1 - A) * alpha_j``.
    - ``"max"``: Deformable GAN's max over parts of the shifted image
      (:func:`pipeline.torch_utils.warp.warp_by_parts`), the aggregation of the deformable
      skips. The torso mask is the whole image, so the torso's warped background competes
      with every limb channel by channel and the brighter colour wins: measured on the default
      data's 48 test pairs at 64x64 it scores below "paint" on SSIM, mask-SSIM and L1.

    background: the colour of what no part covers (weight ``1 - A``; ``1 - max_j alpha_j`` for
    "max"). None (default): each source image's own mean colour outside its pose mask M_Ps
    (:func:`source_background`); a float: that value in [-1, 1] for every channel (1.0 =
    white). Uncovered pixels are common: the torso affine, fitted on the four torso points,
    stretches narrow (side-view) torsos widely, so its samples leave the source frame (30% of
    the target pixels of the default test pairs at 64x64). [choice, measured there: the
    synthetic backgrounds are light, low-saturation colours that vary per image (flat,
    gradients, blotches; mean RGB 193, 191, 186, only 0.2% of background pixels pure white),
    and the source's mean background scores SSIM 0.576 / L1 0.143 against 0.551 / 0.182 for
    white.]
    """
    image = batch["src_image"]
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"src_image: expected (B, 3, H, W), got {tuple(image.shape)}")
    hw = tuple(image.shape[-2:])
    if tuple(batch["src_parts"].shape[-2:]) != hw:
        raise ValueError(f"src_parts are {tuple(batch['src_parts'].shape[-2:])} but src_image "
                         f"is {hw}: build the dataset with map_hw = image_hw")
    if background is None:
        mask = batch["src_pose_mask"]
        if tuple(mask.shape[-2:]) != hw:
            raise ValueError(f"src_pose_mask is {tuple(mask.shape[-2:])} but src_image is "
                             f"{hw}: build the dataset with map_hw = image_hw")
        fill = source_background(image, mask) + 1.0
    else:
        if not -1.0 <= float(background) <= 1.0:
            raise ValueError(f"background must lie in [-1, 1], got {background}")
        fill = torch.full_like(image[:, :, :1, :1], float(background) + 1.0)
    if aggregate == "paint":
        out, covered = paint_parts(image + 1.0, batch["theta"], batch["src_parts"],
                                   batch["part_valid"])
    elif aggregate == "max":
        shifted = torch.cat([image + 1.0, torch.ones_like(image[:, :1])], dim=1)
        parts = warp_parts(shifted, batch["theta"], batch["src_parts"], batch["part_valid"])
        out, covered = parts[:, :, :3].amax(dim=1), parts[:, :, 3:].amax(dim=1)
    else:
        raise ValueError(f"aggregate must be 'paint' or 'max', got {aggregate!r}")
    return (out + (1.0 - covered) * fill - 1.0).clamp(-1.0, 1.0)


def _loader(ds: Dataset, batch_size: int) -> DataLoader:
    return DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=0)


def score_image_pairs(generate: Generate, dataset: Dataset, batch_size: int = 16
                      ) -> dict[str, ImageScores]:
    """{"model", "source", "part_warp"}: :class:`ImageScores` (with per-pair values, in the
    dataset's order) of the generated images and the two references against ``tgt_image``,
    mask-SSIM on ``tgt_pose_mask``. generate(batch) -> ``(B, 3, H, W)`` in [-1, 1] on any
    device; it runs under ``torch.no_grad``."""
    scores = {k: ImageScores() for k in ("model",) + REFERENCES}
    with torch.no_grad():
        for batch in _loader(dataset, batch_size):
            true = batch["tgt_image"]
            masks = batch["tgt_pose_mask"][:, 0]
            if tuple(masks.shape[-2:]) != tuple(true.shape[-2:]):
                raise ValueError(f"tgt_pose_mask is {tuple(masks.shape[-2:])} but tgt_image is "
                                 f"{tuple(true.shape[-2:])}: build the dataset with "
                                 f"map_hw = image_hw")
            true8 = to_uint8(true)
            scores["model"].update(to_uint8(generate(batch)), true8, masks)
            scores["source"].update(to_uint8(batch["src_image"]), true8, masks)
            scores["part_warp"].update(to_uint8(part_warp_images(batch)), true8, masks)
    return scores


def evaluate_image_pairs(generate: Generate, dataset: Dataset, batch_size: int = 16) -> dict:
    """{"model", "source", "part_warp"} (each {"ssim", "mask_ssim", "l1", "pairs"}), "pairs"
    and "settings" (:data:`pipeline.metrics.ssim.SSIM_SETTINGS`) on every pair of ``dataset``
    (a ``TestPairDataset(prepared, map_hw=image_hw, image_hw=image_hw)``); see
    :func:`score_image_pairs`."""
    scores = score_image_pairs(generate, dataset, batch_size)
    out: dict = {k: s.result() for k, s in scores.items()}
    out["pairs"] = len(dataset)  # type: ignore[arg-type]
    out["settings"] = dict(SSIM_SETTINGS)
    return out


def image_rows(batch: dict[str, torch.Tensor], generated: torch.Tensor,
               cycle: torch.Tensor | None = None, pred_labels: torch.Tensor | None = None,
               count: int | None = None) -> list[np.ndarray]:
    """Rows of :func:`pipeline.training.grids.image_pair_row` for the first ``count`` items of
    a batch (all by default). generated, cycle: ``(B, 3, h, w)`` in [-1, 1]; pred_labels:
    ``(B, H, W)`` int labels (argmax of S~_Pt) or None; keypoints ``tgt_keypoints`` are in the
    frame of ``tgt_labels``; ``tgt_image`` (test pairs) becomes the last panel when present."""
    n = generated.shape[0] if count is None else min(int(count), generated.shape[0])
    kp_hw = tuple(batch["tgt_labels"].shape[-2:])
    src = to_uint8(batch["src_image"][:n])
    gen = to_uint8(generated[:n])
    cyc = to_uint8(cycle[:n]) if cycle is not None else None
    tgt = to_uint8(batch["tgt_image"][:n]) if "tgt_image" in batch else None
    kp = batch["tgt_keypoints"][:n].cpu().numpy()
    labels = pred_labels[:n].cpu().numpy() if pred_labels is not None else None
    return [image_pair_row(src[i], kp[i], kp_hw, gen[i],
                           pred_labels=None if labels is None else labels[i],
                           cycle=None if cyc is None else cyc[i],
                           target=None if tgt is None else tgt[i])
            for i in range(n)]
