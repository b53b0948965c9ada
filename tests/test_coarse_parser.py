"""The weight-free coarse parser (pipeline.parsing.coarse) on synthetic people with exact
ground truth: validity of the maps, geometry of the labels, accuracy floor, fallbacks."""
from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest

from pipeline.config import SyntheticParams
from pipeline.geometry import torso_size, visible
from pipeline.geometry.keypoints import LHIP, RHIP
from pipeline.labels import (
    BACKGROUND, FACE, HAIR, LEFT_ARM, NUM_LABELS, RIGHT_ARM, UPPERCLOTHES)
from pipeline.parsing.coarse import (
    CoarseParser, SkinModel, coarse_parse, coarse_parse_with_info, geometric_silhouette,
    person_mask, refine_silhouette)
from pipeline.synthetic import generate
from tests.conftest import ANNOTATIONS

SIZE = 256
# mIoU (9 person labels, dataset-level IoU) of coarse_parse with the ground-truth silhouette
# on the dataset below, measured 0.734; the floor leaves a 0.05 margin.
MIOU_FLOOR = 0.68
HEAD_POINTS = [0, 14, 15, 16, 17]


@pytest.fixture(scope="module")
def ds():
    """8 identities x 3 poses at 256 x 256, seed 0, half the poses from the real file."""
    params = SyntheticParams(identities=8, poses_per_identity=3, seed=0,
                             real_poses=str(ANNOTATIONS / "fasion-annotation-sample.csv"))
    return generate(params, SIZE, SIZE)


@pytest.fixture(scope="module")
def parsed(ds):
    """coarse_parse of every image with its ground-truth silhouette."""
    return np.stack([coarse_parse(im, kp, lab > 0)
                     for im, kp, lab in zip(ds.images, ds.keypoints, ds.labels)])


def _torso_ok(kp: np.ndarray) -> bool:
    return bool(np.isfinite(torso_size(kp)))


def _miou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean over labels 1..9 of the dataset-level IoU (labels absent from both skipped)."""
    ious = []
    for label in range(1, NUM_LABELS):
        p, g = pred == label, gt == label
        union = np.count_nonzero(p | g)
        if union:
            ious.append(np.count_nonzero(p & g) / union)
    return float(np.mean(ious))


def test_labels_valid_and_background_exactly_outside_mask(ds, parsed):
    assert parsed.dtype == np.uint8 and parsed.shape == ds.labels.shape
    assert parsed.max() < NUM_LABELS
    np.testing.assert_array_equal(parsed == BACKGROUND, ds.labels == 0)


def test_miou_above_floor(ds, parsed):
    assert _miou(parsed, ds.labels) > MIOU_FLOOR


def test_face_and_hair_near_the_head(ds, parsed):
    checked = 0
    for kp, lab in zip(ds.keypoints, parsed):
        vis = visible(kp)
        heads = [h for h in HEAD_POINTS if vis[h]]
        if not heads or not _torso_ok(kp):
            continue
        centre = kp[heads].mean(axis=0)
        st = torso_size(kp)
        for label, reach in ((FACE, 0.8), (HAIR, 1.3)):   # face: + neck; hair: + long hair
            ys, xs = np.nonzero(lab == label)
            if len(ys):
                dist = np.hypot(ys - centre[0], xs - centre[1])
                assert np.quantile(dist, 0.95) < reach * st, (label, checked)
        checked += 1
    assert checked >= 10


def test_arms_on_the_persons_own_side(ds, parsed):
    """Predicted arm pixels that are arm pixels in the ground truth carry the right side, and
    in front views (person's left on the image's right) the left arm lies right of the right
    arm."""
    gt_arm = np.isin(ds.labels, [LEFT_ARM, RIGHT_ARM])
    for label in (LEFT_ARM, RIGHT_ARM):
        hit = (parsed == label) & gt_arm
        assert np.mean(ds.labels[hit] == label) > 0.9
    front_checked = 0
    for lab, view in zip(parsed, ds.views):
        if view == 0 and (lab == LEFT_ARM).sum() > 20 and (lab == RIGHT_ARM).sum() > 20:
            assert np.argwhere(lab == LEFT_ARM)[:, 1].mean() > \
                np.argwhere(lab == RIGHT_ARM)[:, 1].mean()
            front_checked += 1
    assert front_checked >= 3


def test_pose_without_torso_gives_upperclothes(ds):
    im, kp, lab = ds.images[0], ds.keypoints[0].copy(), ds.labels[0]
    kp[[RHIP, LHIP]] = -1.0
    out, info = coarse_parse_with_info(im, kp, lab > 0)
    assert set(np.unique(out[lab > 0])) == {UPPERCLOTHES}
    assert (out[lab == 0] == BACKGROUND).all() and info.skin_model == "none"
    empty = coarse_parse(im, np.full((18, 2), -1.0), lab > 0)
    assert set(np.unique(empty)) == {BACKGROUND, UPPERCLOTHES}


def test_empty_mask_and_bad_shapes(ds):
    im, kp = ds.images[0], ds.keypoints[0]
    assert not coarse_parse(im, kp, np.zeros((SIZE, SIZE), bool)).any()
    with pytest.raises(ValueError):
        coarse_parse(im, kp, np.ones((SIZE, SIZE - 1), bool))
    with pytest.raises(ValueError):
        coarse_parse(im[..., 0], kp, np.ones((SIZE, SIZE), bool))
    with pytest.raises(ValueError):
        coarse_parse(im, kp[:17], np.ones((SIZE, SIZE), bool))


def test_person_mask_sources_and_fallbacks(ds):
    im, kp, lab = ds.images[1], ds.keypoints[1], ds.labels[1]
    truth = lab > 0
    geo = geometric_silhouette(kp, SIZE, SIZE)
    assert geo.any() and np.count_nonzero(geo & truth) > 0.8 * truth.sum()
    seg = truth.astype(np.float32)
    mask, src = person_mask(seg, kp, SIZE, SIZE)
    assert src == "segmentation" and (mask == truth).all()
    elsewhere = np.roll(seg, SIZE // 2, axis=1)                 # somebody else's mask
    assert person_mask(elsewhere, kp, SIZE, SIZE)[1] == "geometry"
    assert person_mask(None, kp, SIZE, SIZE)[1] == "geometry"
    refined, src = person_mask(None, kp, SIZE, SIZE, image=im)
    assert src == "grabcut"
    iou = lambda m: np.count_nonzero(m & truth) / np.count_nonzero(m | truth)  # noqa: E731
    assert iou(refined) > iou(geo)
    cv2.randu(np.zeros(8), 0, 1)                               # move OpenCV's RNG on
    np.testing.assert_array_equal(refine_silhouette(im, kp, geo), refined)   # reproducible
    no_torso = np.full((18, 2), -1.0)
    assert not geometric_silhouette(no_torso, SIZE, SIZE).any()
    assert not refine_silhouette(im, no_torso, np.zeros((SIZE, SIZE), bool)).any()


def test_skin_model_accepts_its_colour_and_rejects_others():
    rng = np.random.default_rng(0)
    skin = np.array([170.0, 145.0, 150.0]) + rng.normal(0, 2, (200, 3))
    model = SkinModel.fit(skin)
    assert model(skin).mean() > 0.95
    others = np.array([[170.0, 128.0, 128.0], [60.0, 140.0, 135.0], [170.0, 170.0, 120.0]])
    assert not model(others).any()


@pytest.mark.parametrize("index", [2, 5])   # MediaPipe finds #2; it missed #5 when written
def test_coarse_parser_end_to_end(ds, index):
    pytest.importorskip("mediapipe")
    im, kp = ds.images[index], ds.keypoints[index]
    with CoarseParser() as parser:
        labels, info = parser.parse_with_info(im, kp)
        assert labels.shape == (SIZE, SIZE) and labels.dtype == np.uint8
        assert labels.max() < NUM_LABELS and (labels > 0).any()
        assert info.mask_source in ("segmentation", "grabcut")
        np.testing.assert_array_equal(parser.parse(im, kp), labels)
        clone = pickle.loads(pickle.dumps(parser))
    np.testing.assert_array_equal(clone.parse(im, kp), labels)
    clone.close()
    if info.mask_source == "grabcut":          # MediaPipe missed the cartoon: fallback used
        truth = ds.labels[index] > 0
        assert np.count_nonzero((labels > 0) & truth) > 0.5 * truth.sum()


def test_coarse_parser_without_person_uses_fallback(ds):
    pytest.importorskip("mediapipe")
    blank = np.full((SIZE, SIZE, 3), 128, np.uint8)           # nobody for MediaPipe to find
    with CoarseParser(grabcut=False) as parser:
        labels, info = parser.parse_with_info(blank, ds.keypoints[0])
    assert info.mask_source == "geometry"
    np.testing.assert_array_equal(labels > 0, geometric_silhouette(ds.keypoints[0], SIZE, SIZE))
