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


def test_header_only_file_is_an_error(tmp_path: Path):
    """Regression: a keypoint file without rows used to give N empty poses and exit 0."""
    p = tmp_path / "ann.csv"
    p.write_text("name:keypoints_y:keypoints_x\n\n")
    with pytest.raises(AnnotationError) as err:
        read_keypoint_file(p, key="data.annotations")
    assert str(err.value) == f"{p}: header only, no keypoint rows (data.annotations)"
    write_keypoint_file(p, [], np.zeros((0, 18, 2), np.float32))     # what a writer may leave
    with pytest.raises(AnnotationError, match="header only"):
        read_keypoint_file(p)


def test_errors_name_the_key_and_never_echo_a_foreign_file(tmp_path: Path):
    """Regression: reading /etc/hostname by mistake echoed its first line in the error."""
    secret = tmp_path / "hostname"
    secret.write_text("top-secret-host\n")
    for read in (read_keypoint_file, read_pairs_file):
        with pytest.raises(AnnotationError) as err:
            read(secret, key="data.annotations")
        msg = str(err.value)
        assert "top-secret" not in msg and msg.startswith(f"{secret}:1: ")
        assert msg.endswith("(data.annotations)") and "\n" not in msg
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\xff\xfe\x00secret")
    with pytest.raises(AnnotationError, match=r"not a UTF-8 text file .*\(data.pairs\)$"):
        read_pairs_file(binary, key="data.pairs")
    with pytest.raises(AnnotationError) as err:
        read_pairs_file(tmp_path / "pairs-test.csv", key="data.pairs")
    assert str(err.value) == f"{tmp_path / 'pairs-test.csv'}: pairs file not found (data.pairs)"


def test_rows_and_duplicates_keep_their_lines(tmp_path: Path):
    p = tmp_path / "ann.csv"
    row = "]: [".join(", ".join([v] * 18) for v in ("1", "2"))
    p.write_text("name:keypoints_y:keypoints_x\n"
                 f"a.jpg: [{row}]\n\nb.jpg: [{row}]\na.jpg: [{row}]\nb.jpg: [{row}]\n")
    ann = read_keypoint_file(p)
    assert ann.names == ["a.jpg", "b.jpg"] and ann.lines == [2, 4]
    assert ann.where() == {"a.jpg": f"{p}:2", "b.jpg": f"{p}:4"}
    assert ann.duplicates == ["a.jpg", "b.jpg"] and ann.duplicate_lines == [5, 6]
    assert ann.duplicate_rows() == [f"{p}:5: a.jpg", f"{p}:6: b.jpg"]
