"""Style loss: hand-computed region Grams, presence in both maps, soft-map gradients, the three
region builders."""
from __future__ import annotations

import pytest
import torch

from pipeline.losses.style import (PRESENCE_THRESHOLD, STYLE_REGIONS, build_regions,
                                   mask_regions, patch_regions, region_grams, region_present,
                                   region_style_loss, semantic_regions)


def test_region_grams_hand_computed():
    # C = 2 channels on a 1 x 2 feature map; region 0 keeps pixel 0, region 1 is half-weighted
    feat = torch.tensor([[[[1.0, 2.0]], [[3.0, -1.0]]]])                 # (1, 2, 1, 2)
    regions = torch.tensor([[[[1.0, 0.0]], [[0.5, 0.5]]]])               # (1, 2, 1, 2)
    g = region_grams(feat, regions)
    assert g.shape == (1, 2, 2, 2)
    # region 0: masked features f = [[1, 0], [3, 0]] -> f f^T / (h w = 2)
    torch.testing.assert_close(g[0, 0], torch.tensor([[1.0, 3.0], [3.0, 9.0]]) / 2)
    # region 1: f = [[0.5, 1], [1.5, -0.5]] -> [[1.25, 0.25], [0.25, 2.5]] / 2
    torch.testing.assert_close(g[0, 1], torch.tensor([[1.25, 0.25], [0.25, 2.5]]) / 2)


def test_regions_are_area_resized_to_the_feature_frame():
    feat = torch.ones(1, 1, 2, 2)
    regions = torch.zeros(1, 1, 4, 4)
    regions[0, 0, :2, :2] = 1.0                         # the top-left feature cell, fully
    regions[0, 0, 2, 2] = 1.0                           # a quarter of the bottom-right cell
    g = region_grams(feat, regions)
    # mask at 2x2: [[1, 0], [0, 0.25]] -> sum m^2 / 4 = (1 + 1/16) / 4
    assert g.item() == pytest.approx((1 + 1 / 16) / 4)
    present = region_present(regions, (2, 2))
    assert present.tolist() == [[True]]
    lone = torch.zeros(1, 1, 4, 4)
    lone[0, 0, 0, 0] = 1.0                              # one pixel: 0.25 of a cell < 0.5
    assert region_present(lone, (2, 2)).tolist() == [[False]]
    assert PRESENCE_THRESHOLD == 0.5


def test_loss_counts_only_regions_present_in_both():
    g = torch.Generator().manual_seed(0)
    fa, fb = torch.randn(1, 3, 4, 4, generator=g), torch.randn(1, 3, 4, 4, generator=g)
    ra = torch.zeros(1, 2, 4, 4)
    rb = torch.zeros(1, 2, 4, 4)
    ra[0, 0, :2] = 1.0
    rb[0, 0, 2:] = 1.0                                  # region 0 in both (elsewhere)
    ra[0, 1, :, :2] = 1.0                               # region 1 only in a
    loss = region_style_loss(fa, ra, fb, rb)
    ga, gb = region_grams(fa, ra), region_grams(fb, rb)
    expected = ((ga[0, 0] - gb[0, 0]) ** 2).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    # making region 1 present in b too changes the loss to the mean over both regions
    rb[0, 1, :, 2:] = 1.0
    ga, gb = region_grams(fa, ra), region_grams(fb, rb)
    both = (((ga - gb) ** 2).mean(dim=(-2, -1))).mean()
    assert region_style_loss(fa, ra, fb, rb).item() == pytest.approx(both.item(), rel=1e-6)


def test_no_common_region_gives_zero_with_graph():
    fa = torch.randn(2, 3, 4, 4, requires_grad=True)
    fb = torch.randn(2, 3, 4, 4)
    ra = torch.zeros(2, 8, 4, 4)
    ra[:, 0] = 1.0
    rb = torch.zeros(2, 8, 4, 4)
    rb[:, 1] = 1.0
    loss = region_style_loss(fa, ra, fb, rb)
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert fa.grad is not None and fa.grad.abs().sum() == 0


def test_gradients_flow_into_soft_maps():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 10, 8, 8, generator=g, requires_grad=True)
    maps_b = torch.softmax(6.0 * logits, dim=1)         # confident: regions reach 0.5
    maps_a = torch.nn.functional.one_hot(maps_b.argmax(1), 10).permute(0, 3, 1, 2).float()
    fa, fb = torch.randn(2, 4, 4, 4, generator=g), torch.randn(2, 4, 4, 4, generator=g)
    loss = region_style_loss(fa, semantic_regions(maps_a), fb, semantic_regions(maps_b))
    assert loss.item() > 0
    loss.backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_dict_features_average_layers():
    g = torch.Generator().manual_seed(2)
    fa = {"x": torch.randn(1, 2, 4, 4, generator=g), "y": torch.randn(1, 2, 2, 2, generator=g)}
    fb = {"x": torch.randn(1, 2, 4, 4, generator=g), "y": torch.randn(1, 2, 2, 2, generator=g)}
    r = torch.ones(1, 1, 4, 4)
    want = (region_style_loss(fa["x"], r, fb["x"], r) + region_style_loss(fa["y"], r, fb["y"], r)) / 2
    assert region_style_loss(fa, r, fb, r).item() == pytest.approx(want.item(), rel=1e-6)


def test_semantic_regions_drop_face_and_background():
    maps = torch.arange(10.0).view(1, 10, 1, 1).expand(1, 10, 3, 3)
    r = semantic_regions(maps)
    assert r.shape == (1, 8, 3, 3) and r[0, :, 0, 0].tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="maps"):
        semantic_regions(torch.zeros(1, 9, 3, 3))


def test_mask_regions_are_the_part_masks():
    parts = (torch.rand(2, 10, 5, 5) > 0.5)
    assert torch.equal(mask_regions(parts), parts.float())


def test_patch_regions_squares_around_present_joints():
    kp = torch.full((1, 18, 2), -1.0)
    kp[0, 0] = torch.tensor([10.0, 20.0])               # nose at (y 10, x 20)
    kp[0, 1] = torch.tensor([0.0, 31.0])                # neck at the top-right corner
    r = patch_regions(kp, (32, 32), side_px=4)
    assert r.shape == (1, 18, 32, 32)
    want = torch.zeros(32, 32)
    want[8:12, 18:22] = 1.0                             # rows 8..11, cols 18..21
    assert torch.equal(r[0, 0], want)
    corner = torch.zeros(32, 32)
    corner[0:2, 29:32] = 1.0                            # clipped by the frame
    assert torch.equal(r[0, 1], corner)
    assert r[0, 2:].sum() == 0                          # missing joints: empty


def test_registry_and_dispatch():
    assert set(STYLE_REGIONS) == {"semantic", "mask", "patch"}
    kp = torch.full((1, 18, 2), 5.0)
    assert build_regions("patch", keypoints=kp, hw=(16, 16), side_px=2).shape == (1, 18, 16, 16)
    with pytest.raises(ValueError, match="loss.style = 'patch' needs keypoints"):
        build_regions("patch", hw=(16, 16), side_px=2)
    with pytest.raises(ValueError, match="loss.style = 'gram'"):
        build_regions("gram", maps=torch.zeros(1, 10, 2, 2))


def test_grams_stay_float32_under_autocast():
    g = torch.Generator().manual_seed(3)
    feat = torch.rand(2, 16, 8, 8, generator=g)
    regions = (torch.rand(2, 3, 16, 16, generator=g) > 0.3).float()
    want = region_grams(feat, regions)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        got = region_grams(feat, regions)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
