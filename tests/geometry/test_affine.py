"""Tests of pipeline.geometry.affine: OLS fits, part transforms, fallbacks, batching."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import skimage.transform

from pipeline.annotations import read_keypoint_file
from pipeline.geometry import affine as A
from pipeline.geometry import keypoints as K
from pipeline.geometry import parts as P
from tests.helpers import ANNOTATIONS, hand_pose

DATA = ANNOTATIONS


def ols_residual(affine: np.ndarray, dst_yx: np.ndarray, src_yx: np.ndarray) -> float:
    return float(np.sum((A.apply_affine(affine, dst_yx) - src_yx) ** 2))


def test_fit_affine_recovers_translation_and_scale() -> None:
    dst = np.array([[10.0, 20.0], [50.0, 22.0], [48.0, 70.0], [12.0, 65.0]])   # (y, x)
    # source = 2 * target + (x: +5, y: -3)
    src = np.stack([2 * dst[:, 0] - 3, 2 * dst[:, 1] + 5], axis=1)
    fit = A.fit_affine(dst, src)
    assert np.allclose(fit, [[2, 0, 5], [0, 2, -3]], atol=1e-10)
    assert A.fit_affine(dst, dst + [7.0, -4.0]) == pytest.approx(
        np.array([[1, 0, -4], [0, 1, 7]]), abs=1e-10)


def test_fit_affine_singular_cases() -> None:
    line = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [5.0, 5.0]])
    # collinear target: the similarity fallback (here a translation by +1 in y and x)
    np.testing.assert_allclose(A.fit_affine(line, line + 1), [[1, 0, 1], [0, 1, 1]], atol=1e-12)
    assert A.fit_affine(np.zeros((4, 2)), line) is None              # coincident target
    assert A.fit_affine(line[:2], line[:2]) is None                  # < 3 points
    tri = np.array([[0.0, 0.0], [0.0, 10.0], [10.0, 0.0]])
    assert A.fit_affine(tri, line[:3]) is None                       # collinear source: det 0
    assert A.fit_affine(tri, np.full((3, 2), np.nan)) is None
    out, ok = A.fit_affine_batch(np.stack([line, line]), np.stack([line, line]))
    assert ok.all() and np.array_equal(out[0], [[1, 0, 0], [0, 1, 0]])   # identity, exactly
    out, ok = A.fit_affine_batch(np.zeros((1, 4, 2)), line[None])
    assert not ok.any() and np.array_equal(out[0], A.NO_POINT)


def test_ols_vs_skimage_estimate_transform() -> None:
    rng = np.random.default_rng(0)
    worse = 0
    for _ in range(200):
        dst = rng.uniform(0, 256, (5, 2))
        true = np.array([[rng.uniform(0.5, 1.5), rng.uniform(-0.3, 0.3), rng.uniform(-20, 20)],
                         [rng.uniform(-0.3, 0.3), rng.uniform(0.5, 1.5), rng.uniform(-20, 20)]])
        src = A.apply_affine(true, dst)
        ols = A.fit_affine(dst, src)
        sk = skimage.transform.estimate_transform("affine", dst[:, ::-1], src[:, ::-1]).params
        assert np.allclose(ols, sk[:2], atol=1e-8)          # exact data: identical maps
        assert np.allclose(ols, true, atol=1e-8)
        noisy = src + rng.normal(0, 3, src.shape)
        ols = A.fit_affine(dst, noisy)
        sk = skimage.transform.estimate_transform("affine", dst[:, ::-1], noisy[:, ::-1]).params
        r_ols, r_sk = ols_residual(ols, dst, noisy), ols_residual(sk[:2], dst, noisy)
        assert r_ols <= r_sk + 1e-9
        worse += r_ols < r_sk - 1e-6
        # OLS = numpy lstsq on the design matrix; the batch closed form agrees
        out, ok = A.fit_affine_batch(dst, noisy)
        assert ok and np.allclose(out, ols, atol=1e-9)
    assert worse > 100   # skimage is strictly worse on most noisy fits


def test_identity_for_the_same_pose() -> None:
    kp = hand_pose()
    aff, valid = A.part_affines(kp, kp, 256, 256)
    assert aff.shape == (10, 2, 3) and valid.all()
    assert np.allclose(aff, np.eye(2, 3), atol=1e-9)
    kps = read_keypoint_file(DATA / "fasion-annotation-sample.csv").keypoints
    for kp in kps[:100]:
        aff, valid = A.part_affines(kp, kp)
        assert np.allclose(aff[valid], np.eye(2, 3), atol=1e-8)
        assert np.array_equal(valid[2:], P.part_valid(kp)[2:])


def test_known_translation_and_scale_between_poses() -> None:
    src = hand_pose().astype(np.float64)
    vis = K.visible(src)
    tgt = src.copy()
    tgt[vis] = src[vis] * 0.5 + [10.0, 20.0]          # target = source / 2 shifted (y+10, x+20)
    aff, valid = A.part_affines(src, tgt)
    expect = np.array([[2.0, 0.0, -40.0], [0.0, 2.0, -20.0]])   # maps target -> source
    assert valid.all()
    assert np.allclose(aff, expect, atol=1e-9)


def test_no_point_when_target_lacks_the_part() -> None:
    src = hand_pose()
    tgt = hand_pose()
    tgt[K.RWRI] = -1
    tgt[list(K.HEAD_POINTS)] = -1
    aff, valid = A.part_affines(src, tgt)
    assert not valid[8] and not valid[P.HEAD] and valid[9]
    assert np.array_equal(aff[8], A.NO_POINT) and np.array_equal(aff[P.HEAD], A.NO_POINT)
    # no common head point: the source has only the nose, the target only the ears
    src2, tgt2 = hand_pose(), hand_pose()
    src2[[K.LEYE, K.REYE, K.LEAR, K.REAR]] = -1
    tgt2[[K.NOSE, K.LEYE, K.REYE]] = -1
    assert not A.part_affines(src2, tgt2)[1][P.HEAD]


def test_collinear_head_points_fall_back_to_a_similarity() -> None:
    src, tgt = hand_pose(), hand_pose()
    for kp in (src, tgt):
        kp[list(K.HEAD_POINTS)] = -1
        kp[K.NOSE] = (70, 128)        # on the shoulder line y = 70
    tgt[:, 1] += 5.0                  # the target is the source moved 5 px right
    aff, valid = A.part_affines(src, tgt)
    assert valid[P.HEAD] and valid[P.TORSO]
    np.testing.assert_allclose(aff[P.HEAD], [[1, 0, -5], [0, 1, 0]], atol=1e-9)
    lst, _ = A.part_affines_lstsq(src, tgt)
    np.testing.assert_allclose(lst[P.HEAD], aff[P.HEAD], atol=1e-9)


def test_side_view_torso_is_kept_and_self_transform_is_identity() -> None:
    kp = hand_pose()
    kp[[K.RSHO, K.LSHO], 1] = 128.0   # side view: shoulders and hips on one vertical line
    kp[[K.RHIP, K.LHIP], 1] = 128.4
    aff, valid = A.part_affines(kp, kp)
    assert valid[P.TORSO]
    assert np.array_equal(aff[P.TORSO], [[1, 0, 0], [0, 1, 0]])


def test_mirrored_limb_fallback() -> None:
    src, tgt = hand_pose(), hand_pose()
    src[K.RWRI] = -1                                   # source lacks the right forearm
    aff, valid = A.part_affines(src, tgt)
    assert valid[8]
    st = K.torso_size(src)
    rect_t = P.limb_rectangle(tgt[K.RELB], tgt[K.RWRI], K.torso_size(tgt), 0.3)
    rect_s = P.limb_rectangle(src[K.LELB], src[K.LWRI], st, 0.3)   # the mirrored source limb
    assert np.allclose(aff[8], A.fit_affine(rect_t, rect_s), atol=1e-12)
    src[[K.LWRI]] = -1                                 # neither side: no point
    aff, valid = A.part_affines(src, tgt)
    assert not valid[8] and not valid[9] and np.array_equal(aff[8], A.NO_POINT)


def test_missing_torso_invalidates_torso_and_limbs() -> None:
    src, tgt = hand_pose(), hand_pose()
    tgt[K.LHIP] = -1
    aff, valid = A.part_affines(src, tgt)
    assert not valid[P.TORSO] and not valid[P.FIRST_LIMB:].any()
    assert valid[P.HEAD]                               # head needs only the shoulders


def random_drop(kps: np.ndarray, rng: np.random.Generator, p: float = 0.1) -> np.ndarray:
    out = kps.astype(np.float64).copy()
    out[rng.random(out.shape[:2]) < p] = -1
    return out


@pytest.mark.parametrize("name", ["fasion", "market"])
def test_batched_equals_single_on_real_poses(name: str) -> None:
    kps = read_keypoint_file(DATA / f"{name}-annotation-sample.csv").keypoints
    rng = np.random.default_rng(3)
    pool = np.concatenate([kps, random_drop(kps, rng)])
    layout = A.prepare_targets(pool[:300])
    n_valid = 0
    for i in rng.choice(len(pool), 12, replace=False):
        src = pool[i]
        aff_b, val_b = A.part_affines_batch(src, pool[:300], chunk=64)
        aff_l, val_l = A.part_affines_batch(src, layout)
        assert np.array_equal(aff_b, aff_l) and np.array_equal(val_b, val_l)
        for m in range(0, 300, 3):
            aff, valid = A.part_affines_lstsq(src, pool[m])
            assert np.array_equal(valid, val_b[m])
            assert np.max(np.abs(aff - aff_b[m])) <= 1e-9
            n_valid += valid.sum()
    assert n_valid > 1000


def test_batched_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    kps = read_keypoint_file(DATA / "fasion-annotation-sample.csv").keypoints
    targets = np.tile(kps, (50, 1, 1))                 # 20,000 targets
    layout = A.prepare_targets(targets)
    t0 = time.perf_counter()
    A.part_affines_batch(kps[0], targets)
    t1 = time.perf_counter()
    A.part_affines_batch(kps[0], layout)
    t2 = time.perf_counter()
    with capsys.disabled():
        print(f"\npart_affines_batch: {len(targets) / (t1 - t0):,.0f} pairs/s from keypoints, "
              f"{len(targets) / (t2 - t1):,.0f} pairs/s with prepared targets (one core)")
    assert len(targets) / (t2 - t1) > 20_000


def test_invert_apply_and_rescale() -> None:
    src, tgt = hand_pose(), hand_pose()
    tgt[:, 1] = np.where(tgt[:, 1] >= 0, tgt[:, 1] * 0.9 + 12, -1)
    aff, valid = A.part_affines(src, tgt)
    inv = A.invert_affine(aff[P.TORSO])
    pts = tgt[list(K.TORSO_POINTS)]
    assert np.allclose(A.apply_affine(inv, A.apply_affine(aff[P.TORSO], pts)), pts)
    # rescaling to 64 x 64 commutes with scaling the keypoints (OLS and the rectangles are
    # equivariant under an isotropic scaling + shift of both frames)
    s64, t64 = (K.scale_keypoints(k.astype(np.float64), (256, 256), (64, 64)) for k in (src, tgt))
    small = A.rescale_affine(aff, (256, 256), (64, 64))
    aff64, valid64 = A.part_affines(s64, t64)
    assert np.array_equal(valid, valid64)
    assert np.allclose(small[valid], aff64[valid], atol=1e-9)
    assert np.array_equal(A.rescale_affine(A.NO_POINT, (256, 256), (64, 64)), A.NO_POINT)
    # anisotropic: 256 x 256 -> 128 x 64 maps scaled target points onto scaled source points
    t_small = K.scale_keypoints(tgt.astype(np.float64), (256, 256), (128, 64))
    torso = list(K.TORSO_POINTS)
    full = A.apply_affine(aff[P.TORSO], tgt[torso])
    full_small = K.scale_keypoints(np.concatenate([full, np.zeros((14, 2))]), (256, 256),
                                   (128, 64))[:4]
    moved = A.apply_affine(A.rescale_affine(aff[P.TORSO], (256, 256), (128, 64)), t_small[torso])
    assert np.allclose(moved, full_small, atol=1e-5)


def test_single_pair_is_bit_identical_to_its_batch_row() -> None:
    """The search's reference (one pair) and fast (a batch) must sample the same pixels."""
    from pipeline.annotations import read_keypoint_file
    from tests.helpers import ANNOTATIONS

    kp = read_keypoint_file(ANNOTATIONS / "fasion-annotation-sample.csv").keypoints[:80]
    for src in kp[:6]:
        aff_b, val_b = A.part_affines_batch(src, kp)
        for m in range(len(kp)):
            aff, valid = A.part_affines(src, kp[m])
            assert np.array_equal(aff, aff_b[m]) and np.array_equal(valid, val_b[m])
