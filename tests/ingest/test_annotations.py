from pathlib import Path

import numpy as np
import pytest

from pipeline.annotations import (AnnotationError, read_keypoint_file, read_pairs_file,
                                  write_keypoint_file, write_pairs_file)
from tests.helpers import ANNOTATIONS


@pytest.mark.parametrize("fname,rows", [("fasion-annotation-sample.csv", 400),
                                        ("market-annotation-sample.csv", 600)])
def test_reads_every_real_row(fname, rows):
    ann = read_keypoint_file(ANNOTATIONS / fname)
    assert len(ann.names) == rows
    assert ann.keypoints.shape == (rows, 18, 2) and ann.keypoints.dtype == np.float32
    # missing points are (-1, -1) in both coordinates, present points are >= 0
    kp = ann.keypoints
    missing = (kp < 0).any(axis=2)
    assert (kp[missing] == -1).all()
    assert (kp[~missing] >= 0).all()
    # rows with all 18 points missing are reported, and they exist in the real files
    all_missing = [n for n, k in zip(ann.names, kp) if (k < 0).all()]
    assert ann.all_missing == all_missing and len(all_missing) > 0


def test_first_row_values():
    ann = read_keypoint_file(ANNOTATIONS / "fasion-annotation-sample.csv")
    assert ann.names[0] == "fasionWOMENDressesid0000553705_4full.jpg"
    np.testing.assert_array_equal(ann.keypoints[0, 0], [24, 129])  # nose (y, x)
    np.testing.assert_array_equal(ann.keypoints[0, 17], [21, 137])


def test_pairs_sample():
    pairs = read_pairs_file(ANNOTATIONS / "fasion-pairs-sample.csv")
    assert len(pairs) == 82
    assert pairs[0][0].startswith("fasionWOMEN")


def test_round_trip(tmp_path: Path):
    kp = np.full((2, 18, 2), -1, np.float32)
    kp[0, :3] = [[10, 20], [30, 40], [50, 60]]
    write_keypoint_file(tmp_path / "a.csv", ["x.jpg", "y.jpg"], kp)
    back = read_keypoint_file(tmp_path / "a.csv")
    assert back.names == ["x.jpg", "y.jpg"] and back.all_missing == ["y.jpg"]
    np.testing.assert_array_equal(back.keypoints, kp)
    write_pairs_file(tmp_path / "p.csv", [("x.jpg", "y.jpg")])
    assert read_pairs_file(tmp_path / "p.csv") == [("x.jpg", "y.jpg")]


@pytest.mark.parametrize("row,needle", [
    ("a.jpg: [1, 2]: [3, 4]", "must list 18 numbers, got 2"),
    ("a.jpg: [1, 2, 3: [3, 4]", "not a JSON list"),
    ("a.jpg: [1]: [2]: [3]", "3 colon-separated fields"),
    ("a.jpg [1]", "3 colon-separated fields"),
    ("a.jpg: [" + ", ".join(["1"] * 17 + ['"x"']) + "]: [" + ", ".join(["1"] * 18) + "]",
     "non-number"),
    ("a.jpg: not-json: [1]", "not a JSON list"),
    ("a.jpg: [" + ", ".join(["1"] * 17 + ["Infinity"]) + "]: [" + ", ".join(["1"] * 18) + "]",
     "non-finite"),
])
def test_malformed_row_names_file_and_line(tmp_path: Path, row: str, needle: str):
    p = tmp_path / "bad.csv"
    good = "ok.jpg: [" + ", ".join(["1"] * 18) + "]: [" + ", ".join(["2"] * 18) + "]"
    p.write_text("name:keypoints_y:keypoints_x\n" + good + "\n" + row + "\n")
    with pytest.raises(AnnotationError) as err:
        read_keypoint_file(p)
    assert f"{p}:3:" in str(err.value) and needle in str(err.value)


def test_bad_header_and_missing_file(tmp_path: Path):
    p = tmp_path / "h.csv"
    p.write_text("name,y,x\n")
    with pytest.raises(AnnotationError, match="header"):
        read_keypoint_file(p)
    with pytest.raises(AnnotationError, match="not found"):
        read_keypoint_file(tmp_path / "nope.csv")
    q = tmp_path / "pairs.csv"
    q.write_text("from,to\na.jpg\n")
    with pytest.raises(AnnotationError, match=r"pairs.csv:2"):
        read_pairs_file(q)
