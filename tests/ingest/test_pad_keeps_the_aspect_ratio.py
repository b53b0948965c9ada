"""data.fit=pad: an image of another aspect ratio is scaled uniformly into the stored frame
and centred on white, and its keypoints and label maps are placed the same way (the
DeepFashion 256x176 -> 256x256 case, here 16x11 -> 16x16); hand-computed values."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest

from pipeline.annotations import write_keypoint_file
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.config.base import ParamsError
from pipeline.config.params import validate
from pipeline.ingest import stage as ingest
from pipeline.ingest.frame import (effective_fit, fit_box, outside_box, place_image,
                                   place_keypoints, place_labels)
from pipeline.parsing import stage as parsing
from pipeline.parsing.label_sets import write_label_map
from pipeline.pose import stage as pose

NUM = 18


def _kp(*points: tuple[float, float]) -> np.ndarray:
    """(18, 2) keypoints: the given points first, the rest missing (-1)."""
    kp = np.full((NUM, 2), -1, np.float32)
    kp[:len(points)] = points
    return kp


# --------------------------------------------------------------------------- frame maths
def test_4x2_padded_into_4x4_gets_white_columns_0_and_3():
    img = np.arange(4 * 2 * 3, dtype=np.uint8).reshape(4, 2, 3)
    box = fit_box((4, 2), (4, 4), "pad")
    assert box == (0, 1, 4, 2)
    out = place_image(img, (4, 4), box)
    assert out.shape == (4, 4, 3)
    assert (out[:, 0] == 255).all() and (out[:, 3] == 255).all()
    np.testing.assert_array_equal(out[:, 1:3], img)            # scale 1: the pixels unchanged
    kp = place_keypoints(_kp((1, 0), (3, 1)), (4, 2), box)
    np.testing.assert_array_equal(kp[:2], [[1, 1], [3, 2]])
    assert (kp[2:] == -1).all()                                # missing stay missing


def test_8x4_into_4x4_is_scaled_by_one_half():
    img = np.zeros((8, 4, 3), np.uint8)
    img[:4, :2], img[:4, 2:], img[4:, :2], img[4:, 2:] = 10, 20, 30, 40   # 2x2 blocks of 4x2
    box = fit_box((8, 4), (4, 4), "pad")
    assert box == (0, 1, 4, 2)
    out = place_image(img, (4, 4), box)
    expected = np.full((4, 4), 255, np.uint8)
    expected[:2, 1], expected[:2, 2], expected[2:, 1], expected[2:, 2] = 10, 20, 30, 40
    np.testing.assert_array_equal(out[..., 0], expected)
    # pixel-centre convention: p' = (p + 0.5) * 0.5 - 0.5, then x + 1
    kp = place_keypoints(_kp((7, 3), (0, 0), (2, 1)), (8, 4), box)
    np.testing.assert_allclose(kp[:3], [[3.25, 2.25], [0, 1], [0.75, 1.25]])
    assert (kp[3:] == -1).all()


def test_wide_image_is_padded_above_and_below_and_pad_value_is_used():
    box = fit_box((2, 8), (4, 4), "pad")                       # scale 0.5 -> 1x4, rows 1..1
    assert box == (1, 0, 1, 4)
    out = place_image(np.zeros((2, 8, 3), np.uint8), (4, 4), box, fill=128)
    assert (out[1] == 0).all() and (out[[0, 2, 3]] == 128).all()


def test_labels_padded_with_background_nearest_neighbour():
    lab = np.array([[1, 2], [3, 4], [5, 6], [7, 8]], np.uint8)
    out = place_labels(lab, (4, 4), fit_box((4, 2), (4, 4), "pad"))
    expected = np.zeros((4, 4), np.uint8)
    expected[:, 1:3] = lab
    np.testing.assert_array_equal(out, expected)
    big = np.repeat(np.repeat(lab, 2, axis=0), 2, axis=1)      # 8x4 -> scale 0.5
    np.testing.assert_array_equal(place_labels(big, (4, 4), fit_box((8, 4), (4, 4), "pad")),
                                  expected)


def test_exact_and_stretch_fill_the_frame_as_before():
    assert fit_box((4, 2), (4, 4), "stretch") == fit_box((4, 2), (4, 4), "exact") == (0, 0, 4, 4)
    img = np.random.default_rng(0).integers(0, 255, (8, 4, 3), dtype=np.uint8)
    np.testing.assert_array_equal(place_image(img, (4, 4), (0, 0, 4, 4)),
                                  cv2.resize(img, (4, 4), interpolation=cv2.INTER_AREA))
    assert effective_fit(True, "exact") == "stretch" and effective_fit(False, "pad") == "pad"


def test_points_beyond_the_box_are_outside():
    kp = np.stack([_kp((1, 2.9), (1, 3)), _kp((3.5, 0))])
    out = outside_box(kp, np.array([[0, 1, 4, 2], [0, 0, 4, 4]]))
    assert out[0, :2].tolist() == [False, True] and not out[0, 2:].any()
    assert not out[1].any()


def test_resize_true_contradicts_pad():
    with pytest.raises(ParamsError, match=r"data.fit = 'pad': pad contradicts data.resize=true"):
        validate({"data": {"resize": True, "fit": "pad"}})
    assert validate({"data": {"resize": True}}).data.fit == "exact"


# --------------------------------------------------------------------------- the stages
NAMES = ["fasionWOMENDressesid0000553705_1front.png", "fasionWOMENDressesid0000553705_2side.png",
         "fasionMENTeesid0000111101_1front.png"]


def _folder(root: Path) -> np.ndarray:
    """Three images of a 256x176-like 16x11 frame (one at 32x22, one already 16x16), LIP-free
    spt10 label maps at each image's size, annotation rows; returns the annotations."""
    (root / "images").mkdir(parents=True)
    (root / "parsing").mkdir()
    rng = np.random.default_rng(1)
    sizes = [(16, 11), (32, 22), (16, 16)]
    kp = np.full((3, NUM, 2), -1, np.float32)
    kp[0, :2] = [(0, 0), (15, 10)]
    kp[1, :2] = [(0, 0), (31, 21)]
    kp[2, :2] = [(3, 4), (15, 15)]
    for name, (h, w) in zip(NAMES, sizes):
        cv2.imwrite(str(root / "images" / name), rng.integers(0, 200, (h, w, 3), np.uint8))
        lab = np.full((h, w), 3, np.uint8)
        lab[: h // 2] = 1
        write_label_map(root / "parsing" / (Path(name).stem + ".png"), lab)
    write_keypoint_file(root / "ann.csv", NAMES, kp)
    (root / "images" / "fasionMENTeesid0000888801_1front.jpg").write_bytes(b"broken")
    return kp


def _params(root: Path, **data):
    return validate({"data": {"source": "deepfashion", "root": str(root), "annotations": "ann.csv",
                              "pairs": "", "split_by": "fraction", "height": 16, "width": 16,
                              "workers": 1, **data},
                     "pose": {"backend": "annotations", "workers": 1},
                     "parse": {"backend": "labels", "label_set": "spt10", "workers": 1}})


def test_ingest_pose_and_parse_record_and_use_the_frame(tmp_path: Path):
    root = tmp_path / "df"
    ann = _folder(root)
    params = _params(root, fit="pad")
    paths = Paths(tmp_path)
    summary = ingest.run(params, paths, progress=False)
    # the unreadable file is still left out by name
    assert summary["left_out"]["does not decode"] == ["fasionMENTeesid0000888801_1front.jpg"]
    assert summary["kept"] == 3
    art = Artifact(paths.artifact("images"))
    rows = [art.names.index(n) for n in NAMES]
    frame = art["frame"][:][rows]
    np.testing.assert_array_equal(frame, [[0, 2, 16, 11], [0, 2, 16, 11], [0, 0, 16, 16]])
    with h5py.File(paths.artifact("images"), "r") as f:
        assert f["frame"].dtype == np.int32
        assert "crop" in f["frame"].attrs["description"]
        assert f["frame"].attrs["pad_value"] == 255
        record = json.loads(f.attrs["params"])
    assert record["fit"] == "pad" and record["pad_value"] == 255
    np.testing.assert_array_equal(art["original_size"][:][rows],
                                  [[16, 11], [32, 22], [16, 16]])
    images = art["images"][:][rows]
    native = cv2.cvtColor(cv2.imread(str(root / "images" / NAMES[0])), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(images[0, :, 2:13], native)   # scale 1: pixels unchanged
    assert (images[:2, :, :2] == 255).all() and (images[:2, :, 13:] == 255).all()

    pose.run(params, paths, progress=False)
    kp = Artifact(paths.prepared / "poses.h5")["keypoints"][:]
    kp = kp[[Artifact(paths.prepared / "poses.h5").names.index(n) for n in NAMES]]
    np.testing.assert_allclose(kp[0, :2], [[0, 2], [15, 12]])   # + 2 columns of padding
    np.testing.assert_allclose(kp[1, :2], [[0, 2], [15.25, 12.25]])   # 0.5, + 2
    np.testing.assert_allclose(kp[2, :2], ann[2, :2])           # already 16x16: unchanged
    assert (kp[:, 2:] == -1).all()

    parsing.run(params, paths, progress=False)
    par = Artifact(paths.prepared / "parsing.h5")
    labels = par["labels"][:][[par.names.index(n) for n in NAMES]]
    for lab in labels[:2]:
        assert (lab[:, :2] == 0).all() and (lab[:, 13:] == 0).all()   # background padding
        assert (lab[:8, 2:13] == 1).all() and (lab[8:, 2:13] == 3).all()
    assert (labels[2, :8] == 1).all() and (labels[2, 8:] == 3).all()


def test_exact_fit_writes_no_frame_and_records_as_before(tmp_path: Path):
    """The default (fit exact): no /frame, and the params record holds no new key, so an
    images.h5 of a dataset already at the stored size is byte-identical to before."""
    root = tmp_path / "df"
    _folder(root)
    paths = Paths(tmp_path)
    summary = ingest.run(_params(root), paths, progress=False)
    assert summary["kept"] == 1                                # only the 16x16 image fits
    assert "size 16x11 != 16x16" in " ".join(summary["left_out"])
    with h5py.File(paths.artifact("images"), "r") as f:
        assert "frame" not in f
        record = json.loads(f.attrs["params"])
    assert "fit" not in record and "pad_value" not in record and record["resize"] is False


def test_stretch_is_the_old_resize(tmp_path: Path):
    root = tmp_path / "df"
    _folder(root)
    out = {}
    for key, data in (("resize", {"resize": True}), ("stretch", {"fit": "stretch"})):
        paths = Paths(tmp_path / key)
        ingest.run(_params(root, **data), paths, progress=False)
        with h5py.File(paths.artifact("images"), "r") as f:
            assert "frame" not in f
            out[key] = f["images"][:]
    np.testing.assert_array_equal(out["resize"], out["stretch"])
