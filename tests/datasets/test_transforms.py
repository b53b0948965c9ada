"""Per-item transforms: heatmaps, nearest resizing, images, and the flip of a pair."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from pipeline import geometry as G
from pipeline.datasets.transforms import flip_pair, flip_theta, image_to_tensor, pose_inputs
from pipeline.labels import KEYPOINT_MIRROR, LABEL_MIRROR, PART_MIRROR
from pipeline.torch_utils.warp import affines_to_theta
from tests.helpers import hand_pose


def test_pose_inputs_sigma_scales_with_map_height():
    kp = G.scale_keypoints(hand_pose(), (256, 256), (64, 32))
    kp[3] = -1
    hm = pose_inputs(kp, 64, 32)
    assert hm.shape == (18, 64, 32) and hm.dtype == np.float32
    assert not hm[3].any()
    sigma = 6.0 * 64 / 256                                   # docs/method.md §1: 6 px at 256 px
    y, x = 20, 10
    kp2 = np.full((18, 2), -1, np.float32)
    kp2[0] = (y, x)
    one = pose_inputs(kp2, 64, 32)[0]
    assert one[y, x] == pytest.approx(1.0)
    assert one[y + 3, x] == pytest.approx(np.exp(-9 / (2 * sigma ** 2)), rel=1e-5)


def test_image_to_tensor_range_and_size():
    img = np.zeros((64, 48, 3), np.uint8)
    img[..., 1] = 255
    t = image_to_tensor(img, (32, 24))
    assert t.shape == (3, 32, 24) and t.dtype == torch.float32
    assert t[0].eq(-1).all() and t[1].eq(1).all()
    with pytest.raises(ValueError, match="image must be"):
        image_to_tensor(img.astype(np.float32))


def _item(hw=(64, 48)) -> dict[str, torch.Tensor]:
    """A hand-made pair item at map resolution ``hw`` (source = hand pose, target = moved)."""
    ks = G.scale_keypoints(hand_pose(), (256, 256), hw)
    kt = ks.copy()
    kt[[3, 4], 1] -= 4.0                                   # right arm moved
    kt[7] = -1                                             # left wrist missing: part invalid
    rng = np.random.default_rng(0)
    aff, valid = G.part_affines(ks, kt, *hw)
    item = {"theta": affines_to_theta(aff, hw).float(), "affines": torch.from_numpy(aff),
            "part_valid": torch.from_numpy(valid),
            "src_parts": torch.from_numpy(G.part_masks(ks, *hw).astype(np.float32)),
            "src_image": torch.rand(3, 32, 24), "src_index": torch.tensor(3),
            "tgt_index": torch.tensor(5)}
    for p, kp in (("src", ks), ("tgt", kt)):
        item[f"{p}_labels"] = torch.from_numpy(rng.integers(0, 10, hw))
        item[f"{p}_heatmaps"] = torch.from_numpy(pose_inputs(kp, *hw))
        item[f"{p}_pose_mask"] = torch.from_numpy(G.pose_mask(kp, *hw).astype(np.float32))[None]
        item[f"{p}_keypoints"] = torch.from_numpy(kp.astype(np.float32))
    return item


def test_flipping_twice_is_the_identity():
    item = _item()
    once = flip_pair(item)
    twice = flip_pair(once)
    assert set(twice) == set(item)
    for key, value in item.items():
        assert twice[key].dtype == value.dtype and twice[key].shape == value.shape, key
        if key.endswith("keypoints"):     # float32: w-1-(w-1-x) may round by one ulp
            torch.testing.assert_close(twice[key], value, rtol=0, atol=1e-5)
        elif key == "affines":
            torch.testing.assert_close(twice[key], value, rtol=0, atol=1e-9)
        else:
            assert torch.equal(twice[key], value), key
        if key not in ("src_index", "tgt_index"):
            assert not torch.equal(once[key], value), key
    assert torch.equal(flip_theta(flip_theta(item["theta"])), item["theta"])
    with pytest.raises(KeyError, match="no flip rule for item key 'extra'"):
        flip_pair(dict(item, extra=torch.zeros(1)))


def test_flipped_pair_follows_the_mirroring_rules():
    """The flipped item equals what the flipped person would give: labels flipped and mirrored,
    keypoints flipped with sides swapped, heatmaps and part affines of those keypoints, part
    masks of the mirrored part."""
    hw = (64, 48)
    item = _item(hw)
    f = flip_pair(item)
    w = hw[1]
    for p in ("src", "tgt"):
        assert torch.equal(f[f"{p}_labels"],
                           torch.from_numpy(LABEL_MIRROR[item[f"{p}_labels"].numpy()[:, ::-1]]))
        kp = G.flip_horizontal(item[f"{p}_keypoints"].numpy().astype(np.float64), w)
        np.testing.assert_allclose(f[f"{p}_keypoints"].numpy(), kp, atol=1e-5)
        np.testing.assert_allclose(f[f"{p}_heatmaps"].numpy(), pose_inputs(kp, *hw), atol=1e-5)
        assert torch.equal(f[f"{p}_pose_mask"], item[f"{p}_pose_mask"].flip(-1))
    ks, kt = f["src_keypoints"].numpy(), f["tgt_keypoints"].numpy()
    aff, valid = G.part_affines(ks.astype(np.float64), kt.astype(np.float64), *hw)
    assert torch.equal(f["part_valid"], torch.from_numpy(valid))
    v = torch.from_numpy(valid)
    torch.testing.assert_close(f["theta"][v], affines_to_theta(aff, hw).float()[v], rtol=0,
                               atol=1e-4)
    torch.testing.assert_close(f["affines"][v], torch.from_numpy(aff)[v], rtol=0, atol=1e-3)
    # The flipped masks of the artifact vs masks drawn on the flipped pose: the drawing is not
    # mirror-symmetric (the head box truncates its centre to integers, 1 px, and is half-open,
    # 1 px; cv2.fillPoly's edge rule is one-sided), so they agree up to two pixels at each
    # edge: each lies inside the other's 5x5 dilation. Without PART_MIRROR a limb lands on the
    # wrong side.
    drawn = G.part_masks(ks, *hw)
    flipped = f["src_parts"].numpy() > 0
    for j in range(10):
        a, b = flipped[j], drawn[j]
        assert a.any() == b.any(), j
        assert not (a & ~cv2.dilate(b.astype(np.uint8), np.ones((5, 5))).astype(bool)).any(), j
        assert not (b & ~cv2.dilate(a.astype(np.uint8), np.ones((5, 5))).astype(bool)).any(), j
        if j != PART_MIRROR[j]:
            wrong = item["src_parts"][j].numpy()[:, ::-1] > 0
            assert (wrong & b).sum() < 0.5 * b.sum(), j
    assert torch.equal(f["src_heatmaps"], item["src_heatmaps"][list(KEYPOINT_MIRROR)].flip(-1))
