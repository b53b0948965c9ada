"""Tests of pipeline.geometry.keypoints: names, visibility, torso size, mirroring, heatmaps."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.geometry import keypoints as K
from tests.helpers import hand_pose


def test_names_and_indices_follow_spec_order() -> None:
    assert K.KEYPOINT_NAMES[:8] == ("nose", "neck", "Rsho", "Relb", "Rwri", "Lsho", "Lelb",
                                    "Lwri")
    assert K.KEYPOINT_NAMES[14:] == ("Reye", "Leye", "Rear", "Lear")  # OpenPose order
    assert len(K.KEYPOINT_NAMES) == K.NUM_KEYPOINTS == 18
    assert (K.RHIP, K.LHIP, K.LSHO, K.RSHO) == K.TORSO_POINTS == (8, 11, 5, 2)
    with pytest.raises(TypeError):
        K.KP["nose"] = 3  # read-only mapping


def test_mirror_swaps_sides_and_is_an_involution() -> None:
    assert np.array_equal(K.MIRROR[K.MIRROR], np.arange(18))
    for i, name in enumerate(K.KEYPOINT_NAMES):
        other = K.KEYPOINT_NAMES[K.MIRROR[i]]
        if name[0] in "RL" and name[1:] != "":
            assert other == {"R": "L", "L": "R"}[name[0]] + name[1:]
        else:
            assert other == name


def test_visible_single_and_batch() -> None:
    kp = hand_pose()
    kp[3] = (-1, -1)
    kp[4] = (10, -1)      # one negative coordinate is enough to be missing
    v = K.visible(kp)
    assert v.shape == (18,) and v.sum() == 16 and not v[3] and not v[4]
    assert K.visible(np.stack([kp, hand_pose()])).shape == (2, 18)


def test_torso_size_by_hand() -> None:
    kp = hand_pose()
    # |Rhip-Rsho|^2 = 80^2 + 10^2, |Lhip-Lsho|^2 = 80^2 + 10^2
    assert K.torso_size(kp) == pytest.approx(math.sqrt(6500.0))
    kp2 = kp.copy()
    kp2[K.RSHO] = (10, 10)
    kp2[K.RHIP] = (40, 10)
    kp2[K.LSHO] = (10, 30)
    kp2[K.LHIP] = (50, 30)
    assert K.torso_size(kp2) == pytest.approx(math.sqrt((900 + 1600) / 2))
    kp2[K.LHIP] = -1
    assert math.isnan(K.torso_size(kp2))
    batch = K.torso_size(np.stack([kp, kp2]))
    assert batch.shape == (2,) and batch[0] == pytest.approx(math.sqrt(6500)) and np.isnan(batch[1])
    assert K.torso_valid(kp) and not K.torso_valid(kp2)


def test_mirror_lr_and_flip_horizontal() -> None:
    kp = hand_pose()
    kp[K.LWRI] = -1
    m = K.mirror_lr(kp)
    assert np.array_equal(m[K.RSHO], kp[K.LSHO]) and np.all(m[K.RWRI] == -1)
    f = K.flip_horizontal(kp, 256)
    # the person's right shoulder of the flipped image is the old left shoulder, moved in x
    assert tuple(f[K.RSHO]) == (70, 255 - 156)
    assert np.all(f[K.RWRI] == -1)
    assert np.array_equal(K.flip_horizontal(f, 256), kp)


def test_scale_keypoints_keeps_missing_and_round_trips() -> None:
    kp = hand_pose()
    kp[K.LEAR] = -1
    s = K.scale_keypoints(kp, (256, 256), (64, 32))
    assert np.all(s[K.LEAR] == -1)
    assert s[K.NOSE] == pytest.approx(((40 + 0.5) / 4 - 0.5, (128 + 0.5) / 8 - 0.5))
    back = K.scale_keypoints(s, (64, 32), (256, 256))
    assert np.allclose(back[K.visible(kp)], kp[K.visible(kp)], atol=1e-4)
    edge = np.zeros((18, 2), np.float32)                 # points on the top-left pixel
    assert np.all(K.scale_keypoints(edge, (256, 256), (64, 64)) == 0)  # stay present


def test_pose_heatmaps() -> None:
    kp = hand_pose()
    kp[K.REAR] = -1
    assert K.sigma_for(256) == 6.0 and K.sigma_for(128) == 3.0
    hm = K.pose_heatmaps(kp, 256, 256)
    assert hm.shape == (18, 256, 256) and hm.dtype == np.float32
    assert hm[K.NOSE, 40, 128] == pytest.approx(1.0)
    assert hm[K.NOSE, 40, 134] == pytest.approx(math.exp(-0.5), rel=1e-6)   # 1 sigma away
    assert hm[K.NOSE].argmax() == 40 * 256 + 128
    assert not hm[K.REAR].any()
    batch = K.pose_heatmaps(np.stack([kp, kp]), 64, 32, sigma=2.0)
    assert batch.shape == (2, 18, 64, 32)
    yy, xx = np.mgrid[:64, :32]
    ref = np.exp(-((yy - 40) ** 2 + (xx - 20) ** 2) / (2 * 2.0 ** 2))
    kp2 = kp.copy()
    kp2[K.NOSE] = (40, 20)
    assert np.allclose(K.pose_heatmaps(kp2, 64, 32, 2.0)[K.NOSE], ref, atol=1e-6)
