"""OpenPose's per-image JSON (`--write_json`) as a pose backend: both layouts, one person per
image, malformed files named one line each, placement into the stored (padded) frame;
hand-computed values."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from pipeline.annotations import write_keypoint_file
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.config.base import ParamsError
from pipeline.config.params import validate
from pipeline.ingest.stage import run as ingest
from pipeline.labels import KEYPOINT_NAMES
from pipeline.pose.openpose_json import (
    BAD_FILES_SHOWN, BODY_25_PARTS, BODY_25_TO_18, COCO_18_PARTS, OpenPoseError, choose_person,
    json_name, read_openpose_folder, read_openpose_json, to_keypoints)
from pipeline.pose.stage import (SOURCE_NAMES, SRC_ANNOTATION, SRC_DETECTOR, SRC_OPENPOSE, run,
                                 summary_text)
from tests.helpers import REPO

Point = tuple[float, float, float]


def _flat(points: dict[int, Point], parts: int) -> list[float]:
    """pose_keypoints_2d of ``parts`` body parts: (x, y, c) at the given indices, (0, 0, 0)
    (OpenPose's "not found") elsewhere."""
    out = [0.0] * (3 * parts)
    for j, xyc in points.items():
        out[3 * j:3 * j + 3] = xyc
    return out


def coco(points: dict[int, Point]) -> list[float]:
    return _flat(points, 18)


def body25(points: dict[int, Point]) -> list[float]:
    return _flat(points, 25)


def write(path: Path, *people: list[float]) -> Path:
    """An OpenPose --write_json file holding ``people`` (flat pose_keypoints_2d lists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": p,
                                        "face_keypoints_2d": []} for p in people]}
    path.write_text(json.dumps(doc))
    return path


# --------------------------------------------------------------------------- layouts
def test_orders_match_the_project_keypoints():
    """OpenPose's COCO order is this project's order, point by point; BODY_25 maps by name,
    MidHip (8) and the feet (19-24) unused."""
    short = {"Nose": "nose", "Neck": "neck", "RShoulder": "Rsho", "RElbow": "Relb",
             "RWrist": "Rwri", "LShoulder": "Lsho", "LElbow": "Lelb", "LWrist": "Lwri",
             "RHip": "Rhip", "RKnee": "Rkne", "RAnkle": "Rank", "LHip": "Lhip",
             "LKnee": "Lkne", "LAnkle": "Lank", "REye": "Reye", "LEye": "Leye",
             "REar": "Rear", "LEar": "Lear"}
    assert tuple(short[p] for p in COCO_18_PARTS) == KEYPOINT_NAMES
    assert BODY_25_TO_18 == (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
    unused = set(range(25)) - set(BODY_25_TO_18)
    assert sorted(BODY_25_PARTS[j] for j in unused) == [
        "LBigToe", "LHeel", "LSmallToe", "MidHip", "RBigToe", "RHeel", "RSmallToe"]


def test_coco18_file_swaps_x_y_and_zeros_are_missing(tmp_path: Path):
    path = write(tmp_path / "a_keypoints.json",
                 coco({0: (12.5, 30.0, 0.8), 1: (11.0, 40.0, 1.25), 17: (3.0, 4.0, 0.1)}))
    frame = read_openpose_json(path)
    assert frame.layout == "COCO-18" and frame.people == 1
    kp, conf, negative = to_keypoints(frame.xyc[0])
    np.testing.assert_array_equal(kp[[0, 1, 17]], [[30, 12.5], [40, 11], [4, 3]])   # (y, x)
    assert (kp[2:17] == -1).all() and not negative.any()
    np.testing.assert_allclose(conf[[0, 1, 17]], [0.8, 1.0, 0.1])     # 1.25 clipped to 1
    assert (conf[2:17] == 0).all()


def test_body25_file_maps_by_name_and_drops_midhip_and_feet(tmp_path: Path):
    # part j at x = 10 + j, y = 100 + j, c = (j + 1) / 100: every part found
    path = write(tmp_path / "b_keypoints.json",
                 body25({j: (10 + j, 100 + j, (j + 1) / 100) for j in range(25)}))
    frame = read_openpose_json(path)
    assert frame.layout == "BODY_25" and frame.xyc.shape == (1, 18, 3)
    kp, conf, _ = to_keypoints(frame.xyc[0])
    np.testing.assert_array_equal(kp[7], [107, 17])                   # Lwri = BODY_25 7
    np.testing.assert_array_equal(kp[8], [109, 19])                   # Rhip = BODY_25 9, not MidHip
    np.testing.assert_array_equal(kp[13], [114, 24])                  # Lank = BODY_25 14
    np.testing.assert_array_equal(kp[17], [118, 28])                  # Lear = BODY_25 18
    np.testing.assert_allclose(conf[[8, 17]], [0.10, 0.19], rtol=1e-6)
    assert kp[:, 0].max() == 118                                      # no foot point (119+)


def test_point_left_of_the_image_is_missing_and_flagged():
    xyc = np.zeros((18, 3), np.float32)
    xyc[0], xyc[1] = (-2, 5, 0.7), (4, 5, 0.7)
    kp, conf, negative = to_keypoints(xyc)
    assert negative.tolist() == [True] + [False] * 17
    np.testing.assert_array_equal(kp[:2], [[-1, -1], [5, 4]])
    assert conf[0] == 0


def test_the_person_with_the_largest_confidence_sum_is_kept(tmp_path: Path):
    wide_fragment = coco({4: (0, 0, 0.9), 13: (200, 300, 0.9)})          # sum 1.8, huge box
    subject = coco({j: (50 + j, 60 + j, 0.5) for j in range(18)})         # sum 9.0
    frame = read_openpose_json(write(tmp_path / "x_keypoints.json", wide_fragment, subject))
    assert choose_person(frame) == 1
    tie = read_openpose_json(write(tmp_path / "t_keypoints.json", subject, subject))
    assert choose_person(tie) == 0                                        # first of equals
    empty = read_openpose_json(write(tmp_path / "e_keypoints.json"))
    assert empty.people == 0 and empty.layout is None and choose_person(empty) is None
    nothing_found = read_openpose_json(write(tmp_path / "z_keypoints.json", coco({})))
    assert nothing_found.people == 1 and choose_person(nothing_found) is None


# --------------------------------------------------------------------------- malformed files
GOOD = coco({0: (1, 2, 0.5)})
MALFORMED = {
    "not_json": (b"{people: oops", "not valid JSON (line 1 column 2: Expecting property name "
                                   "enclosed in double quotes)"),
    "empty": (b"  \n", "empty file (expected OpenPose JSON)"),
    "binary": (b"\xff\xfe\x00{", "not a UTF-8 text file (expected OpenPose JSON)"),
    "top_list": ([GOOD], "not an OpenPose JSON object (the top level is a list)"),
    "no_people": ({"version": 1.3}, "no 'people' list (not an OpenPose --write_json file?)"),
    "people_dict": ({"people": {"0": GOOD}}, "'people' is not a list (got dict)"),
    "no_keypoints": ({"people": [{"face_keypoints_2d": []}]},
                     "people[0] has no 'pose_keypoints_2d'"),
    "keypoints_str": ({"people": [{"pose_keypoints_2d": "1,2,3"}]},
                      "people[0].pose_keypoints_2d is not a list (got str)"),
    "string_value": ({"people": [{"pose_keypoints_2d": GOOD[:4] + ["7"] + GOOD[5:]}]},
                     "people[0].pose_keypoints_2d[4] is not a number: '7'"),
    "bool_value": ({"people": [{"pose_keypoints_2d": [True] + GOOD[1:]}]},
                   "people[0].pose_keypoints_2d[0] is not a number: True"),
    "null_value": ({"people": [{"pose_keypoints_2d": GOOD[:2] + [None] + GOOD[3:]}]},
                   "people[0].pose_keypoints_2d[2] is not a number: None"),
    "length_51": ({"people": [{"pose_keypoints_2d": GOOD[:51]}]},
                  "people[0].pose_keypoints_2d holds 51 numbers; expected 54 (COCO-18) or 75 "
                  "(BODY_25): x, y, confidence per body part"),
    "length_0": ({"people": [{"pose_keypoints_2d": []}]},
                 "people[0].pose_keypoints_2d holds 0 numbers; expected 54 (COCO-18) or 75 "
                 "(BODY_25): x, y, confidence per body part"),
    "nan": (b'{"people": [{"pose_keypoints_2d": [NaN' + b', 0' * 53 + b']}]}',
            "people[0].pose_keypoints_2d[0] is not finite: nan"),
    "infinity": (b'{"people": [{"pose_keypoints_2d": [0, 0, 0, 1, Infinity' + b', 0' * 49
                 + b']}]}', "people[0].pose_keypoints_2d[4] is not finite: inf"),
    "negative_confidence": ({"people": [{"pose_keypoints_2d": GOOD},
                                        {"pose_keypoints_2d": body25({9: (5, 5, -0.2)})}]},
                            "people[1].pose_keypoints_2d: confidence -0.2 of body part 9 "
                            "(RHip) is negative"),
    "two_layouts": ({"people": [{"pose_keypoints_2d": GOOD},
                                {"pose_keypoints_2d": body25({})}]},
                    "people of two layouts in one file (BODY_25, COCO-18)"),
}


def _write_case(path: Path, content: object) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return path


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_is_one_line_naming_file_and_problem(tmp_path: Path, case: str):
    content, problem = MALFORMED[case]
    path = _write_case(tmp_path / f"{case}_keypoints.json", content)
    with pytest.raises(OpenPoseError) as err:
        read_openpose_json(path)
    assert str(err.value) == f"{path}: {problem}"


def test_unreadable_file_is_named(tmp_path: Path):
    path = tmp_path / "dir_keypoints.json"
    path.mkdir()
    with pytest.raises(OpenPoseError, match=r"dir_keypoints.json: cannot be read \(Is a "):
        read_openpose_json(path)


# --------------------------------------------------------------------------- folders
def test_folder_reports_several_people_no_person_and_no_file(tmp_path: Path):
    folder = tmp_path / "openpose"
    write(folder / "a_keypoints.json", coco({0: (1, 2, 0.5)}))
    write(folder / "b_keypoints.json", body25({0: (1, 2, 0.1)}), body25({0: (3, 4, 0.9),
                                                                        1: (5, 6, 0.3)}))
    write(folder / "c_keypoints.json")
    write(folder / "f_keypoints.json", body25({}), body25({}))             # all (0, 0, 0)
    write(folder / "sub" / "e_keypoints.json", coco({1: (7, 8, 0.6)}))    # mirrored subfolder
    write(folder / "stranger_keypoints.json", GOOD)
    (folder / "notes.json").write_text("not OpenPose")                      # not *_keypoints.json
    read = read_openpose_folder(folder, ["a.jpg", "b.png", "c.jpg", "d.jpg", "e.jpg", "f.jpg"])
    assert read.found.tolist() == [True, True, False, False, True, False]
    assert read.layouts == {"COCO-18": 2, "BODY_25": 1}
    assert read.several == [f"{folder / 'b_keypoints.json'}: 2 people, kept person 1 "
                            f"(confidence sum 1.20; next 0.10)"]
    assert read.no_person == [f"{folder / 'c_keypoints.json'}: no person",
                              f"{folder / 'f_keypoints.json'}: no found point in 2 people"]
    assert read.no_file == ["d.jpg: no d_keypoints.json"]
    assert read.unmatched == 1
    assert read.files[4] == folder / "sub" / "e_keypoints.json"
    np.testing.assert_allclose(read.xyc[1, :2], [[3, 4, 0.9], [5, 6, 0.3]])
    assert (read.xyc[2:4] == 0).all()
    assert json_name("x.y.jpg") == "x.y_keypoints.json"


def test_every_malformed_file_of_a_folder_is_named_once(tmp_path: Path):
    folder = tmp_path / "openpose"
    folder.mkdir()
    names = [f"img{i:02d}.jpg" for i in range(BAD_FILES_SHOWN + 3)]
    for name in names:
        _write_case(folder / json_name(name), {"version": 1})
    write(folder / "good_keypoints.json", GOOD)
    with pytest.raises(OpenPoseError) as err:
        read_openpose_folder(folder, names + ["good.jpg"], key="pose.openpose_dir")
    lines = str(err.value).splitlines()
    assert lines[0] == (f"{folder}: {BAD_FILES_SHOWN + 3} of {BAD_FILES_SHOWN + 4} OpenPose "
                        f"JSON files malformed (pose.openpose_dir):")
    assert lines[1] == (f"  {folder / 'img00_keypoints.json'}: no 'people' list (not an "
                        f"OpenPose --write_json file?)")
    assert len(lines) == 1 + BAD_FILES_SHOWN + 1 and lines[-1] == "  ... and 3 more"
    # a single malformed file: its one line, then the key
    with pytest.raises(OpenPoseError) as one:
        read_openpose_folder(folder, ["img05.jpg", "good.jpg"], key="pose.openpose_dir")
    assert str(one.value) == (f"{folder / 'img05_keypoints.json'}: no 'people' list (not an "
                              f"OpenPose --write_json file?) (pose.openpose_dir)")


def test_ambiguous_matches_are_errors(tmp_path: Path):
    folder = tmp_path / "openpose"
    write(folder / "a_keypoints.json", GOOD)
    with pytest.raises(OpenPoseError, match=r"a_keypoints.json: named after two images, a.jpg "
                                            r"and a.png \(same stem\); rename one \(k\)$"):
        read_openpose_folder(folder, ["a.jpg", "a.png"], key="k")
    write(folder / "train" / "b_keypoints.json", GOOD)
    write(folder / "test" / "b_keypoints.json", GOOD)
    with pytest.raises(OpenPoseError, match=r"train/b_keypoints.json: the file name also "
                                            r"occurs at .*test/b_keypoints.json; which one "
                                            r"holds b.jpg\? \(k\)$"):
        read_openpose_folder(folder, ["b.jpg"], key="k")
    with pytest.raises(OpenPoseError, match=r"nowhere: OpenPose JSON folder not found \(k\)$"):
        read_openpose_folder(tmp_path / "nowhere", ["a.jpg"], key="k")


# --------------------------------------------------------------------------- the stage
H = W = 16


def _raw(root: Path, **pose) -> dict:
    return {"data": {"root": str(root), "source": "folder", "annotations": [], "pairs": "",
                     "split_by": "fraction", "height": H, "width": W, "fit": "pad",
                     "workers": 1},
            "pose": {"backend": "openpose", "openpose_dir": "openpose", "workers": 1, **pose},
            "parse": {"backend": "coarse"}}


#: Image name -> native (height, width). 16x11 is padded by 2 columns left (scale 1); 32x22
#: is halved to 16x11 and padded alike (the DeepFashion 256x176 -> 256x256 case).
SIZES = {"p0_1.png": (16, 11), "p1_1.png": (32, 22), "p2_1.png": (16, 11),
         "p3_1.png": (16, 11), "p4_1.png": (16, 11)}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Five photos of other sizes ingested with data.fit=pad, and their OpenPose files: p0
    COCO-18, p1 BODY_25 with two people, p2 no person, p3 no file, p4 points outside."""
    root = tmp_path / "photos"
    (root / "images").mkdir(parents=True)
    for name, hw in SIZES.items():
        cv2.imwrite(str(root / "images" / name), np.zeros((*hw, 3), np.uint8))
    op = root / "openpose"
    write(op / "p0_1_keypoints.json", coco({0: (3, 5, 0.8), 1: (10, 15, 0.6)}))
    write(op / "p1_1_keypoints.json", body25({9: (1, 1, 0.2)}),
          body25({0: (7, 9, 0.9), 9: (21, 31, 0.7), 8: (11, 20, 1.0), 24: (5, 30, 1.0)}))
    write(op / "p2_1_keypoints.json")
    write(op / "p4_1_keypoints.json",
          coco({0: (11, 3, 0.9), 1: (4, -1, 0.9), 2: (10.5, 15.5, 0.4)}))
    ingest(validate(_raw(root)), Paths(tmp_path), progress=False)
    return root


def test_stage_places_openpose_points_in_the_padded_frame(tmp_path: Path, dataset: Path):
    summary = run(validate(_raw(dataset)), Paths(tmp_path), progress=False)
    art = Artifact(tmp_path / "data" / "prepared" / "poses.h5")
    assert art.names == list(SIZES)
    images = Artifact(tmp_path / "data" / "prepared" / "images.h5")
    np.testing.assert_array_equal(images["frame"][:], [[0, 2, 16, 11]] * 5)
    kp, conf, source = art["keypoints"][:], art["confidence"][:], art["source"][:]
    # p0, 16x11 at scale 1: (x 3, y 5) -> (y 5, x 3 + 2); (x 10, y 15) -> (15, 12)
    np.testing.assert_allclose(kp[0, :2], [[5, 5], [15, 12]])
    np.testing.assert_allclose(conf[0, :2], [0.8, 0.6])
    assert (kp[0, 2:] == -1).all() and (conf[0, 2:] == 0).all()
    # p1, 32x22 halved: person 1 (sum 1.6 over the 18 points; MidHip and RHeel not counted)
    # nose (x 7, y 9) -> ((9 + .5) / 2 - .5, (7 + .5) / 2 - .5 + 2) = (4.25, 5.25);
    # RHip = BODY_25 9 (x 21, y 31) -> (15.25, 12.25)
    np.testing.assert_allclose(kp[1, [0, 8]], [[4.25, 5.25], [15.25, 12.25]])
    np.testing.assert_allclose(conf[1, [0, 8]], [0.9, 0.7])
    assert (np.delete(kp[1], [0, 8], axis=0) == -1).all()
    # p4: x 11 is beyond the 11-wide image, y -1 above it: both missing; (10.5, 15.5) stays
    np.testing.assert_allclose(kp[4, 2], [15.5, 12.5])
    assert (kp[4, :2] == -1).all() and (conf[4, :2] == 0).all()
    assert source.tolist() == [SRC_OPENPOSE, SRC_OPENPOSE, 0, 0, SRC_OPENPOSE]
    assert json.loads(art["source"].attrs["source_names"]) == list(SOURCE_NAMES)

    op = dataset / "openpose"
    assert summary["source_counts"]["OpenPose JSON"] == 3
    assert summary["openpose_layouts"] == {"COCO-18": 2, "BODY_25": 1}
    several = [f"{op / 'p1_1_keypoints.json'}: 2 people, kept person 1 (confidence sum 1.60; "
               f"next 0.20)"]
    assert summary["openpose_several_people"] == several
    assert summary["openpose_no_person"] == [f"{op / 'p2_1_keypoints.json'}: no person"]
    assert summary["openpose_no_file"] == ["p3_1.png: no p3_1_keypoints.json"]
    outside = [f"{op / 'p4_1_keypoints.json'}: 2 point(s) outside the 16x11 image, set "
               f"missing (nose, neck)"]
    assert summary["openpose_files_outside_frame"] == outside
    assert summary["openpose_points_outside_frame"] == 2
    text = summary_text(summary).splitlines()
    assert text[1:] == [
        f"OpenPose JSON ({op}): 3 image(s) with a person (BODY_25 1, COCO-18 2), 1 with "
        f"several people, 1 file(s) with no person, 1 image(s) without a file, 0 file(s) "
        f"named after no image",
        "note: 1 file(s) with several people; kept the one with the largest confidence sum "
        "over the 18 points:",
        f"  {several[0]}",
        "warning: 2 image(s) without an OpenPose person:",
        f"  {op / 'p2_1_keypoints.json'}: no person",
        "  p3_1.png: no p3_1_keypoints.json",
        "warning: 2 OpenPose point(s) outside their image in 1 file(s), set missing:",
        f"  {outside[0]}"]


def test_malformed_file_stops_the_stage_with_one_line(tmp_path: Path, dataset: Path):
    bad = dataset / "openpose" / "p3_1_keypoints.json"
    bad.write_text('{"people": [{"pose_keypoints_2d": [1, 2, 3]}]}')
    message = (f"{bad}: people[0].pose_keypoints_2d holds 3 numbers; expected 54 (COCO-18) or "
               f"75 (BODY_25): x, y, confidence per body part (pose.openpose_dir)")
    with pytest.raises(OpenPoseError) as err:
        run(validate(_raw(dataset)), Paths(tmp_path), progress=False)
    assert str(err.value) == message
    assert not (tmp_path / "data" / "prepared" / "poses.h5").exists()
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(_raw(dataset)))
    proc = subprocess.run([sys.executable, str(REPO / "stages" / "pose.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"pose: error: {message}"]


def test_no_usable_file_stops_the_stage(tmp_path: Path, dataset: Path):
    for path in (dataset / "openpose").iterdir():
        path.unlink()
    with pytest.raises(OpenPoseError, match=r"openpose: no <image stem>_keypoints.json file "
                                            r"is named after an image \(pose.openpose_dir\)$"):
        run(validate(_raw(dataset)), Paths(tmp_path), progress=False)
    write(dataset / "openpose" / "p0_1_keypoints.json")
    with pytest.raises(OpenPoseError, match=r"openpose: no file holds a person "
                                            r"\(pose.openpose_dir\)$"):
        run(validate(_raw(dataset)), Paths(tmp_path), progress=False)
    with pytest.raises(OpenPoseError, match=r"photos/elsewhere: OpenPose JSON folder not found "
                                            r"\(pose.openpose_dir\)$"):
        run(validate(_raw(dataset, openpose_dir="elsewhere")), Paths(tmp_path), progress=False)


@pytest.mark.parametrize("value,needle", [
    ("", "pose.backend = 'openpose' needs the folder of the OpenPose JSON files inside "
         "data.root (got '')"),
    ("/abs/openpose", "must be a path relative to data.root, not an absolute path"),
    ("../openpose", "must stay inside data.root (no '..' in the path)"),
])
def test_openpose_dir_is_checked_on_load(tmp_path: Path, value: str, needle: str):
    with pytest.raises(ParamsError) as err:
        validate(_raw(tmp_path, openpose_dir=value))
    assert "pose.openpose_dir" in str(err.value) and needle in str(err.value)


def test_symlink_out_of_the_root_is_refused(tmp_path: Path, dataset: Path):
    (dataset / "openpose").rename(tmp_path / "outside")
    (dataset / "openpose").symlink_to(tmp_path / "outside")
    with pytest.raises(ParamsError, match=r"outside data.root \(pose.openpose_dir\)$"):
        run(validate(_raw(dataset)), Paths(tmp_path), progress=False)


def test_auto_takes_annotation_row_then_openpose_then_detector(tmp_path: Path, dataset: Path):
    """auto: p0 has an annotation row and a JSON (the row wins), p1 and p4 OpenPose persons,
    p2 (no person) and p3 (no file) go to the detector."""
    pytest.importorskip("mediapipe")
    write_keypoint_file(dataset / "ann.csv", ["p0_1.png"],
                        np.array([[[2, 1]] + [[-1, -1]] * 17], np.float32))
    raw = _raw(dataset, backend="auto")
    raw["data"]["annotations"] = ["ann.csv"]
    summary = run(validate(raw), Paths(tmp_path), progress=False)
    art = Artifact(tmp_path / "data" / "prepared" / "poses.h5")
    assert art["source"][:].tolist() == [SRC_ANNOTATION, SRC_OPENPOSE, SRC_DETECTOR,
                                         SRC_DETECTOR, SRC_OPENPOSE]
    np.testing.assert_allclose(art["keypoints"][0, 0], [2, 3])        # the row's (y 2, x 1 + 2)
    assert art["confidence"][0, 0] == 1.0 and art["confidence"][1, 0] == pytest.approx(0.9)
    assert summary["openpose_no_file"] == ["p3_1.png: no p3_1_keypoints.json"]
    assert summary["openpose_layouts"] == {"BODY_25": 1, "COCO-18": 1}   # p0's file not read
    # without openpose_dir, auto is what it was: annotation row, else the detector
    summary = run(validate({**raw, "pose": {"backend": "auto", "workers": 1}}), Paths(tmp_path),
                  progress=False)
    assert "openpose_dir" not in summary
    assert Artifact(tmp_path / "data" / "prepared" / "poses.h5")["source"][:].tolist() == [
        SRC_ANNOTATION] + [SRC_DETECTOR] * 4


def test_docs_recipe_reads_openpose_json_as_printed(tmp_path: Path):
    """The `dvc exp run -S ...` of docs/real-datasets.md's OpenPose section, applied with
    DVC's own override code, validates and runs ingest + pose on a folder of two photos."""
    from tests.ingest.test_readme_recipes import _params, _recipe

    params = _params(tmp_path, _recipe("## OpenPose JSON"))
    assert params.pose.backend == "openpose" and params.data.fit == "pad"
    root = tmp_path / params.data.root
    root.mkdir(parents=True)
    for name in ("ann_1.jpg", "bob_1.png"):                 # 64x44: scale 4 into 256x176
        cv2.imwrite(str(root / name), np.full((64, 44, 3), 128, np.uint8))
    write(root / params.pose.openpose_dir / "ann_1_keypoints.json",
          body25({0: (10, 20, 0.75)}))
    ingest(params, Paths(tmp_path), progress=False)
    summary = run(params, Paths(tmp_path), progress=False)
    kp = Artifact(tmp_path / "data" / "prepared" / "poses.h5")["keypoints"][:]
    # (x 10, y 20) -> ((20 + .5) * 4 - .5, (10 + .5) * 4 - .5 + 40) in the 256x256 frame
    np.testing.assert_allclose(kp[0, 0], [81.5, 81.5])
    assert summary["openpose_no_file"] == ["bob_1.png: no bob_1_keypoints.json"]
