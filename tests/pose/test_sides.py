"""The left/right side check of MediaPipe detections (pipeline.pose.sides)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.labels import KEYPOINT_MIRROR
from pipeline.pose import sides as S

H = W = 200
SKIN, HAIR, SHIRT = (200, 150, 120), (60, 40, 20), (30, 60, 160)


def _landmarks(front: bool = True, ears: float = 40.0, shoulders: float = 100.0,
               nose_z: float = -0.3) -> np.ndarray:
    """(33, 4) landmarks of an upright person centred at x = 100 px: head at y 40, shoulders at
    y 80, hips at y 150, hands at y 160; MediaPipe's left on the image's right when ``front``."""
    lm = np.zeros((33, 4))
    lm[:, 3] = 1.0
    s = 1 if front else -1

    def put(i: int, x: float, y: float, z: float = 0.0) -> None:
        lm[i, :3] = (x / W, y / H, z)

    put(S.MP_NOSE, 100, 40, nose_z)
    put(S.MP_LEFT_EYE, 100 + s * 8, 34)
    put(S.MP_RIGHT_EYE, 100 - s * 8, 34)
    put(S.MP_LEFT_EAR, 100 + s * ears / 2, 36)
    put(S.MP_RIGHT_EAR, 100 - s * ears / 2, 36)
    put(S.MP_LEFT_SHOULDER, 100 + s * shoulders / 2, 80)
    put(S.MP_RIGHT_SHOULDER, 100 - s * shoulders / 2, 80)
    put(S.MP_LEFT_HIP, 100 + s * 30, 150)
    put(S.MP_RIGHT_HIP, 100 - s * 30, 150)
    for (wrist, index), x in zip(S.MP_HANDS, (100 + s * 60, 100 - s * 60)):
        put(wrist, x, 156)
        put(index, x, 164)
    return lm


def _image(face: tuple[int, int, int]) -> np.ndarray:
    """Hair on the top of the head (y < 30), ``face`` below it, skin-coloured hands."""
    im = np.full((H, W, 3), 230, np.uint8)
    im[70:150, 50:150] = SHIRT
    im[5:30, 70:130] = HAIR
    im[30:60, 70:130] = face
    for x in (40, 160):
        im[150:170, x - 5:x + 6] = SKIN
    return im


def _lab(rgb: tuple[int, int, int]) -> np.ndarray:
    return cv2.cvtColor(np.array([[rgb]], np.uint8), cv2.COLOR_RGB2LAB)[0, 0].astype(np.float64)


def test_head_colours_are_lab_distances_of_the_painted_patches():
    lm = _landmarks()
    to_top, to_hand = S.head_colours(_image(SKIN), lm[:, 0] * W, lm[:, 1] * H)
    # ears 40 px apart, shoulders 100 -> s = 20; face patch at y 37 (skin), top patch at
    # y 36 - 18 = 18 (hair), hand patches at y 160 (skin)
    assert to_top == pytest.approx(np.linalg.norm(_lab(SKIN) - _lab(HAIR)), abs=1e-4)
    assert to_hand == pytest.approx(0.0, abs=1e-6)


def test_a_front_view_with_a_face_is_kept():
    check = S.check_sides(_landmarks(ears=20.0), _image(SKIN))
    assert not check.flip and not check.uncertain and check.reason == "front"


def test_hair_where_the_face_should_be_and_close_ears_is_a_mirrored_back_view():
    check = S.check_sides(_landmarks(ears=20.0), _image(HAIR))
    assert check.flip and not check.uncertain and check.reason == "mirrored back"
    assert check.contrast == pytest.approx(0.0) and check.skin > S.BACK_SKIN_DISTANCE


def test_two_of_three_back_cues_leave_the_sides_uncertain():
    # hair-coloured face unlike the hands, but the ears 0.4 shoulder widths apart
    check = S.check_sides(_landmarks(ears=40.0), _image(HAIR))
    assert not check.flip and check.uncertain and check.reason == "weak cue"


def test_a_detection_read_as_a_back_view_is_kept_whatever_the_head():
    check = S.check_sides(_landmarks(front=False, ears=20.0, nose_z=0.3), _image(HAIR))
    assert not check.flip and not check.uncertain and check.reason == "back"
    # shoulders on the front side but the nose behind them: MediaPipe did not read a front view
    check = S.check_sides(_landmarks(ears=20.0, nose_z=0.3), _image(HAIR))
    assert not check.flip and check.reason == "back"


def test_a_side_view_is_uncertain():
    # shoulder gap 20 px, torso 70 px: under 0.35 torso lengths
    check = S.check_sides(_landmarks(shoulders=20.0), _image(SKIN))
    assert not check.flip and check.uncertain and check.reason == "side"


def test_apply_swaps_pairs_and_halves_sided_confidence():
    kp = np.arange(36, dtype=np.float32).reshape(18, 2)
    conf = np.linspace(0.5, 1.0, 18, dtype=np.float32)
    k2, c2 = S.apply_side_check(kp, conf, S.SideCheck(True, False, "mirrored back"))
    np.testing.assert_array_equal(k2[2], kp[5])          # Rsho <- Lsho
    np.testing.assert_array_equal(k2[14], kp[15])        # Reye <- Leye
    np.testing.assert_array_equal(k2[[0, 1]], kp[[0, 1]])
    np.testing.assert_array_equal(c2, conf[KEYPOINT_MIRROR])
    k3, c3 = S.apply_side_check(kp, conf, S.SideCheck(False, True, "side"))
    np.testing.assert_array_equal(k3, kp)
    assert list(S.SIDED_POINTS) == [i for i in range(18) if i not in (0, 1)]
    np.testing.assert_allclose(c3[S.SIDED_POINTS], conf[S.SIDED_POINTS] * S.UNCERTAIN_FACTOR)
    np.testing.assert_array_equal(c3[[0, 1]], conf[[0, 1]])
    k4, c4 = S.apply_side_check(kp, conf, S.SideCheck(False, False, "front"))
    np.testing.assert_array_equal(k4, kp)
    np.testing.assert_array_equal(c4, conf)


@pytest.fixture(scope="module")
def synthetic_identity():
    """Identity 1 of generator seed 1 at 256 px: poses 0 (front) and 4 (a back view that
    MediaPipe 0.10.21 reads as a front view; bench/pose_views.py)."""
    from pipeline.config.data import SyntheticParams
    from pipeline.synthetic.dataset import generate_identity, real_pose_pool
    from tests.helpers import REPO
    params = SyntheticParams(seed=1, identities=100, poses_per_identity=6,
                             real_poses=str(REPO / "data/annotations/fasion-annotation-sample.csv"))
    return generate_identity(params, 1, 256, 256, real_pose_pool(params, 256, 256))


def _limb_error(kp: np.ndarray, skeleton: np.ndarray) -> float:
    """Summed distance of the detected shoulders, hips, knees and ankles to the truth."""
    idx = [2, 5, 8, 11, 9, 12, 10, 13]
    ok = [i for i in idx if kp[i, 0] >= 0]
    return float(sum(np.linalg.norm(kp[i] - skeleton[i]) for i in ok))


def test_mediapipe_mirrored_back_view_is_given_back_its_sides(synthetic_identity):
    pytest.importorskip("mediapipe")
    from pipeline.pose.mediapipe_detector import MediaPipeDetector
    ident = synthetic_identity
    assert list(ident.views[[0, 4]]) == [0, 1]           # front, back
    with MediaPipeDetector() as plain, MediaPipeDetector(side_check=True) as checked:
        raw, fixed = plain.detect(ident.images[4]), checked.detect(ident.images[4])
        front = checked.detect(ident.images[0])
    assert plain.detect(ident.images[4]).side is None
    assert fixed.side is not None and fixed.side.flip
    np.testing.assert_array_equal(fixed.keypoints, raw.keypoints[KEYPOINT_MIRROR])
    sk = ident.skeletons[4]
    assert _limb_error(fixed.keypoints, sk) < 0.5 * _limb_error(raw.keypoints, sk)
    assert front.side is not None and not front.side.flip and not front.side.uncertain
