"""The face crop of the face discriminator D_F (docs/method.md §5): an affine crop of the head box.

The head box is pipeline.geometry's (docs/method.md §3) [code, Deformable GAN ``pose_masks``]: centre =
the mean of the present head points (nose, eyes, ears) truncated to integers, half-size
``r = int(0.40 st)`` with st the torso size, covering pixel rows ``[cy - r, cy + r)`` and columns
``[cx - r, cx + r)`` (:func:`pipeline.geometry.head_box`). By default it is NOT clipped to the
frame [choice]: the crop samples with zeros outside, so a head at the border gives a partly
black crop of the same scale rather than a stretched one. ``clip=True`` clips the box to the
frame first, as the authors do [code, SPT demo ``estimate_face_transform``: ``np.maximum(min,
0)``, ``np.minimum(max, size)``], so a border head's crop is stretched to the full crop size.

Coordinates follow :mod:`pipeline.torch_utils.warp`: pixel centres at integers, and
``F.affine_grid`` / ``F.grid_sample`` with ``align_corners=False`` (frame edges at -1 and +1).
The box's continuous extent is ``[cx - r - 1/2, cx + r - 1/2]``, so its theta is

    theta = [[2 r / W, 0, (2 cx) / W - 1], [0, 2 r / H, (2 cy) / H - 1]]

(for a clipped box of pixel columns ``[x0, x1)``: scale ``(x1 - x0) / W``, shift
``(x0 + x1) / W - 1``, and likewise for rows)

and a crop of ``size = 2 r`` reproduces ``image[cy - r : cy + r, cx - r : cx + r]`` exactly
(tested against the geometry's box); other sizes resample it bilinearly (no antialiasing).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from pipeline.geometry.keypoints import HEAD_POINTS, LHIP, LSHO, RHIP, RSHO, TORSO_POINTS
from pipeline.geometry.parts import HEAD_HALF_SIZE
from pipeline.labels import NUM_KEYPOINTS
from pipeline.torch_utils.misc import assert_shape

#: theta of an invalid sample: every sample point at normalised (4, 4), outside the frame, so
#: its crop is all zeros [choice; the caller also gets valid = False and skips it].
INVALID_OFFSET: float = 4.0


def torso_size(keypoints: torch.Tensor) -> torch.Tensor:
    """st = sqrt((|Rhip - Rsho|^2 + |Lhip - Lsho|^2) / 2), the torch twin of
    :func:`pipeline.geometry.torso_size`: (B, 18, 2) (y, x) px -> (B,) float64, NaN where a
    torso point is missing."""
    kp = keypoints.double()
    d1 = ((kp[:, RHIP] - kp[:, RSHO]) ** 2).sum(-1)
    d2 = ((kp[:, LHIP] - kp[:, LSHO]) ** 2).sum(-1)
    st = torch.sqrt((d1 + d2) / 2.0)
    ok = (kp[:, list(TORSO_POINTS)] >= 0).all(-1).all(-1)
    return torch.where(ok, st, torch.full_like(st, float("nan")))


def head_boxes(keypoints: torch.Tensor, hw: tuple[int, int], clip: bool = False
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """affine_grid thetas of the head boxes, unclipped or (``clip``) clipped to the frame
    (module docstring).

    keypoints: (B, 18, 2) float (y, x) pixels of the (H, W) = ``hw`` frame, -1 = missing.
    Returns theta (B, 2, 3) float32 and valid (B,) bool. valid is False when no head point is
    present, a torso point is missing, or the box is empty (r = 0); such samples get a theta
    that crops only zeros. A valid box may lie partly or wholly outside the frame.
    """
    assert_shape(keypoints, (None, NUM_KEYPOINTS, 2), "keypoints")
    h, w = int(hw[0]), int(hw[1])
    kp = keypoints.double()
    heads = kp[:, list(HEAD_POINTS)]                                      # (B, 5, 2)
    vis = (heads >= 0).all(-1)                                            # (B, 5)
    count = vis.sum(-1)                                                   # (B,)
    mean = (heads * vis[..., None]).sum(1) / count.clamp(min=1)[:, None]  # (B, 2) (y, x)
    centre = torch.floor(mean)   # geometry truncates the mean with astype(int); it is >= 0
    st = torso_size(keypoints)
    r = torch.floor(HEAD_HALF_SIZE * torch.nan_to_num(st, nan=0.0))
    lo, hi = centre - r[:, None], centre + r[:, None]            # (B, 2) rows, columns
    if clip:
        size = torch.tensor([h, w], dtype=kp.dtype, device=kp.device)
        lo, hi = lo.clamp(min=0.0), torch.minimum(hi, size)
    valid = (count > 0) & torch.isfinite(st) & (r >= 1) & (hi > lo).all(-1)
    theta = torch.zeros(kp.shape[0], 2, 3, dtype=torch.float64, device=kp.device)
    theta[:, 0, 0] = (hi[:, 1] - lo[:, 1]) / w
    theta[:, 1, 1] = (hi[:, 0] - lo[:, 0]) / h
    theta[:, 0, 2] = (lo[:, 1] + hi[:, 1]) / w - 1.0
    theta[:, 1, 2] = (lo[:, 0] + hi[:, 0]) / h - 1.0
    invalid = torch.zeros_like(theta)
    invalid[:, :, 2] = INVALID_OFFSET
    theta = torch.where(valid[:, None, None], theta, invalid)
    return theta.float(), valid


def crop(images: torch.Tensor, theta: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear crops ``(B, C, size, size)`` of ``images`` (B, C, H, W) at the boxes ``theta``
    (B, 2, 3) (:func:`head_boxes`); zeros outside the frame; differentiable in ``images``."""
    b, c = images.shape[:2]
    assert_shape(images, (b, c, None, None), "images")
    assert_shape(theta, (b, 2, 3), "theta")
    if size < 1:
        raise ValueError(f"crop size must be >= 1, got {size}")
    grid = F.affine_grid(theta.to(images.dtype), [b, c, size, size], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False)
