"""Body geometry of the pipeline: keypoints, the 10 rigid parts, their affines, warps, pose masks.

This package is the ONE definition of body-part geometry: the pseudo-label search, the networks'
deformable skips, the losses and the figures all call it. Pure NumPy / OpenCV (no torch).

Conventions
-----------
- Keypoints: ``(18, 2)`` float arrays (or batches ``(N, 18, 2)``) of ``(y, x)`` in pixels of the
  frame they belong to, in docs/method.md §1 order (:data:`KEYPOINT_NAMES`). A point is missing when either
  coordinate is negative; files store -1 in both.
- Pixel centres are at integer coordinates: pixel (row i, column j) is the point ``(y=i, x=j)``
  and covers ``[i-0.5, i+0.5] x [j-0.5, j+0.5]``. Resizing maps edges to edges
  (:func:`scale_keypoints`, :func:`rescale_affine`).
- Affines: ``(2, 3)`` float64 acting on homogeneous ``(x, y, 1)`` column vectors (OpenCV's
  convention; note x first, unlike keypoints) that map TARGET-frame pixel coordinates to
  SOURCE-frame coordinates: an inverse warp, each output pixel samples the source. Point arrays
  given to the fitting functions are ``(y, x)`` like keypoints.
- Parts: 10, in docs/method.md §3 order (:data:`PART_NAMES`); per-part arrays have the part axis first
  (masks ``(10, H, W)``) or last (validity ``(..., 10)``).
- A part that cannot be fitted gets :data:`NO_POINT` (a -1e6 px translation: it samples nothing)
  and ``valid = False``.
- Sizes are always passed as ``height, width`` in that order.

Modules: :mod:`.keypoints`, :mod:`.parts`, :mod:`.affine`, :mod:`.warp`, :mod:`.pose_mask`.
"""
from pipeline.geometry.affine import (DEGENERATE_RATIO, MIN_ABS_DET, NO_POINT, NO_POINT_OFFSET,
                                      TargetLayout, apply_affine, fit_affine, fit_affine_batch,
                                      invert_affine, part_affines, part_affines_batch,
                                      part_affines_lstsq, prepare_targets, rescale_affine)
from pipeline.geometry.keypoints import (HEAD_POINTS, KEYPOINT_NAMES, KP, MIRROR, MISSING,
                                         NUM_KEYPOINTS, TORSO_POINTS, flip_horizontal, mirror_lr,
                                         pose_heatmaps, scale_keypoints, sigma_for, torso_size,
                                         torso_valid, visible)
from pipeline.geometry.parts import (HEAD, LIMB_ENDPOINTS, LIMB_MIRROR_ENDPOINTS, MASK_INC_TO,
                                     NUM_PARTS, PART_MIRROR, PART_NAMES, TORSO, TRANSFORM_INC_TO,
                                     bitfield_to_masks, head_box, limb_rectangle, part_bitfield,
                                     part_masks, part_valid)
from pipeline.geometry.pose_mask import POSE_MASK_LIMBS, POSE_MASK_RADIUS, pose_mask
from pipeline.geometry.warp import (max_aggregate, resize_nearest, sample_coords, warp_image,
                                    warp_image_by_parts, warp_labels, warp_parts)

__all__ = [
    "DEGENERATE_RATIO", "HEAD", "HEAD_POINTS", "KEYPOINT_NAMES", "KP", "LIMB_ENDPOINTS",
    "LIMB_MIRROR_ENDPOINTS", "MASK_INC_TO", "MIN_ABS_DET", "MIRROR", "MISSING", "NO_POINT",
    "NO_POINT_OFFSET", "NUM_KEYPOINTS", "NUM_PARTS", "PART_MIRROR", "PART_NAMES",
    "POSE_MASK_LIMBS", "POSE_MASK_RADIUS", "TORSO", "TORSO_POINTS", "TRANSFORM_INC_TO",
    "TargetLayout", "prepare_targets",
    "apply_affine", "bitfield_to_masks", "fit_affine", "fit_affine_batch", "flip_horizontal",
    "head_box", "invert_affine", "limb_rectangle", "max_aggregate", "mirror_lr",
    "part_affines", "part_affines_batch", "part_affines_lstsq", "part_bitfield", "part_masks", "part_valid",
    "pose_heatmaps", "pose_mask", "rescale_affine", "resize_nearest", "sample_coords",
    "scale_keypoints",
    "sigma_for", "torso_size", "torso_valid", "visible", "warp_image", "warp_image_by_parts",
    "warp_labels", "warp_parts",
]
