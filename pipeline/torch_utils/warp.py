"""Part-wise warps in torch: the twin of :mod:`pipeline.geometry.warp` (docs/method.md §3-5).

Conventions (those of :mod:`pipeline.geometry`): a part affine ``A`` is ``(2, 3)`` acting on
``(x, y, 1)`` and maps TARGET (output) pixel coordinates to SOURCE pixel coordinates; pixel
centres sit at integer coordinates; a resized frame maps edges to edges. ``F.affine_grid`` /
``F.grid_sample`` with ``align_corners=False`` use normalised coordinates in which the frame's
EDGES are -1 and +1 (pixel ``i`` of ``n`` is at ``(2 i + 1) / n - 1``), so

    theta = N_src @ A @ N_out^-1,   N_n = [[2/W, 0, 1/W - 1], [0, 2/H, 1/H - 1], [0, 0, 1]]

is the normalised form of ``A``. Because both normalisations map edges to edges, one theta
serves every resolution of the same two frames: the theta of an affine at 256x256 equals the
theta of :func:`pipeline.geometry.rescale_affine` of it at 64x64, which is what deformable
skips at lower feature resolutions need.

Sampling:
- ``bilinear``: ``F.grid_sample(..., "bilinear", padding_mode="zeros", align_corners=False)``:
  outside the source frame is 0, like ``cv2.warpAffine(..., BORDER_CONSTANT, 0)`` in
  :func:`pipeline.geometry.warp_image`. cv2 quantises sample positions to 1/32 px; torch does
  not, so the two differ by at most 1/64 px of position per axis (see the tests).
- ``nearest``: NOT ``grid_sample(mode="nearest")``, which rounds half to even in float32 after a
  trip through normalised coordinates. The sample indices are computed like
  :func:`pipeline.geometry.sample_coords`: pixel affine in float64, ``sx = (a00 x + a01 y) +
  a02`` in that order, round half up (``floor(sx + 0.5)``), then a gather. Given the pixel
  affines themselves (``affines=``, geometry's ``part_affines``) this reproduces the NumPy warps
  bit for bit (tested on real poses). From theta alone the pixel affine is recovered by
  :func:`theta_to_affines`, exact to ~1e-15 relative but not bit for bit; the search's keypoints
  are often integers, so some samples fall EXACTLY on a half pixel, where geometry's own
  float64 rounding noise decides the side. On those samples alone (true position within 1e-9
  px of a half pixel) the theta path may pick the other neighbour: measured, 40 of 131 M
  part samples at 256x256 and 1 of 8 M at 64x64 on real DeepFashion pose pairs. A float32
  theta moves samples by up to ~1e-5 px instead.

Aggregation over parts: ``max`` (Deformable GAN's, :func:`pipeline.geometry.max_aggregate`)
for images and features: masked-out, out-of-frame and invalid parts are 0, so it is a union for
NON-NEGATIVE data (shift images in [-1, 1] to [0, 2] first). Label maps are composed in
:data:`PAINT_ORDER` instead (limbs, then head, then torso, first non-background label wins), as
the pipeline's pictures compose f(S_Ps) (:func:`pipeline.evaluation.figures.warped_source_labels`).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from pipeline.labels import NUM_PARTS
from pipeline.torch_utils.misc import assert_shape

Mode = Literal["bilinear", "nearest"]
#: Order in which warped parts of a label map are laid over each other: limbs, then head, then
#: the torso, whose mask is the whole image, last (it fills only what no other part covers)
#: [choice, the same order as pipeline.evaluation.figures.PAINT_ORDER].
PAINT_ORDER: tuple[int, ...] = tuple(range(2, NUM_PARTS)) + (1, 0)
#: Sample positions are clipped to +-2^31 px before rounding, as in
#: pipeline.geometry.warp.COORD_CLIP (keeps the integer cast defined for no-point transforms).
COORD_CLIP: float = 2.0 ** 31


def _norm_matrix(hw: tuple[int, int], dtype: torch.dtype, device: torch.device | None
                 ) -> torch.Tensor:
    """``(3, 3)`` pixel -> normalised (align_corners=False) coordinates of an ``hw`` frame."""
    h, w = int(hw[0]), int(hw[1])
    return torch.tensor([[2.0 / w, 0.0, 1.0 / w - 1.0], [0.0, 2.0 / h, 1.0 / h - 1.0],
                         [0.0, 0.0, 1.0]], dtype=dtype, device=device)


def _norm_inverse(hw: tuple[int, int], dtype: torch.dtype, device: torch.device | None
                  ) -> torch.Tensor:
    """``(3, 3)`` normalised -> pixel coordinates of an ``hw`` frame (exact inverse)."""
    h, w = int(hw[0]), int(hw[1])
    return torch.tensor([[w / 2.0, 0.0, (w - 1) / 2.0], [0.0, h / 2.0, (h - 1) / 2.0],
                         [0.0, 0.0, 1.0]], dtype=dtype, device=device)


def _homogeneous(m: torch.Tensor) -> torch.Tensor:
    """``(..., 2, 3)`` -> ``(..., 3, 3)`` with the row (0, 0, 1) appended."""
    last = torch.zeros(m.shape[:-2] + (1, 3), dtype=m.dtype, device=m.device)
    last[..., 0, 2] = 1.0
    return torch.cat([m, last], dim=-2)


def _as_float_tensor(a: torch.Tensor | np.ndarray) -> torch.Tensor:
    t = torch.tensor(a) if isinstance(a, np.ndarray) else torch.as_tensor(a)  # numpy: a copy
    return t if t.is_floating_point() else t.double()


def affines_to_theta(affines: torch.Tensor | np.ndarray, src_hw: tuple[int, int],
                     out_hw: tuple[int, int] | None = None) -> torch.Tensor:
    """Normalised ``affine_grid`` thetas (``align_corners=False``) of pixel part affines.

    affines: ``(..., 2, 3)`` target->source pixel affines (geometry convention) between a
    ``src_hw`` source frame and an ``out_hw`` target frame (default: ``src_hw``); a NumPy array
    becomes a tensor. Returns ``(..., 2, 3)`` in the input's float dtype (float64 for NumPy
    float64: keep it for exact nearest sampling). The result does not depend on the resolution
    the affines were expressed at, only on the frames (module docstring).
    """
    a = _as_float_tensor(affines)
    if a.shape[-2:] != (2, 3):
        raise ValueError(f"affines must be (..., 2, 3), got {tuple(a.shape)}")
    out_hw = src_hw if out_hw is None else out_hw
    n_src = _norm_matrix(src_hw, torch.float64, a.device)
    n_out_inv = _norm_inverse(out_hw, torch.float64, a.device)
    theta = n_src @ _homogeneous(a.double()) @ n_out_inv
    return theta[..., :2, :].to(a.dtype)


def theta_to_affines(theta: torch.Tensor, src_hw: tuple[int, int],
                     out_hw: tuple[int, int] | None = None) -> torch.Tensor:
    """Inverse of :func:`affines_to_theta`: ``(..., 2, 3)`` thetas -> float64 pixel affines
    between an ``src_hw`` source and an ``out_hw`` output frame (default ``src_hw``)."""
    t = _as_float_tensor(theta)
    out_hw = src_hw if out_hw is None else out_hw
    n_src_inv = _norm_inverse(src_hw, torch.float64, t.device)
    n_out = _norm_matrix(out_hw, torch.float64, t.device)
    return (n_src_inv @ _homogeneous(t.double()) @ n_out)[..., :2, :]


def _check_inputs(x: torch.Tensor, theta: torch.Tensor, masks: torch.Tensor,
                  valid: torch.Tensor, name: str) -> tuple[int, int, int, int]:
    b, p = theta.shape[0], theta.shape[1]
    assert_shape(theta, (b, p, 2, 3), "theta")
    h, w = x.shape[-2:]
    assert_shape(masks, (b, p, h, w), "src_part_masks")
    assert_shape(valid, (b, p), "part_valid")
    if x.shape[0] != b:
        raise ValueError(f"{name}: batch {x.shape[0]} but theta has batch {b}")
    return b, p, h, w


def sample_indices(affines: torch.Tensor, src_hw: tuple[int, int], out_hw: tuple[int, int]
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Nearest-neighbour source indices, exactly as :func:`pipeline.geometry.sample_coords`.

    affines: ``(..., 2, 3)`` PIXEL affines (geometry convention, computed in float64). Returns
    ``(iy, ix, inside)``, each ``(..., H', W')``: int64 indices (clamped into the frame) and a
    bool mask of the samples inside the ``src_hw`` source frame.
    """
    a = _as_float_tensor(affines).double()
    oh, ow = int(out_hw[0]), int(out_hw[1])
    x = torch.arange(ow, dtype=torch.float64, device=a.device).view(1, ow)
    y = torch.arange(oh, dtype=torch.float64, device=a.device).view(oh, 1)
    c = [a[..., i, j, None, None] for i in range(2) for j in range(3)]
    # separate kernels in this order: no fused multiply-add, as in geometry.sample_coords
    sx = ((c[0] * x) + (c[1] * y)) + c[2]
    sy = ((c[3] * x) + (c[4] * y)) + c[5]
    ix = torch.floor(torch.clamp(sx + 0.5, -COORD_CLIP, COORD_CLIP)).long()
    iy = torch.floor(torch.clamp(sy + 0.5, -COORD_CLIP, COORD_CLIP)).long()
    h, w = int(src_hw[0]), int(src_hw[1])
    inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    return iy.clamp(0, h - 1), ix.clamp(0, w - 1), inside


def _gather_nearest(data: torch.Tensor, affines: torch.Tensor, out_hw: tuple[int, int]
                    ) -> torch.Tensor:
    """``data (B, P, C, H, W)`` sampled at :func:`sample_indices` of float64 pixel ``affines
    (B, P, 2, 3)`` -> ``(B, P, C, H', W')``; 0 outside the source frame. Differentiable
    w.r.t. ``data``."""
    b, p, c, h, w = data.shape
    iy, ix, inside = sample_indices(affines, (h, w), out_hw)      # (B, P, H', W')
    flat = (iy * w + ix).view(b, p, 1, -1).expand(b, p, c, -1)
    out = torch.gather(data.reshape(b, p, c, h * w), 3, flat).view(b, p, c, *out_hw)
    return torch.where(inside.unsqueeze(2), out, torch.zeros((), dtype=out.dtype,
                                                             device=out.device))


def warp_parts(x: torch.Tensor, theta: torch.Tensor, src_part_masks: torch.Tensor,
               part_valid: torch.Tensor, out_hw: tuple[int, int] | None = None,
               mode: Mode = "bilinear", affines: torch.Tensor | None = None) -> torch.Tensor:
    """``f_j(B^j (x) x)`` for every part j: mask in the source, then inverse-warp.

    x: ``(B, C, H, W)`` source maps (images, one-hot maps, features; integer labels with
    "nearest"). theta: ``(B, P, 2, 3)`` (:func:`affines_to_theta`; valid at any resolution of
    the same frames). src_part_masks: ``(B, P, H, W)`` float (or bool) part masks drawn on the
    source pose at x's resolution. part_valid: ``(B, P)`` bool; invalid parts come out all
    zero. out_hw: output ``(H', W')``, default ``(H, W)``. mode: "bilinear" (grid_sample) or
    "nearest" (exact gather, module docstring). affines: optional ``(B, P, 2, 3)`` float64
    PIXEL affines between x's frame and the output frame (geometry's ``part_affines``): when
    given, "nearest" samples with them instead of the affines recovered from theta, and then
    matches :func:`pipeline.geometry.warp_parts` bit for bit even where a sample falls exactly
    on a half pixel (module docstring).
    Returns ``(B, P, C, H', W')`` in x's dtype; 0 outside the source frame and outside each
    part's mask. Differentiable w.r.t. x (and, with "bilinear", theta).
    """
    if x.ndim != 4:
        raise ValueError(f"x: expected shape (B, C, H, W), got {tuple(x.shape)}")
    b, p, h, w = _check_inputs(x, theta, src_part_masks, part_valid, "x")
    out_hw = (h, w) if out_hw is None else (int(out_hw[0]), int(out_hw[1]))
    c = x.shape[1]
    masks = src_part_masks.to(x.dtype) if x.is_floating_point() else src_part_masks > 0.5
    masked = x.unsqueeze(1) * masks.unsqueeze(2)                  # (B, P, C, H, W)
    if mode == "nearest":
        if affines is None:
            affines = theta_to_affines(theta, (h, w), out_hw)
        else:
            assert_shape(affines, (b, p, 2, 3), "affines")
        out = _gather_nearest(masked, affines, out_hw)
    elif mode == "bilinear":
        # float64 stays float64; anything else samples in float32, with autocast off: under
        # bf16/fp16 autocast affine_grid's matrix product would run in 8 or 11 bit mantissas
        # (sample positions off by ~0.1 px at 64 px) and a no-point theta overflows float16
        work = torch.float64 if x.dtype == torch.float64 else torch.float32
        with torch.autocast(device_type=x.device.type, enabled=False):
            grid = F.affine_grid(theta.reshape(b * p, 2, 3).to(work), [b * p, c, *out_hw],
                                 align_corners=False)
            out = F.grid_sample(masked.reshape(b * p, c, h, w).to(work), grid,
                                mode="bilinear", padding_mode="zeros", align_corners=False)
        out = out.view(b, p, c, *out_hw).to(x.dtype)
    else:
        raise ValueError(f"mode must be 'bilinear' or 'nearest', got {mode!r}")
    keep = part_valid.to(torch.bool).view(b, p, 1, 1, 1)
    return torch.where(keep, out, torch.zeros((), dtype=out.dtype, device=out.device))


def warp_by_parts(x: torch.Tensor, theta: torch.Tensor, src_part_masks: torch.Tensor,
                  part_valid: torch.Tensor, out_hw: tuple[int, int] | None = None,
                  mode: Mode = "bilinear", affines: torch.Tensor | None = None) -> torch.Tensor:
    """Max over parts of :func:`warp_parts`: ``max_j f_j(B^j (x) x)`` -> ``(B, C, H', W')``.

    Deformable GAN's aggregation (:func:`pipeline.geometry.max_aggregate`): a union for
    non-negative x (ReLU features, one-hot maps, images in [0, 1]); pixels no valid part
    reaches are 0. The gradient flows to the part that holds each maximum.
    """
    return warp_parts(x, theta, src_part_masks, part_valid, out_hw, mode, affines).amax(dim=1)


def paint_parts(x: torch.Tensor, theta: torch.Tensor, src_part_masks: torch.Tensor,
                part_valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Parts of a NON-NEGATIVE x warped (:func:`warp_parts`, bilinear) and laid over each other
    front to back in :data:`PAINT_ORDER` ("over" compositing).

    x: ``(B, C, H, W)`` >= 0 (an image shifted to [0, 2]); theta, src_part_masks, part_valid:
    as in :func:`warp_parts`. A channel of ones warped with x gives each part's coverage
    alpha_j in [0, 1]; warped parts are premultiplied by it, so ``out += (1 - A) * part_j;
    A += (1 - A) * alpha_j``. Returns ``(out (B, C, H, W), A (B, 1, H, W))``: out is
    premultiplied by the coverage A (0 where no part lands).
    """
    c = x.shape[1]
    parts = warp_parts(torch.cat([x, torch.ones_like(x[:, :1])], dim=1), theta,
                       src_part_masks, part_valid)
    rgb, alpha = parts[:, :, :c], parts[:, :, c:]                  # (B, P, C|1, H, W)
    out, covered = torch.zeros_like(rgb[:, 0]), torch.zeros_like(alpha[:, 0])
    for j in PAINT_ORDER:
        if j < rgb.shape[1]:
            out = out + (1.0 - covered) * rgb[:, j]
            covered = covered + (1.0 - covered) * alpha[:, j]
    return out, covered


def warp_labels_by_parts(labels: torch.Tensor, theta: torch.Tensor,
                         src_part_masks: torch.Tensor, part_valid: torch.Tensor,
                         out_hw: tuple[int, int] | None = None,
                         affines: torch.Tensor | None = None) -> torch.Tensor:
    """The source label map warped part by part into the target pose, f(S_Ps).

    labels: ``(B, H, W)`` int64 source parsing (0 = background). theta, src_part_masks,
    part_valid, out_hw, affines: as in :func:`warp_parts`. Each part's labels (masked by its
    source part mask) are warped with exact nearest sampling; parts are laid over each other
    in :data:`PAINT_ORDER` (a pixel keeps the first non-background label it receives), the
    same composition as ``pipeline.evaluation.figures.warped_source_labels``. Returns
    ``(B, H', W')`` int64.
    """
    if labels.ndim != 3 or labels.dtype != torch.int64:
        raise ValueError(f"labels: expected (B, H, W) int64, got {tuple(labels.shape)} "
                         f"{labels.dtype}")
    parts = warp_parts(labels.unsqueeze(1), theta, src_part_masks, part_valid, out_hw,
                       mode="nearest", affines=affines)[:, :, 0]  # (B, P, H', W') int64
    out = torch.zeros_like(parts[:, 0])
    for j in PAINT_ORDER:
        if j < parts.shape[1]:
            out = torch.where(out == 0, parts[:, j], out)
    return out
