"""Persons from the prepared data and from arrays give exactly the datasets' pair items;
framing moves keypoints with the pixels; bad persons are refused with one line."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.applications.errors import AppError
from pipeline.applications.framing import Framing, keypoint_box, person_box, work_frame
from pipeline.applications.person import Readers, check_labels, person_from_arrays, require_torso
from pipeline.artifacts.codes import STATUS_OK
from pipeline.artifacts.reader import Artifact
from pipeline.datasets import PseudoPairDataset, TestPairDataset
from pipeline.datasets.pairs import PersonArrays, pair_item
from pipeline.geometry import KP, scale_keypoints
from tests.helpers import hand_pose

MAP = (32, 32)
IMG = (48, 32)


def _assert_same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key


def test_prepared_and_array_persons_give_the_test_pair_items(tiny_prepared):
    ds = TestPairDataset(tiny_prepared, MAP, IMG, cycle=True)
    with Readers(tiny_prepared, work_frame(IMG)) as readers:
        for i in range(len(ds)):
            src, tgt = (int(v) for v in ds.pairs[i])
            a, b = readers.person(f"prepared:{src}"), readers.person(f"prepared:{tgt}")
            want = ds[i]
            _assert_same(pair_item(a.arrays, b.arrays, MAP, IMG, True, src, tgt), want)
            # from in-memory arrays: parts and pose mask drawn again by the geometry
            a2 = person_from_arrays(a.image, a.keypoints, a.labels)
            b2 = person_from_arrays(b.image, b.keypoints, b.labels)
            assert np.array_equal(a2.arrays.parts, a.arrays.parts)
            assert np.array_equal(a2.arrays.pose_mask, a.arrays.pose_mask)
            _assert_same(pair_item(a2.arrays, b2.arrays, MAP, IMG, True, src, tgt), want)


def test_pseudo_pair_items_from_arrays(tiny_prepared):
    ds = PseudoPairDataset(tiny_prepared, MAP, IMG, cycle=True)
    pseudo = Artifact(tiny_prepared / "pseudo.h5")
    parts = Artifact(tiny_prepared / "masks.h5")["parts"]
    rows = np.flatnonzero(pseudo["status"][:] == STATUS_OK)
    with Readers(tiny_prepared, work_frame(IMG)) as readers:
        for i, row in enumerate(rows):
            c = int(pseudo["target_index"][row])
            target = PersonArrays(pseudo["target_keypoints"][row],
                                  pseudo["target_pose_mask"][row],
                                  pseudo["target_labels"][row], parts[c])
            got = pair_item(readers.person(f"prepared:{row}").arrays, target, MAP, IMG, True,
                            int(row), c)
            _assert_same(got, ds[i])


def test_prepared_person_by_name_and_bad_rows(tiny_prepared):
    with Readers(tiny_prepared, (256, 256)) as readers:
        name = Artifact(tiny_prepared / "images.h5").names[3]
        by_name, by_row = readers.person(f"prepared:{name}"), readers.person("prepared:3")
        assert by_name.info["row"] == 3
        assert np.array_equal(by_name.image, by_row.image)
        with pytest.raises(AppError, match=r"images.h5: prepared:99: no row 99"):
            readers.person("prepared:99")
        with pytest.raises(AppError, match="no image named 'nobody.png'"):
            readers.person("prepared:nobody.png")


def test_a_pose_without_torso_is_refused():
    kp = hand_pose()
    require_torso(kp, "x")
    kp[KP["Lhip"]] = -1
    with pytest.raises(AppError, match=r"^pose.json: the pose has no torso \(Lhip missing"):
        require_torso(kp, "pose.json")
    image = np.zeros((256, 256, 3), np.uint8)
    with pytest.raises(AppError, match="no torso"):
        person_from_arrays(image, kp, np.zeros((256, 256), np.uint8), "arrays")


def test_label_maps_are_checked():
    ok = np.arange(100, dtype=np.uint8).reshape(10, 10) % 10
    assert np.array_equal(check_labels(ok, (10, 10), "m.png"), ok)
    with pytest.raises(AppError, match=r"^m.png: the label map is 10x10 \(HxW\) but the "
                                       r"person's frame is 12x10"):
        check_labels(ok, (12, 10), "m.png")
    bad = ok.copy()
    bad[0, :3] = (12, 255, 10)
    with pytest.raises(AppError, match=r"^m.png: labels outside 0..9: 10, 12, 255"):
        check_labels(bad, (10, 10), "m.png")
    with pytest.raises(AppError, match="one channel"):
        check_labels(np.zeros((10, 10, 3), np.uint8), (10, 10), "m.png")


def test_framing_moves_keypoints_with_the_pixels():
    rng = np.random.default_rng(0)
    picture = np.zeros((300, 140, 3), np.uint8)
    kp = np.full((18, 2), -1.0, np.float32)
    kp[:6] = rng.uniform([20, 10], [280, 130], size=(6, 2)).round()
    for y, x in kp[:6].astype(int):
        picture[y - 3:y + 4, x - 3:x + 4] = 255           # a 7x7 white square per point
    for framing in (Framing.around(keypoint_box(kp), (256, 256)),
                    Framing.around((0, 0, 299, 139), (128, 64)),
                    Framing.letterbox((300, 140), (256, 128))):
        framed = framing.image(picture)
        assert framed.shape[:2] == framing.frame_hw
        moved = framing.keypoints(kp)
        assert (moved[6:] == -1).all()
        for y, x in moved[:6]:                             # each point lands on its square
            assert framed[int(round(y)), int(round(x))].min() > 100, (y, x)


def test_framing_centres_the_person_at_the_fill_share():
    f = Framing.around((50, 100, 229, 139), (256, 256))    # a 180 x 40 px person
    assert f.height == f.width == 200                      # 180 / 0.9
    assert (f.y0, f.x0) == (40, 20)
    wide = Framing.around((0, 0, 89, 359), (256, 128))     # wider than the frame's aspect
    assert wide.width == 400 and wide.height == 800
    box = Framing.letterbox((256, 256), (256, 256))        # a 256 frame into 256: identity
    kp = hand_pose()
    np.testing.assert_allclose(box.keypoints(kp), kp, atol=1e-4)
    market = Framing.letterbox((128, 64), (256, 256))      # 128x64 centred, scaled x2
    np.testing.assert_allclose(market.keypoints(np.array([[0.0, 0.0]] + [[-1, -1]] * 17)),
                               [[0.5, 64.5]] + [[-1, -1]] * 17, atol=1e-5)
    assert np.allclose(scale_keypoints(kp, (256, 256), (64, 64)),
                       scale_keypoints(box.keypoints(kp), (256, 256), (64, 64)), atol=1e-4)


def test_person_box_joins_mask_and_keypoints():
    mask = np.zeros((100, 80), bool)
    mask[30:90, 20:50] = True
    kp = np.full((18, 2), -1.0, np.float32)
    kp[0] = (10, 40)
    kp[1] = (60, 70)
    assert person_box(mask, kp) == (10.0, 20.0, 89.0, 70.0)
    assert person_box(np.zeros_like(mask), kp) == (10.0, 40.0, 60.0, 70.0)
