"""Tests of pipeline.geometry.warp: exact nearest sampling, bilinear warps, part warps."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.geometry import affine as A
from pipeline.geometry import keypoints as K
from pipeline.geometry import parts as P
from pipeline.geometry import warp as W
from tests.helpers import hand_pose


def test_sample_coords_formula_and_rounding() -> None:
    aff = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, -0.5]])     # half-pixel shifts: round half up
    iy, ix = W.sample_coords(aff, 3, 4)
    assert iy.dtype == np.int64 and iy.shape == (3, 4)
    assert np.array_equal(ix[0], [1, 2, 3, 4])               # floor(x + 0.5 + 0.5)
    assert np.array_equal(iy[:, 0], [0, 1, 2])               # floor(y - 0.5 + 0.5)
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (2, 3)) * [1, 1, 10]
    iy, ix = W.sample_coords(a, 5, 7)
    for y in range(5):
        for x in range(7):
            sx = a[0, 0] * float(x) + a[0, 1] * float(y) + a[0, 2]
            sy = a[1, 0] * float(x) + a[1, 1] * float(y) + a[1, 2]
            assert ix[y, x] == int(np.floor(sx + 0.5)) and iy[y, x] == int(np.floor(sy + 0.5))


def test_warp_labels_translation_and_outside() -> None:
    lab = np.arange(1, 13, dtype=np.int32).reshape(3, 4)
    shift = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])      # output x samples source x + 1
    out = W.warp_labels(lab, shift)
    assert np.array_equal(out[:, :3], lab[:, 1:]) and np.all(out[:, 3] == 0)
    assert np.array_equal(W.warp_labels(lab, np.eye(2, 3)), lab)
    assert not W.warp_labels(lab, A.NO_POINT, 10, 10).any()
    onehot = np.eye(13, dtype=np.uint8)[lab]                   # (3, 4, 13) maps warp too
    assert np.array_equal(W.warp_labels(onehot, shift).argmax(-1), out)
    up = W.warp_labels(lab, np.array([[0.5, 0, 0], [0, 0.5, 0]]), 6, 8)   # 2x nearest upscale
    assert up.shape == (6, 8)
    assert np.array_equal(up[::2, ::2], lab)


def test_warp_image_matches_cv2_and_handles_channels() -> None:
    rng = np.random.default_rng(1)
    img = rng.uniform(0, 1, (40, 30, 9)).astype(np.float32)
    aff = np.array([[0.9, 0.1, 3.3], [-0.05, 1.1, -2.2]])
    out = W.warp_image(img, aff)
    assert out.shape == (40, 30, 9)
    ref = cv2.warpAffine(img[..., :3], aff, (30, 40), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    assert np.allclose(out[..., :3], ref)
    assert np.array_equal(W.warp_image(img, np.array([[1.0, 0, 2], [0, 1.0, 0]]))[:, :28],
                          img[:, 2:])
    assert not W.warp_image(img, A.NO_POINT).any()
    assert W.warp_image((img[..., 0] > 0.5), np.eye(2, 3)).dtype == np.float32
    u8 = (img[..., 0] * 255).astype(np.uint8)
    assert W.warp_image(u8, np.eye(2, 3), 20, 10).shape == (20, 10)


def test_warp_mask_by_f_then_inverse_returns_the_mask() -> None:
    src, tgt = hand_pose(), hand_pose()
    vis = K.visible(tgt)
    tgt[vis] = tgt[vis] * 0.8 + [20.0, 30.0]
    tgt[K.RWRI] += (8.0, -15.0)                       # bend the right forearm a little
    aff, valid = A.part_affines(src, tgt)
    masks = P.part_masks(src, 256, 256)
    for j in np.flatnonzero(valid[1:]) + 1:
        m = masks[j].astype(np.uint8)
        there = W.warp_labels(m, aff[j])                            # into the target frame
        back = W.warp_labels(there, A.invert_affine(aff[j]))        # and back to the source
        edge = cv2.dilate(m, np.ones((3, 3), np.uint8)) - cv2.erode(m, np.ones((3, 3), np.uint8))
        differ = (back != m)
        assert not (differ & (edge == 0)).any(), P.PART_NAMES[j]    # only boundary pixels
        assert differ.sum() <= 0.2 * m.sum()


def test_warp_parts_identity_and_no_point() -> None:
    kp = hand_pose()
    masks = P.part_masks(kp, 256, 256)
    labels = np.random.default_rng(2).integers(1, 10, (256, 256)).astype(np.uint8)
    aff = np.broadcast_to(np.eye(2, 3), (10, 2, 3)).copy()
    aff[4] = A.NO_POINT
    parts = W.warp_parts(labels, aff, masks)
    assert parts.shape == (10, 256, 256) and parts.dtype == np.uint8
    for j in range(10):
        expect = np.where(masks[j], labels, 0) if j != 4 else np.zeros_like(labels)
        assert np.array_equal(parts[j], expect)
    small = W.warp_parts(labels, aff, masks, out_h=64, out_w=32)
    assert small.shape == (10, 64, 32)
    img = np.random.default_rng(3).uniform(0, 1, (256, 256, 3)).astype(np.float32)
    warped = W.warp_parts(img, aff, masks, mode="bilinear")
    assert warped.shape == (10, 256, 256, 3)
    agg = W.max_aggregate(warped, valid=np.arange(10) != 4)
    assert np.allclose(agg, img)                     # the torso covers the whole image
    assert np.allclose(W.warp_image_by_parts(img, aff, masks), img)
    assert not W.max_aggregate(warped, valid=np.zeros(10, bool)).any()
    with pytest.raises(ValueError):
        W.warp_parts(labels, aff, masks, mode="cubic")


def test_resize_nearest_takes_the_pixel_holding_each_centre():
    """One nearest resize for the search's working maps and the networks' maps: output pixel
    (i, j) takes input pixel (floor((i + 0.5) H / h), floor((j + 0.5) W / w))."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, (2, 256, 192)).astype(np.uint8)
    for h, w in ((64, 64), (128, 64), (300, 200)):
        expected = np.empty((2, h, w), np.uint8)
        for i in range(h):
            for j in range(w):
                expected[:, i, j] = labels[:, int((i + 0.5) * 256 / h), int((j + 0.5) * 192 / w)]
        np.testing.assert_array_equal(W.resize_nearest(labels, (h, w)), expected)
    assert W.resize_nearest(labels, (256, 192)) is labels
    # the centre pixel of each 4x4 block: rows 2, 6, ... (edges map to edges)
    np.testing.assert_array_equal(W.resize_nearest(labels[0], (64, 48)), labels[0][2::4, 2::4])
