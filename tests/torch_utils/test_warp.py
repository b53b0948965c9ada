"""The torch part warp against pipeline.geometry's NumPy warps, on real DeepFashion poses."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pipeline import geometry as G
from pipeline.annotations import read_keypoint_file
from pipeline.evaluation import figures
from pipeline.torch_utils.device import autocast
from pipeline.torch_utils.warp import (PAINT_ORDER, affines_to_theta, sample_indices,
                                       theta_to_affines, warp_by_parts, warp_labels_by_parts,
                                       warp_parts)
from tests.helpers import ANNOTATIONS

FRAME = (256, 256)   # DeepFashion annotation frame [docs/method.md §1]


@pytest.fixture(scope="module")
def real_pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    """48 (source, target) pairs of real DeepFashion rows that have a torso."""
    kp = read_keypoint_file(ANNOTATIONS / "fasion-annotation-sample.csv").keypoints
    ok = np.flatnonzero(G.torso_valid(kp))
    rng = np.random.default_rng(0)
    pairs = []
    while len(pairs) < 48:
        i, j = rng.choice(ok, 2, replace=False)
        pairs.append((kp[i], kp[j]))
    return pairs


def _batch(pairs, hw: tuple[int, int]) -> dict[str, np.ndarray]:
    """Keypoints scaled to ``hw``, part affines, valid flags and source part masks."""
    out: dict[str, list] = {"ks": [], "kt": [], "aff": [], "valid": [], "masks": []}
    for s, t in pairs:
        ks, kt = G.scale_keypoints(s, FRAME, hw), G.scale_keypoints(t, FRAME, hw)
        aff, valid = G.part_affines(ks, kt, *hw)
        for key, val in zip(out, (ks, kt, aff, valid, G.part_masks(ks, *hw))):
            out[key].append(val)
    return {k: np.stack(v) for k, v in out.items()}


def _tensors(b: dict[str, np.ndarray], hw: tuple[int, int]):
    theta = affines_to_theta(b["aff"], hw)                     # float64 (B, 10, 2, 3)
    return (theta, torch.from_numpy(b["masks"]).float(), torch.from_numpy(b["valid"]),
            torch.from_numpy(b["aff"]))


def test_theta_is_the_normalised_affine_at_every_resolution(real_pairs):
    b = _batch(real_pairs[:8], FRAME)
    theta = affines_to_theta(b["aff"], FRAME)
    assert theta.dtype == torch.float64 and theta.shape == (8, 10, 2, 3)
    torch.testing.assert_close(theta_to_affines(theta, FRAME), torch.from_numpy(b["aff"]),
                               rtol=0, atol=1e-9)
    # one theta serves every resolution of the same frames (edges map to edges)
    for hw in ((64, 64), (128, 64), (32, 48)):
        small = G.rescale_affine(b["aff"], FRAME, hw)
        ok = b["valid"]
        torch.testing.assert_close(affines_to_theta(small, hw)[ok], theta[ok], rtol=0,
                                   atol=1e-12)
    # affine_grid at any size samples the pixel positions A @ (x, y, 1) of that size
    hw = (64, 48)
    a = G.rescale_affine(b["aff"][0, 0], FRAME, hw)
    grid = F.affine_grid(theta[0, :1], [1, 1, *hw], align_corners=False)[0]   # (H, W, 2)
    px = (grid[..., 0] + 1) * hw[1] / 2 - 0.5, (grid[..., 1] + 1) * hw[0] / 2 - 0.5
    yy, xx = np.mgrid[0:hw[0], 0:hw[1]]
    np.testing.assert_allclose(px[0].numpy(), a[0, 0] * xx + a[0, 1] * yy + a[0, 2], atol=1e-9)
    np.testing.assert_allclose(px[1].numpy(), a[1, 0] * xx + a[1, 1] * yy + a[1, 2], atol=1e-9)


@pytest.mark.parametrize("hw", [(64, 64), (256, 256), (128, 64)])
def test_label_warps_match_geometry_exactly(real_pairs, hw):
    """Nearest warps of label maps: with the pixel affines, bit for bit the NumPy warp of every
    part and the pipeline's composed f(S_Ps); from theta alone, the same except on samples that
    sit on a half pixel (within 1e-9 px), where each side is float rounding noise."""
    pairs = real_pairs if hw != (256, 256) else real_pairs[:12]
    b = _batch(pairs, hw)
    theta, masks, valid, aff = _tensors(b, hw)
    rng = np.random.default_rng(1)
    labels = rng.integers(1, 10, (len(pairs),) + hw)       # every pixel a person label
    lt = torch.from_numpy(labels)
    ref = np.stack([G.warp_parts(lab.astype(np.uint8), a, m, "nearest") * v[:, None, None]
                    for lab, a, m, v in zip(labels, b["aff"], b["masks"], b["valid"])])
    exact = warp_parts(lt[:, None], theta, masks, valid, mode="nearest", affines=aff)[:, :, 0]
    assert exact.dtype == torch.int64
    np.testing.assert_array_equal(exact.numpy(), ref)
    composed_ref = np.stack([
        figures.warped_source_labels(lab.astype(np.uint8), G.part_bitfield(ks, *hw), ks, kt)
        for lab, ks, kt in zip(labels, b["ks"], b["kt"])])
    composed = warp_labels_by_parts(lt, theta, masks, valid, affines=aff)
    np.testing.assert_array_equal(composed.numpy(), composed_ref)

    from_theta = warp_parts(lt[:, None], theta, masks, valid, mode="nearest")[:, :, 0].numpy()
    bad = np.argwhere(from_theta != ref)
    assert len(bad) <= 1e-5 * ref.size
    for i, j, y, x in bad:
        a = b["aff"][i, j]
        s = np.array([a[0, 0] * x + a[0, 1] * y + a[0, 2], a[1, 0] * x + a[1, 1] * y + a[1, 2]])
        assert np.min(np.abs(s - np.floor(s) - 0.5)) < 1e-9, (i, j, y, x, s)


def test_paint_order_is_the_pipelines():
    assert PAINT_ORDER == figures.PAINT_ORDER


def _photo(hw: tuple[int, int]) -> np.ndarray:
    """A real photograph (skimage's astronaut) resized to ``hw``, float32 RGB in [0, 1]."""
    from skimage.data import astronaut

    img = cv2.resize(astronaut(), (hw[1], hw[0]), interpolation=cv2.INTER_AREA)
    return img.astype(np.float32) / 255.0


@pytest.mark.parametrize("hw", [(64, 64), (256, 256)])
def test_image_warps_match_geometry_to_a_stated_tolerance(real_pairs, hw):
    """Bilinear: cv2.warpAffine rounds sample positions to 1/32 px, grid_sample does not, so a
    sample may move by up to 1/64 px per axis: |difference| <= (|dI/dx| + |dI/dy|) / 64 <=
    range / 32 for data in [0, 1]. Asserted: max <= 1/32 everywhere, mean < 2e-3."""
    pairs = real_pairs[:12]
    b = _batch(pairs, hw)
    theta, masks, valid, _ = _tensors(b, hw)
    img = _photo(hw)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].repeat(len(pairs), 1, 1, 1)
    parts = warp_parts(x, theta.float(), masks, valid)                  # (B, 10, 3, H, W)
    ref = np.stack([G.warp_parts(img, a, m, "bilinear") * v[:, None, None, None]
                    for a, m, v in zip(b["aff"], b["masks"], b["valid"])])
    diff = np.abs(parts.permute(0, 1, 3, 4, 2).numpy() - ref)
    assert diff.max() <= 1 / 32 and diff.mean() < 2e-3, (diff.max(), diff.mean())
    merged = warp_by_parts(x, theta.float(), masks, valid)
    ref_merged = np.stack([G.warp_image_by_parts(img, a, m, v)
                           for a, m, v in zip(b["aff"], b["masks"], b["valid"])])
    assert np.abs(merged.permute(0, 2, 3, 1).numpy() - ref_merged).max() <= 1 / 32


def test_invalid_parts_and_out_of_frame_are_zero(real_pairs):
    hw = (64, 64)
    b = _batch(real_pairs[:4], hw)
    theta, masks, valid, _ = _tensors(b, hw)
    x = torch.ones(4, 2, *hw)
    valid[:, 3] = False
    out = warp_parts(x, theta, masks, valid, out_hw=(32, 40))
    assert out.shape == (4, 10, 2, 32, 40)
    assert not out[:, 3].any()
    no_point = affines_to_theta(np.broadcast_to(G.NO_POINT, (4, 10, 2, 3)), hw)
    assert not warp_parts(x, no_point, masks, torch.ones(4, 10, dtype=torch.bool)).any()
    iy, ix, inside = sample_indices(torch.tensor(G.NO_POINT), hw, hw)
    assert not inside.any() and iy.min() >= 0 and ix.min() >= 0


def test_bad_shapes_name_the_tensor(real_pairs):
    hw = (64, 64)
    theta, masks, valid, _ = _tensors(_batch(real_pairs[:2], hw), hw)
    with pytest.raises(ValueError, match="src_part_masks: expected shape"):
        warp_parts(torch.ones(2, 3, 32, 32), theta, masks, valid)
    with pytest.raises(ValueError, match="part_valid: expected shape"):
        warp_parts(torch.ones(2, 3, *hw), theta, masks, valid[:, :5])
    with pytest.raises(ValueError, match="labels: expected"):
        warp_labels_by_parts(torch.ones(2, *hw), theta, masks, valid)


def test_gradient_flows_through_warp_by_parts(real_pairs):
    hw = (32, 32)
    theta, masks, valid, _ = _tensors(_batch(real_pairs[:3], hw), hw)
    theta = theta.float().requires_grad_(True)
    x = torch.rand(3, 4, *hw, requires_grad=True)
    out = warp_by_parts(x, theta, masks, valid)
    out.square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert theta.grad is not None and torch.isfinite(theta.grad).all()
    assert theta.grad[valid].abs().sum() > 0 and not theta.grad[~valid].any()
    with autocast(torch.device("cpu"), "bf16"):      # sampling stays float32 under autocast
        assert torch.equal(warp_by_parts(x, theta, masks, valid), out)
    # each part's warp is linear in x: gradcheck in float64
    xd = torch.rand(1, 1, 8, 8, dtype=torch.float64, requires_grad=True)
    th = affines_to_theta(G.rescale_affine(_batch(real_pairs[:1], hw)["aff"], hw, (8, 8)),
                          (8, 8))
    m8 = torch.ones(1, 10, 8, 8, dtype=torch.float64)
    v8 = torch.ones(1, 10, dtype=torch.bool)
    assert torch.autograd.gradcheck(lambda t: warp_parts(t, th, m8, v8), (xd,))
    assert torch.autograd.gradcheck(lambda t: warp_parts(t, th, m8, v8, mode="nearest"), (xd,))


@pytest.mark.gpu
def test_cuda_warps_match_cpu(real_pairs):
    """On CUDA: nearest label warps equal the CPU ones exactly (same float64 index arithmetic,
    no fused multiply-add across the separate kernels); bilinear agrees to float32 rounding;
    bf16 autocast does not touch the sampling (it stays float32: in bf16 affine_grid was off by
    up to 0.24 on [0, 1] data); float16 maps with no-point parts stay zero (no overflow)."""
    hw = (64, 64)
    b = _batch(real_pairs[:16], hw)
    theta, masks, valid, aff = _tensors(b, hw)
    labels = torch.from_numpy(np.random.default_rng(2).integers(1, 10, (16,) + hw))
    cuda = torch.device("cuda")
    on = [t.to(cuda) for t in (labels, theta, masks, valid, aff)]
    for kw in ({}, {"affines": aff}):
        cpu = warp_labels_by_parts(labels, theta, masks, valid, **kw)
        gpu = warp_labels_by_parts(*on[:4], **({"affines": on[4]} if kw else {}))
        assert torch.equal(gpu.cpu(), cpu)
    x = torch.rand(16, 3, *hw)
    cpu = warp_by_parts(x, theta.float(), masks, valid)
    gpu = warp_by_parts(x.to(cuda), on[1].float(), on[2], on[3])
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=0, atol=1e-5)
    with autocast(cuda, "bf16"):
        bf = warp_by_parts(x.to(cuda), on[1].float(), on[2], on[3])
    assert bf.dtype == torch.float32 and torch.equal(bf, gpu)
    no_point = affines_to_theta(np.broadcast_to(G.NO_POINT, (16, 10, 2, 3)), hw).to(cuda)
    half = warp_parts(x.to(cuda).half(), no_point.half(), on[2], torch.ones_like(on[3]))
    assert half.dtype == torch.float16 and torch.isfinite(half).all() and not half.any()
