"""Tests of pipeline.geometry.pose_mask against a literal port of PG2's getPoseMask."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage.morphology import dilation, erosion, footprint_rectangle

from pipeline.annotations import read_keypoint_file
from pipeline.geometry import keypoints as K
from pipeline.geometry.pose_mask import POSE_MASK_LIMBS, disc_offsets, pose_mask
from tests.helpers import ANNOTATIONS, hand_pose

DATA = ANNOTATIONS


def reference_pose_mask(kp: np.ndarray, height: int, width: int, radius: int = 4) -> np.ndarray:
    """Literal port of the authors' util/getPoseMask.py (Solid mode), 0-based limbs."""
    dense = np.zeros((height, width))

    def stamp(r: float, c: float) -> None:
        r, c = int(r), int(c)
        for i in range(-radius, radius + 1):
            for j in range(-radius, radius + 1):
                if np.sqrt(float(i ** 2 + j ** 2)) <= radius and 0 <= r + i < height \
                        and 0 <= c + j < width:
                    dense[r + i, c + j] = 1

    for a, b in POSE_MASK_LIMBS:
        p0, p1 = kp[a], kp[b]
        if p0[0] == -1 or p0[1] == -1 or p1[0] == -1 or p1[1] == -1:
            continue
        r0, c0, r1, c1 = float(p0[0]), float(p0[1]), float(p1[0]), float(p1[1])
        stamp(r0, c0)
        stamp(r1, c1)
        n = int(np.sqrt((r0 - r1) ** 2 + (c0 - c1) ** 2) / radius)
        if n > 1:
            for i in range(1, n):
                stamp(r0 + (r1 - r0) * i / n, c0 + (c1 - c0) * i / n)
    dense = dilation(dense, footprint_rectangle((5, 5)))
    dense = erosion(dense, footprint_rectangle((5, 5)))
    return dense > 0


def test_limbs_are_the_23_of_spec() -> None:
    assert len(POSE_MASK_LIMBS) == 23
    assert POSE_MASK_LIMBS[0] == (1, 2) and POSE_MASK_LIMBS[-1] == (16, 17)
    assert disc_offsets(4).sum() == 49      # lattice points with i^2 + j^2 <= 16


@pytest.mark.parametrize("name,hw", [("fasion", (256, 256)), ("market", (128, 64))])
def test_equals_reference_on_real_poses(name: str, hw: tuple[int, int]) -> None:
    kps = read_keypoint_file(DATA / f"{name}-annotation-sample.csv").keypoints
    rng = np.random.default_rng(0)
    for i in rng.choice(len(kps), 12, replace=False):
        assert np.array_equal(pose_mask(kps[i], *hw), reference_pose_mask(kps[i], *hw))


def test_points_near_and_outside_the_border() -> None:
    kp = hand_pose().astype(np.float64)
    kp[K.RANK] = (253.0, 107.0)
    kp[K.LANK] = (258.5, 149.0)             # annotated just below the frame
    kp[K.NOSE] = (1.0, 128.0)
    kp[K.LWRI] = (150.7, 0.2)
    assert np.array_equal(pose_mask(kp, 256, 256), reference_pose_mask(kp, 256, 256))


def test_empty_and_single_limb() -> None:
    kp = np.full((18, 2), -1.0)
    assert not pose_mask(kp, 64, 64).any()
    kp[K.RSHO] = (20, 20)
    assert not pose_mask(kp, 64, 64).any()  # one point: no limb
    kp[K.RELB] = (40, 20)
    m = pose_mask(kp, 64, 64)
    assert m[20:41, 20].all() and m[30, 16] and not m[30, 25] and m.shape == (64, 64)
    assert np.array_equal(m, reference_pose_mask(kp, 64, 64))
