"""The references that need no learning, scored beside every learned model on the same pairs
(docs/method.md §6): the source unchanged, and the source warped part by part into the target
pose. For label maps (the semantic network) and for images (the appearance network).

- maps: ``source_map`` S_Ps and ``part_warp`` f(S_Ps) (:func:`part_warp_labels`), against the
  target's true parsing;
- images: ``source`` I_Ps and ``part_warp`` (:func:`part_warp_images`), against the true target
  image I_Pt.

Batches are those of :mod:`pipeline.datasets.pairs`, with maps and masks at the image
resolution for the image references (``TestPairDataset(prepared, image_hw, image_hw)``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

from pipeline.torch_utils.warp import paint_parts, warp_labels_by_parts, warp_parts

Aggregate = Literal["paint", "max"]
Batch = dict[str, torch.Tensor]


def part_warp_labels(batch: Batch) -> torch.Tensor:
    """f(S_Ps): (B, H, W) int64 source labels warped part by part into the target pose (exact
    nearest sampling from the pixel affines, as the search and its pictures warp them)."""
    return warp_labels_by_parts(batch["src_labels"], batch["theta"], batch["src_parts"],
                                batch["part_valid"], affines=batch.get("affines"))


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


#: The map references in report order: name -> (B, H, W) int64 labels of a batch.
MAP_REFERENCES: dict[str, Callable[[Batch], torch.Tensor]] = {
    "source_map": lambda batch: batch["src_labels"],
    "part_warp": part_warp_labels,
}

#: The image references in report order: name -> (B, 3, H, W) images in [-1, 1] of a batch.
IMAGE_REFERENCES: dict[str, Callable[[Batch], torch.Tensor]] = {
    "source": lambda batch: batch["src_image"],
    "part_warp": part_warp_images,
}
