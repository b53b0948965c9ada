"""Stage `pose` with the annotations backend: what a new user hit."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from pipeline.annotations import AnnotationError, write_keypoint_file
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.config.base import ParamsError
from pipeline.config.params import validate
from pipeline.ingest.stage import run as ingest
from pipeline.pose.stage import OUTSIDE_SHOWN, run, summary_text
from tests.helpers import REPO, hand_pose

H, W = 32, 24
N = 13                           # images; rows 0..11 have a point outside the frame


def _raw(root: Path) -> dict:
    return {"data": {"root": str(root), "source": "folder", "annotations": ["ann.csv"],
                     "pairs": "", "split_by": "fraction", "height": H, "width": W,
                     "workers": 1},
            "pose": {"backend": "annotations", "workers": 1}, "parse": {"backend": "coarse"}}


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, list[str]]:
    """A folder of N images of H x W with an annotation row each; ingested into images.h5."""
    root = tmp_path / "photos"
    (root / "images").mkdir(parents=True)
    names = [f"p{i:02d}_1.png" for i in range(N)]
    for name in names:
        cv2.imwrite(str(root / "images" / name), np.zeros((H, W, 3), np.uint8))
    kp = np.repeat(hand_pose()[None] * np.float32(H / 256), N, axis=0)
    kp[:OUTSIDE_SHOWN + 2, 0] = [H, 3]          # nose at y = H: just below the image
    kp[0, 4] = [5, W + 7]                       # row 0: the right wrist right of it too
    write_keypoint_file(root / "ann.csv", names, kp)
    ingest(validate(_raw(root)), Paths(tmp_path), progress=False)
    return root, names


def test_points_outside_the_frame_named_with_image_and_line(tmp_path: Path, dataset):
    root, names = dataset
    summary = run(validate(_raw(root)), Paths(tmp_path), progress=False)
    ann = root / "ann.csv"
    rows = summary["annotation_rows_outside_frame"]
    assert rows[0] == (f"{ann}:2: {names[0]}: 2 point(s) outside the {H}x{W} image, set "
                       f"missing (nose, Rwri)")
    assert rows[1:] == [f"{ann}:{i + 2}: {names[i]}: 1 point(s) outside the {H}x{W} image, "
                        f"set missing (nose)" for i in range(1, OUTSIDE_SHOWN + 2)]
    assert summary["annotation_points_outside_frame"] == OUTSIDE_SHOWN + 3
    text = summary_text(summary).splitlines()
    assert text[1] == (f"warning: {OUTSIDE_SHOWN + 3} annotation point(s) outside their image "
                       f"in {OUTSIDE_SHOWN + 2} row(s), set missing:")
    assert text[2:-1] == [f"  {r}" for r in rows[:OUTSIDE_SHOWN]]
    assert text[-1] == "  ... and 2 more"
    kp = Artifact(tmp_path / "data" / "prepared" / "poses.h5")["keypoints"][:]
    assert (kp[:OUTSIDE_SHOWN + 2, 0] == -1).all() and (kp[N - 1, 0] >= 0).all()


def test_clean_annotations_print_one_line(tmp_path: Path, dataset):
    root, names = dataset
    kp = np.repeat(hand_pose()[None] * np.float32(H / 256), N, axis=0)
    write_keypoint_file(root / "ann.csv", names, kp)
    summary = run(validate(_raw(root)), Paths(tmp_path), progress=False)
    assert summary["annotation_rows_outside_frame"] == []
    assert len(summary_text(summary).splitlines()) == 1


def test_header_only_annotations_stop_the_stage(tmp_path: Path, dataset):
    """Regression: every pose came out empty and the stage exited 0."""
    root, _ = dataset
    (root / "ann.csv").write_text("name:keypoints_y:keypoints_x\n")
    with pytest.raises(AnnotationError, match=r"ann.csv: header only, no keypoint rows "
                                              r"\(data.annotations\)$"):
        run(validate(_raw(root)), Paths(tmp_path), progress=False)
    assert not (tmp_path / "data" / "prepared" / "poses.h5").exists()
    # the stage script: one line on stderr, exit status 1
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(_raw(root)))
    proc = subprocess.run([sys.executable, str(REPO / "stages" / "pose.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"pose: error: {root / 'ann.csv'}: header only, no keypoint rows (data.annotations)"]


def test_annotations_naming_no_image_stop_the_stage(tmp_path: Path, dataset):
    root, _ = dataset
    write_keypoint_file(root / "ann.csv", ["someone_else.png"], hand_pose()[None])
    with pytest.raises(AnnotationError, match=r"no image has a row in the annotation files "
                                              r"ann.csv \(data.annotations\)"):
        run(validate(_raw(root)), Paths(tmp_path), progress=False)


def test_annotation_symlink_out_of_the_root_is_refused(tmp_path: Path, dataset):
    root, _ = dataset
    outside = tmp_path / "elsewhere.csv"
    (root / "ann.csv").rename(outside)
    (root / "ann.csv").symlink_to(outside)
    with pytest.raises(ParamsError, match=r"outside data.root \(data.annotations\)$"):
        run(validate(_raw(root)), Paths(tmp_path), progress=False)
