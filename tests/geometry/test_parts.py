"""Tests of pipeline.geometry.parts: limb rectangles, part masks, bitfields."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import skimage.draw

from pipeline.annotations import read_keypoint_file
from pipeline.geometry import keypoints as K
from pipeline.geometry import parts as P
from tests.helpers import ANNOTATIONS, hand_pose

DATA = ANNOTATIONS


def test_part_tables_follow_spec() -> None:
    assert P.PART_NAMES == ("torso", "head", "right_thigh", "left_thigh", "right_shin",
                            "left_shin", "right_upper_arm", "left_upper_arm", "right_forearm",
                            "left_forearm")
    assert P.LIMB_ENDPOINTS[0] == (K.RHIP, K.RKNE) and P.LIMB_ENDPOINTS[7] == (K.LELB, K.LWRI)
    assert P.MASK_INC_TO == (0.1, 0.1, 0.5, 0.5, 0.1, 0.1, 0.5, 0.5)
    assert P.TRANSFORM_INC_TO == (0.1, 0.1, 0.3, 0.3, 0.1, 0.1, 0.3, 0.3)
    for k, (a, b) in enumerate(P.LIMB_ENDPOINTS):
        mk = P.PART_MIRROR[P.FIRST_LIMB + k] - P.FIRST_LIMB
        assert P.LIMB_ENDPOINTS[mk] == (K.MIRROR[a], K.MIRROR[b]) == P.LIMB_MIRROR_ENDPOINTS[k]


def test_vertical_limb_rectangle_by_hand() -> None:
    # start (10, 20), end (30, 20) (y, x), st = 50, inc_to = 0.5:
    # a = p0 - 0.1 (p1 - p0) = (8, 20); b = p1 + 0.5 (p1 - a) = (41, 20); half-width 10;
    # normal = +x for a limb pointing down.
    c = P.limb_rectangle(np.array([10.0, 20.0]), np.array([30.0, 20.0]), 50.0, 0.5)
    assert np.allclose(c, [[8, 30], [8, 10], [41, 10], [41, 30]], atol=1e-12)
    # horizontal limb pointing right (+x): normal = -y
    c = P.limb_rectangle(np.array([5.0, 0.0]), np.array([5.0, 10.0]), 10.0, 0.0)
    assert np.allclose(c, [[3, -1], [7, -1], [7, 10], [3, 10]], atol=1e-12)


def test_zero_length_limb_is_a_one_pixel_box() -> None:
    c = P.limb_rectangle(np.array([7.0, 9.0]), np.array([7.0, 9.0]), 40.0, 0.3)
    assert np.allclose(c, [[6, 10], [6, 8], [8, 8], [8, 10]])


def test_batched_rectangles_equal_single() -> None:
    rng = np.random.default_rng(1)
    p0, p1 = rng.uniform(0, 100, (2, 5, 8, 2))
    st = rng.uniform(10, 50, (5, 1))
    inc = np.array(P.TRANSFORM_INC_TO)
    batch = P.limb_rectangle(p0, p1, st, inc)
    assert batch.shape == (5, 8, 4, 2)
    for i in range(5):
        for k in range(8):
            assert np.array_equal(batch[i, k], P.limb_rectangle(p0[i, k], p1[i, k], st[i, 0],
                                                                inc[k]))


def test_part_masks_of_a_hand_made_pose() -> None:
    kp = hand_pose()
    st = K.torso_size(kp)
    masks = P.part_masks(kp, 256, 256)
    assert masks.shape == (10, 256, 256) and masks.dtype == bool
    assert masks[P.TORSO].all()
    # head: centre = int(mean of 5 head points), half-size int(0.4 st), rows [cy-r, cy+r)
    cy, cx = np.mean(kp[list(K.HEAD_POINTS)].astype(float), axis=0).astype(int)
    r = int(0.4 * st)
    box = np.zeros((256, 256), bool)
    box[cy - r:cy + r, cx - r:cx + r] = True
    assert np.array_equal(masks[P.HEAD], box)
    # a limb mask holds its whole segment and nothing beyond the rectangle
    for k, (a, b) in enumerate(P.LIMB_ENDPOINTS):
        m = masks[P.FIRST_LIMB + k]
        for t in np.linspace(0, 1, 11):
            y, x = np.round(kp[a] + t * (kp[b] - kp[a])).astype(int)
            assert m[y, x]
        c = P.limb_rectangle(kp[a], kp[b], st, P.MASK_INC_TO[k])
        rr, cc = skimage.draw.polygon(c[:, 0], c[:, 1], shape=(256, 256))
        ref = np.zeros((256, 256), bool)
        ref[rr, cc] = True
        assert (m & ref).sum() / (m | ref).sum() > 0.9
        ys, xs = np.nonzero(m)
        assert ys.min() >= np.floor(c[:, 0].min()) - 1 and ys.max() <= np.ceil(c[:, 0].max()) + 1
    assert np.array_equal(P.part_valid(kp), np.ones(10, bool))


def test_missing_parts_and_missing_torso() -> None:
    kp = hand_pose()
    kp[K.LWRI] = -1
    kp[list(K.HEAD_POINTS)] = -1
    valid = P.part_valid(kp)
    assert not valid[P.HEAD] and not valid[9] and valid[8] and valid[P.TORSO]
    masks = P.part_masks(kp, 256, 256)
    assert not masks[P.HEAD].any() and not masks[9].any() and masks[8].any()
    kp[K.RHIP] = -1                       # no torso size: nothing can be drawn
    assert not P.part_valid(kp).any()
    assert not P.part_masks(kp, 256, 256).any()
    assert P.head_box(kp, 256, 256) is None


def test_head_box_is_clipped_to_the_frame() -> None:
    kp = hand_pose()
    kp[list(K.HEAD_POINTS)] = -1
    kp[K.NOSE] = (2, 254)
    y0, y1, x0, x1 = P.head_box(kp, 256, 256)
    r = int(0.4 * K.torso_size(kp))
    assert (y0, y1, x0, x1) == (0, 2 + r, 254 - r, 256)


def test_bitfield_round_trip() -> None:
    kp = hand_pose()
    kp[K.RANK] = -1
    bf = P.part_bitfield(kp, 256, 256)
    assert bf.dtype == np.uint16 and bf.shape == (256, 256)
    masks = P.part_masks(kp, 256, 256)
    assert np.array_equal(P.bitfield_to_masks(bf), masks)
    for j in range(10):
        assert np.array_equal((bf >> j) & 1, masks[j])
    batch = P.bitfield_to_masks(np.stack([bf, bf]))
    assert batch.shape == (2, 10, 256, 256)


def test_part_valid_batch() -> None:
    kp = hand_pose()
    kp2 = kp.copy()
    kp2[K.LKNE] = -1
    v = P.part_valid(np.stack([kp, kp2]))
    assert v.shape == (2, 10)
    assert v[0].all() and not v[1, 3] and not v[1, 5] and v[1, 4]


def test_masks_match_skimage_polygon_on_real_poses() -> None:
    """cv2.fillPoly vs Deformable GAN's scikit-image rasterisation (median IoU ~0.97)."""
    kps = read_keypoint_file(DATA / "fasion-annotation-sample.csv").keypoints
    ious_all, ious_limbs = [], []
    for kp in kps:
        masks = P.part_masks(kp, 256, 256)
        valid = P.part_valid(kp)
        st = K.torso_size(kp)
        for j in np.flatnonzero(valid):
            ref = np.zeros((256, 256), bool)
            if j == P.TORSO:
                ref[:] = True
            elif j == P.HEAD:
                y0, y1, x0, x1 = P.head_box(kp, 256, 256)
                ref[y0:y1, x0:x1] = True
            else:
                a, b = P.LIMB_ENDPOINTS[j - P.FIRST_LIMB]
                c = P.limb_rectangle(kp[a], kp[b], st, P.MASK_INC_TO[j - P.FIRST_LIMB])
                rr, cc = skimage.draw.polygon(c[:, 0], c[:, 1], shape=(256, 256))
                ref[rr, cc] = True
            union = (ref | masks[j]).sum()
            if union == 0:
                continue
            iou = (ref & masks[j]).sum() / union
            ious_all.append(iou)
            if j >= P.FIRST_LIMB:
                ious_limbs.append(iou)
    print(f"median IoU vs skimage.draw.polygon: all parts {np.median(ious_all):.4f} "
          f"({len(ious_all)} masks), limbs {np.median(ious_limbs):.4f} ({len(ious_limbs)})")
    assert np.median(ious_limbs) > 0.95
    assert np.median(ious_all) > 0.96
