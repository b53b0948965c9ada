"""Padded images (data.fit=pad) are scored in their native frame: the evaluate stage crops the
generated and target images back to images.h5 /frame, scaled to the model's resolution, and
says so in eval/metrics.json; data without /frame is scored as before."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
from PIL import Image

from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.config.params import validate
from pipeline.evaluation.frame import CroppedScores, crop, native_frame, scale_box
from pipeline.evaluation.scoring import SystemScores
from pipeline.ingest.stage import run as ingest


def test_scale_box_maps_edges_to_edges():
    assert scale_box((0, 40, 256, 176), (256, 256), (256, 256)) == (0, 40, 256, 176)
    assert scale_box((0, 40, 256, 176), (256, 256), (128, 128)) == (0, 20, 128, 88)
    assert scale_box((0, 40, 256, 176), (256, 256), (64, 64)) == (0, 10, 64, 44)
    assert scale_box((0, 2, 16, 11), (16, 16), (8, 8)) == (0, 1, 8, 6)   # 6.5 rounds up to 7


def test_crop_cuts_rows_and_columns_of_the_box():
    a = np.arange(2 * 4 * 4).reshape(2, 4, 4)
    np.testing.assert_array_equal(crop(a, (0, 1, 4, 2)), a[:, :, 1:3])
    np.testing.assert_array_equal(crop(a, (1, 0, 2, 4))[1], [[20, 21, 22, 23], [24, 25, 26, 27]])
    assert crop(a, None) is a
    rgb = np.zeros((1, 4, 4, 3), np.uint8)
    rgb[:, :, [0, 3]] = 255                                    # white padding columns
    assert crop(rgb, (0, 1, 4, 2)).max() == 0


def test_cropped_scores_equal_scores_of_the_cropped_images():
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    true = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    masks = rng.random((3, 16, 16)) > 0.5
    box = (0, 2, 16, 11)
    cropped, plain = CroppedScores(box=box), SystemScores()
    cropped.update(pred, true, masks)
    plain.update(pred[:, :, 2:13], true[:, :, 2:13], masks[:, :, 2:13])
    assert cropped.result() == plain.result()
    whole = CroppedScores()                                    # no box: SystemScores itself
    whole.update(pred, true, masks)
    reference = SystemScores()
    reference.update(pred, true, masks)
    assert whole.result() == reference.result()


def _padded_images(tmp: Path, sizes: list[tuple[int, int]]) -> Artifact:
    """images.h5 of DeepFashion-like images of ``sizes`` ingested at 16x16 with fit=pad."""
    root = tmp / "df"
    (root / "images").mkdir(parents=True)
    for i, (h, w) in enumerate(sizes):
        cv2.imwrite(str(root / "images" / f"fasionMENTeesid000011110{i}_1front.png"),
                    np.full((h, w, 3), 20 * i, np.uint8))
    params = validate({"data": {"source": "deepfashion", "root": str(root), "annotations": [],
                                "pairs": "", "split_by": "fraction", "height": 16,
                                "width": 16, "fit": "pad", "workers": 1},
                       "pose": {"backend": "mediapipe"}, "parse": {"backend": "coarse"}})
    ingest(params, Paths(tmp), progress=False)
    return Artifact(Paths(tmp).artifact("images"))


def test_native_frame_of_the_test_targets(tmp_path: Path):
    art = _padded_images(tmp_path / "a", [(16, 11), (32, 22), (16, 16)])
    frame = native_frame(art, np.array([0, 1]), (8, 8))
    assert frame is not None and frame.box == (0, 1, 8, 6)
    assert frame.label.startswith("native 16x11: ")
    assert "columns 1..6 of the 8x8 model images" in frame.label
    assert native_frame(art, np.array([2]), (8, 8)) is None    # fills the frame: no crop
    mixed = native_frame(art, np.array([0, 2]), (8, 8))
    assert mixed is not None and mixed.box is None and mixed.label.startswith("stored 16x16")


def test_no_frame_dataset_no_crop(tiny_prepared: Path):
    art = Artifact(tiny_prepared / "images.h5")
    assert "frame" not in art
    assert native_frame(art, np.arange(len(art)), (32, 32)) is None


def test_evaluate_stage_scores_in_the_native_frame(project):
    """The evaluate stage on a tiny project whose images.h5 says every image is 64x44 inside
    its 64x64 frame: the image metrics see only columns 4..25 of the 32x32 model images."""
    from pipeline.datasets.pairs import TestPairDataset
    from pipeline.evaluation.stage import run
    from pipeline.metrics.images import to_uint8
    from pipeline.metrics.l1 import l1
    from pipeline.training.appearance.stage import write_models
    from tests.evaluation.test_evaluate_stage import _eval_params
    from tests.model_fixtures import appearance_scheme

    paths = project("eval_native_frame")
    params = _eval_params("baseline", {"unpaired_pairs": 0})
    scheme, _ = appearance_scheme(params, paths)
    write_models(paths, scheme, params)
    with h5py.File(paths.artifact("images"), "a") as f:
        n, h, w = f["images"].shape[:3]
        assert (h, w) == (64, 64)
        f.create_dataset("frame", data=np.tile(np.array([0, 10, 64, 44], np.int32), (n, 1)))
    metrics = run(params, paths, progress=False)
    hw = tuple(metrics["info"]["image_hw"])
    assert hw == (32, 32)
    frame = metrics["settings"]["frame"]
    assert frame.startswith("native 64x44: ") and "columns 5..26 of the 32x32" in frame
    assert json.loads((paths.eval / "metrics.json").read_text())["settings"]["frame"] == frame
    # the saved PNGs are the whole frame; the per-pair L1 is that of the native crop
    ds = TestPairDataset(paths.prepared, hw, hw)
    rows = json.loads((paths.eval / "plots" / "pairs.json").read_text())
    for i, row in enumerate(rows):
        png = np.asarray(Image.open(paths.eval / "images" / row["name"]))
        assert png.shape == (32, 32, 3)
        true = to_uint8(ds[i]["tgt_image"][None])
        expected = l1(png[:, 5:27], true[0][:, 5:27])
        assert row["l1"] == pytest.approx(expected, abs=1e-4)
