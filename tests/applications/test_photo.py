"""A real photograph (scikit-image's astronaut, a portrait without hips) through MediaPipe,
the framing and the coarse parser; a photo without anybody in it."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from pipeline.applications.cli import main
from pipeline.parsing.label_sets import read_label_map
from tests.applications.test_cli import _args, _one_line_error, _rgb

pytest.importorskip("mediapipe")


@pytest.fixture
def astronaut(tmp_path):
    from skimage import data

    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def test_pose_transfer_of_a_real_photo(trained, tmp_path, capsys, astronaut):
    paths = trained("photo")
    out = tmp_path / "out"
    assert main(_args(paths, "pose-transfer", str(astronaut), "--pose", "prepared:1",
                      "--out", str(out))) == 0
    printed, err = capsys.readouterr()
    assert err == ""                                        # MediaPipe's native logs silenced
    assert "Rhip, Lhip not detected; a virtual torso stands in" in printed
    info = json.loads((out / "info.json").read_text())
    src = info["source"]
    assert src["kind"] == "photo" and src["picture_hw"] == [512, 512]
    assert src["virtual_torso"] and src["keypoints_detected"] >= 5
    assert src["framing"]["frame_hw"] == [256, 256] and src["framing"]["box_height"] > 400
    assert src["parse"]["mask_source"] == "segmentation" and src["parse"]["skin_model"] == "face"
    assert _rgb(out / "result.png").shape == (32, 32, 3)
    # the photo's person is parsed: face, hair and upper clothes at least
    assert main(_args(paths, "parse", str(astronaut), "--out", str(tmp_path / "p"))) == 0
    labels = read_label_map(tmp_path / "p" / "labels.png")
    assert labels.shape == (256, 256) and {1, 2, 3} <= set(np.unique(labels).tolist())
    capsys.readouterr()
    # without the virtual torso the portrait has none
    _one_line_error(capsys, _args(paths, "parse", str(astronaut), "--no-virtual-torso",
                                  "--out", str(tmp_path / "q")),
                    "astronaut.png (detected pose): the pose has no torso (Rhip, Lhip missing")
    # a photo as the target pose
    assert main(_args(paths, "pose-transfer", "prepared:0", "--pose", str(astronaut),
                      "--out", str(tmp_path / "t"))) == 0
    info = json.loads((tmp_path / "t" / "info.json").read_text())
    assert info["target"]["kind"] == "photo"
    capsys.readouterr()


def test_a_photo_without_a_person(trained, tmp_path, capsys):
    paths = trained("nobody")
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((200, 150, 3), 180, np.uint8))
    _one_line_error(capsys, _args(paths, "pose-transfer", str(blank), "--pose", "prepared:1",
                                  "--out", str(tmp_path / "o")),
                    "wall.png: no person found")
