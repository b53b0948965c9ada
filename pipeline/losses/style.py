"""Region-aware style loss of the appearance network (docs/method.md §5) [code + paper]:

    L_style = sum over pairs (x, y):  MSE( G_r(phi(x)), G_r(phi(y)) )  over regions r present in
              both maps,     G_r(F) = (m_r * F)(m_r * F)^T / (h w)

phi = frozen VGG16 relu2_1 features (:mod:`pipeline.models.vgg`), m_r the region's mask at the
feature resolution, (h, w) the feature map's size. docs/method.md §5 sums two pairs, (I_s, I~_Pt) and
(I~_Ps, I~_Pt), each image masked by the map of its own pose (S_Ps for I_s and I~_Ps, S~_Pt for
I~_Pt); the caller builds the pairs, this module computes one.

Sources and choices:
- Gram normalisation: by h * w, the number of feature positions, NOT by the region's area
  [code, SPT demo ``models/GramMatrix_bodypart.py``: ``patch_gram_matrix`` multiplies the
  features by the region map, then ``gram_matrix`` returns ``G.div(c * d)`` with (c, d) the
  feature map's height and width]. The mask multiplies the features once, so the Gram weighs
  each position by m^2 (the same as m for binary masks).
- Masks are resized from the image frame to the feature frame by AREA averaging
  (``F.adaptive_avg_pool2d``, which also serves the shift-tolerant VGG's 33x33 at 64x64)
  [choice: keeps soft values and gradients, and never drops a thin region the way nearest
  sampling can].
- A region is PRESENT when its resized mask reaches :data:`PRESENCE_THRESHOLD` (0.5) at some
  feature position [choice]: for a binary mask, some feature cell is at least half covered; for
  a soft map (softmax), the label is at least as likely as not somewhere. Only regions present
  in BOTH maps of a pair count [paper]; with none, the loss is 0 with the graph intact.
- Semantic regions are the 8 labels 2..9 (hair, upperclothes, pants, skirt, arms, legs): face
  and background excluded [paper, docs/method.md §5]. (The demo loops over the first 8 channels of its
  map, ``for i in xrange(8)``; which channels it was given is not in the released code.)
- Soft maps are used as SOFT masks, not argmaxed [choice]: in the e2e scheme the style loss
  then backpropagates into G_S through S~_Pt. One-hot maps give the hard masks.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F

from pipeline.labels import NUM_KEYPOINTS, NUM_LABELS, NUM_PARTS
from pipeline.torch_utils.misc import assert_shape

#: A resized mask must reach this value somewhere to count as present [choice, docstring].
PRESENCE_THRESHOLD: float = 0.5
#: Labels whose regions carry the semantic style loss: 2..9, face (1) and background (0)
#: excluded [paper, docs/method.md §5: 8 regions].
SEMANTIC_STYLE_LABELS: tuple[int, ...] = tuple(range(2, NUM_LABELS))

Features = torch.Tensor | Mapping[str, torch.Tensor]


def resize_regions(regions: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """Area-resize region masks (B, R, H, W) to (B, R, h, w) (module docstring); float32."""
    assert_shape(regions, (None, None, None, None), "regions")
    regions = regions.float()
    if tuple(regions.shape[-2:]) == tuple(hw):
        return regions
    return F.adaptive_avg_pool2d(regions, hw)


def region_present(regions: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """(B, R) bool: region r of sample b is present at feature resolution ``hw`` (module
    docstring: its area-resized mask reaches :data:`PRESENCE_THRESHOLD` somewhere)."""
    small = resize_regions(regions.detach(), hw)
    return small.amax(dim=(-2, -1)) >= PRESENCE_THRESHOLD


def region_grams(feat: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
    """Gram matrix of the features inside each region, normalised by h * w [code].

    feat: (B, C, h, w) features (any float dtype; computed in float32). regions: (B, R, H, W)
    float masks in [0, 1] (soft or binary) in any frame; area-resized to (h, w).
    Returns (B, R, C, C) float32: G[b, r] = (m F)(m F)^T / (h w), m = regions[b, r] resized.
    """
    b, c, h, w = feat.shape
    assert_shape(feat, (b, c, h, w), "feat")
    assert_shape(regions, (b, None, None, None), "regions")
    # float32 even under autocast: a bf16 Gram sums h*w products with ~3 significant digits
    with torch.autocast(device_type=feat.device.type, enabled=False):
        m = resize_regions(regions, (h, w)).reshape(b, -1, 1, h * w)      # (B, R, 1, P)
        masked = m * feat.float().reshape(b, 1, c, h * w)                 # (B, R, C, P)
        return masked @ masked.transpose(-1, -2) / (h * w)


def _style_one(feat_a: torch.Tensor, regions_a: torch.Tensor,
               feat_b: torch.Tensor, regions_b: torch.Tensor) -> torch.Tensor:
    if feat_a.shape != feat_b.shape:
        raise ValueError(f"feat_a and feat_b shapes differ: {tuple(feat_a.shape)} vs "
                         f"{tuple(feat_b.shape)}")
    if regions_a.shape[:2] != regions_b.shape[:2]:
        raise ValueError(f"regions_a and regions_b disagree on (B, R): "
                         f"{tuple(regions_a.shape)} vs {tuple(regions_b.shape)}")
    hw = (feat_a.shape[-2], feat_a.shape[-1])
    both = (region_present(regions_a, hw) & region_present(regions_b, hw)).float()   # (B, R)
    ga = region_grams(feat_a, regions_a)
    gb = region_grams(feat_b, regions_b)
    per_region = ((ga - gb) ** 2).mean(dim=(-2, -1))                      # (B, R)
    return (per_region * both).sum() / both.sum().clamp(min=1.0)


def region_style_loss(feat_a: Features, regions_a: torch.Tensor,
                      feat_b: Features, regions_b: torch.Tensor) -> torch.Tensor:
    """MSE of the region Gram matrices of two images over the regions present in both.

    feat_a, feat_b: (B, C, h, w) features of the two images, or dicts layer -> features with the
    same keys (the mean over layers). regions_a, regions_b: (B, R, H, W) float masks of each
    image's own regions (e.g. :func:`semantic_regions` of each image's map), same R.
    Returns a float32 scalar: the mean over present (b, r) pairs of mean((G_a - G_b)^2) over the
    C x C entries (= ``F.mse_loss`` of the selected Grams); 0, with the graph kept, when no
    region is present in both.
    """
    if isinstance(feat_a, torch.Tensor) and isinstance(feat_b, torch.Tensor):
        return _style_one(feat_a, regions_a, feat_b, regions_b)
    if not (isinstance(feat_a, Mapping) and isinstance(feat_b, Mapping)) or set(feat_a) != set(
            feat_b) or not feat_a:
        raise ValueError("feat_a and feat_b must be two tensors or two dicts with the same "
                         "non-empty layers")
    return torch.stack([_style_one(feat_a[k], regions_a, feat_b[k], regions_b)
                        for k in sorted(feat_a)]).mean()


# --------------------------------------------------------------------------- region builders
def semantic_regions(maps: torch.Tensor) -> torch.Tensor:
    """Semantic style regions: (B, 10, H, W) soft or one-hot maps -> (B, 8, H, W) float,
    channels = labels 2..9 (:data:`SEMANTIC_STYLE_LABELS`; face and background excluded).
    Soft values are kept (module docstring)."""
    assert_shape(maps, (None, NUM_LABELS, None, None), "maps")
    return maps[:, list(SEMANTIC_STYLE_LABELS)].float()


def mask_regions(parts: torch.Tensor) -> torch.Tensor:
    """Mask-style regions [paper, ablation]: the 10 body-part masks (B, 10, H, W) in {0, 1}
    (docs/method.md §3; the torso's mask is the whole image) -> (B, 10, H, W) float."""
    assert_shape(parts, (None, NUM_PARTS, None, None), "parts")
    return parts.float()


def patch_regions(keypoints: torch.Tensor, hw: tuple[int, int], side_px: float) -> torch.Tensor:
    """Patch-style regions [paper, ablation]: a square around each joint.

    keypoints: (B, 18, 2) float (y, x) pixels of the (H, W) = ``hw`` frame, -1 = missing.
    side_px: the square's side in pixels (``loss.patch_size`` x H). Pixel (i, j) (centre at
    (y=i, x=j), pipeline.geometry's convention) belongs to joint k's square when
    ``y_k - side/2 <= i < y_k + side/2`` and the same for j: ``side`` pixels a side for an
    integer side and joint. Clipped by the frame; a missing joint gives an empty region.
    Returns (B, 18, H, W) float32 in {0, 1}.
    """
    assert_shape(keypoints, (None, NUM_KEYPOINTS, 2), "keypoints")
    if side_px <= 0:
        raise ValueError(f"patch side must be > 0 px, got {side_px}")
    h, w = int(hw[0]), int(hw[1])
    kp = keypoints.double()
    half = float(side_px) / 2.0
    present = (kp >= 0).all(dim=-1)                                       # (B, 18)
    ii = torch.arange(h, dtype=torch.float64, device=kp.device)
    jj = torch.arange(w, dtype=torch.float64, device=kp.device)
    y, x = kp[..., 0:1], kp[..., 1:2]                                     # (B, 18, 1)
    rows = (ii >= y - half) & (ii < y + half)                             # (B, 18, H)
    cols = (jj >= x - half) & (jj < x + half)                             # (B, 18, W)
    sq = rows[..., :, None] & cols[..., None, :] & present[..., None, None]
    return sq.float()


#: The style-loss variants (``loss.style``) -> their region builder [paper]. Each takes
#: different inputs; :func:`build_regions` dispatches with the right ones.
STYLE_REGIONS: dict[str, Callable[..., torch.Tensor]] = {
    "semantic": semantic_regions,
    "mask": mask_regions,
    "patch": patch_regions,
}


def build_regions(kind: str, *, maps: torch.Tensor | None = None,
                  parts: torch.Tensor | None = None, keypoints: torch.Tensor | None = None,
                  hw: tuple[int, int] | None = None, side_px: float | None = None
                  ) -> torch.Tensor:
    """The regions of style variant ``kind`` from whichever inputs it needs: ``semantic``
    maps (B, 10, H, W); ``mask`` parts (B, 10, H, W); ``patch`` keypoints (B, 18, 2), hw and
    side_px. A missing input is a ValueError naming ``loss.style`` and the input."""
    if kind not in STYLE_REGIONS:
        raise ValueError(f"loss.style = {kind!r}: unknown; use one of "
                         f"{', '.join(STYLE_REGIONS)}")
    need = {"semantic": {"maps": maps}, "mask": {"parts": parts},
            "patch": {"keypoints": keypoints, "hw": hw, "side_px": side_px}}[kind]
    missing = [k for k, v in need.items() if v is None]
    if missing:
        raise ValueError(f"loss.style = {kind!r} needs {', '.join(missing)}")
    return STYLE_REGIONS[kind](**need)
