"""bench/pose_views.py: the swap rule and the side-view signals on hand-made landmarks."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pose_views import depth_agrees, mirrored_reading, signal_table, swapped  # noqa: E402

from pipeline.pose.mediapipe_detector import landmarks_to_openpose  # noqa: E402


def _landmarks(rng: np.random.Generator) -> np.ndarray:
    lms = np.zeros((33, 4))
    lms[:, 0] = rng.uniform(0.1, 0.9, 33)
    lms[:, 1] = rng.uniform(0.1, 0.9, 33)
    lms[:, 2] = rng.normal(0, 0.2, 33)
    lms[:, 3] = 0.9
    return lms


def test_mirrored_reading_maps_a_mirrored_detection_back() -> None:
    """MediaPipe reading the mirror image exactly: x -> 1 - x and left <-> right landmarks.
    Mapped back, it must equal the detection of the original image (a non-square frame and
    visibilities on both sides of the threshold, so that every argument matters)."""
    rng = np.random.default_rng(0)
    lms = _landmarks(rng)
    lms[:, 3] = rng.choice([0.3, 0.9], 33)
    # MediaPipe's own left/right landmark pairs (model card): eyes, ears, mouth, limbs.
    mp_mirror = np.arange(33)
    pairs = [(1, 4), (2, 5), (3, 6), (7, 8), (9, 10)] + [(a, a + 1) for a in range(11, 33, 2)]
    for a, b in pairs:
        mp_mirror[a], mp_mirror[b] = b, a
    flipped = lms[mp_mirror].copy()
    flipped[:, 0] = 1.0 - flipped[:, 0]
    want, _ = landmarks_to_openpose(lms[:, 0], lms[:, 1], lms[:, 3], 200, 320, 0.5)
    got = mirrored_reading(flipped, 200, 320, 0.5)
    assert (want < 0).any() and (want >= 0).any()
    np.testing.assert_allclose(got, want, atol=1e-3)


def test_depth_agrees_follows_facing_and_depth() -> None:
    lms = _landmarks(np.random.default_rng(1))
    lms[0, 0], lms[7, 0], lms[8, 0] = 0.6, 0.5, 0.5          # nose right of the ears
    lms[[12, 14, 16], 2], lms[[11, 13, 15], 2] = -0.3, 0.3    # right arm nearer
    assert depth_agrees(lms)
    lms[[12, 14, 16], 2], lms[[11, 13, 15], 2] = 0.3, -0.3    # left arm nearer: disagrees
    assert not depth_agrees(lms)
    lms[0, 0] = 0.4                                           # now facing left: agrees
    assert depth_agrees(lms)


def test_swapped_counts_limb_votes() -> None:
    sk = np.zeros((18, 2), np.float32)
    sk[:, 0] = np.arange(18) * 10.0
    sk[:, 1] = 100.0
    for r, l in ((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13)):
        sk[r, 1], sk[l, 1] = 80.0, 120.0
    assert not swapped(sk.copy(), sk, 256)
    crossed = sk.copy()
    crossed[[2, 3, 4, 8, 9, 10, 5, 6, 7, 11, 12, 13]] = sk[[5, 6, 7, 11, 12, 13, 2, 3, 4, 8, 9,
                                                            10]]
    assert swapped(crossed, sk, 256)


def test_signal_table_counts_side_views_only() -> None:
    side, front = 2, 0
    recs = [
        {"view": side, "found": True, "before": True, "depth_agrees": True,
         "mirror_found": True, "mirror_swapped": True},
        {"view": side, "found": True, "before": True, "depth_agrees": False,
         "mirror_found": True, "mirror_swapped": False},
        {"view": side, "found": True, "before": False, "depth_agrees": True,
         "mirror_found": True, "mirror_swapped": True},
        {"view": side, "found": True, "before": False, "depth_agrees": True,
         "mirror_found": False},
        {"view": side, "found": False},
        {"view": front, "found": True, "before": True, "depth_agrees": True,
         "mirror_found": True, "mirror_swapped": True},
    ]
    row = signal_table(recs).splitlines()[-1]
    assert row == "| 4 | 2 | 1 of 2 | 3 | 2 | 2 | 1 (33.3%) |"
