"""PCKh as Pose-Transfer's calPCKH scripts compute it, on hand-made poses (values by hand)."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.labels import KEYPOINT_NAMES
from pipeline.metrics.pckh import PckhScores, head_sizes, pckh, per_joint_by_name

K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


def _pose(points: dict[str, tuple[float, float]]) -> np.ndarray:
    kp = np.full((18, 2), -1.0, np.float32)
    for name, yx in points.items():
        kp[K[name]] = yx
    return kp


#: Truth of image A: head points nose, neck, Reye, Leye -> box y 8..30 (h = 22), x 16..24
#: (w = 8); at alpha 0.5 a point is right when |dy| < 11 and |dx| < 4.
TRUE_A = _pose({"nose": (10, 20), "neck": (30, 20), "Reye": (8, 16), "Leye": (8, 24),
                "Rsho": (30, 10), "Lsho": (30, 30)})
PRED_A = _pose({"nose": (10, 20),            # exact: right
                "neck": (40, 20),            # dy 10 < 11: right
                "Reye": (8, 20),             # dx 4, not < 4 (strict): wrong
                # Leye missing: wrong
                "Rsho": (40.9, 13.9),        # dy 10.9, dx 3.9: right
                "Lsho": (45, 30),            # dy 15: wrong
                "Rhip": (50, 50)})           # not in the truth: not counted
#: Image B has one head point (the neck): no head size, left out whatever is predicted.
TRUE_B = _pose({"neck": (30, 20), "Rsho": (30, 10), "Rhip": (60, 12)})
PRED_B = TRUE_B.copy()


def test_hand_computed_pckh_at_half_a_head():
    r = pckh(np.stack([PRED_A, PRED_B]), np.stack([TRUE_A, TRUE_B]))
    assert (r["correct"], r["counted"]) == (3, 6) and r["pckh"] == pytest.approx(0.5)
    assert (r["images"], r["no_head_size"]) == (1, 1)
    joints = per_joint_by_name(r)
    assert joints["nose"] == joints["neck"] == joints["Rsho"] == 1.0
    assert joints["Reye"] == joints["Leye"] == joints["Lsho"] == 0.0
    assert joints["Rhip"] is None and len(r["per_joint"]) == 18


def test_alpha_scales_the_head_box():
    # alpha 1: |dy| < 22, |dx| < 8 -> Reye (dx 4) and Lsho (dy 15) become right; Leye stays
    # missing
    r = pckh(PRED_A[None], TRUE_A[None], alpha=1.0)
    assert (r["correct"], r["counted"]) == (5, 6)
    r = pckh(PRED_A[None], TRUE_A[None], alpha=0.1)   # |dy| < 2.2, |dx| < 0.8: only the nose
    assert r["correct"] == 1


def test_head_size_is_the_box_of_present_head_points():
    sizes = head_sizes(np.stack([TRUE_A, TRUE_B]))
    assert sizes[0].tolist() == [22.0, 8.0] and np.isnan(sizes[1]).all()


def test_a_flat_head_box_makes_every_point_wrong():
    true = _pose({"nose": (10, 20), "neck": (30, 20), "Rsho": (30, 10)})   # w = 0
    r = pckh(true[None], true[None])
    assert (r["correct"], r["counted"]) == (0, 3)


def test_perfect_prediction_and_nothing_counted():
    r = pckh(TRUE_A[None], TRUE_A[None])
    assert r["pckh"] == 1.0 and r["correct"] == r["counted"] == 6
    empty = pckh(TRUE_B[None], TRUE_B[None])
    assert empty["pckh"] is None and empty["counted"] == 0


def test_bad_shapes_are_errors():
    with pytest.raises(ValueError, match="pred must be \\(N, 18, 2\\)"):
        pckh(np.zeros((2, 17, 2)), np.zeros((2, 18, 2)))
    with pytest.raises(ValueError, match="differ in shape"):
        pckh(np.zeros((2, 18, 2)), np.zeros((3, 18, 2)))
    with pytest.raises(ValueError, match="alpha"):
        pckh(TRUE_A[None], TRUE_A[None], alpha=0)


def test_accumulator_pools_batches_like_one_call():
    scores = PckhScores()
    assert scores.result()["pckh"] is None
    scores.update(PRED_A[None], TRUE_A[None])
    scores.update(PRED_B[None], TRUE_B[None])
    one = pckh(np.stack([PRED_A, PRED_B]), np.stack([TRUE_A, TRUE_B]))
    assert scores.result() == one
