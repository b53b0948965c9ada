import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.annotations import AnnotationError, write_keypoint_file, write_pairs_file
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.config.params import validate
from pipeline.ingest.stage import IngestError, person_id, run


def _img(path: Path, h: int, w: int, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((h, w, 3), value, np.uint8))


def _params(root: Path, **data):
    return validate({"data": {"root": str(root), "workers": 1, **data},
                     "pose": {"backend": "auto"}, "parse": {"backend": "labels"}})


def _fashion_folder(root: Path) -> None:
    names = ["fasionWOMENDressesid0000553705_1front.jpg", "fasionWOMENDressesid0000553705_2side.jpg",
             "fasionMENTeesid0000111101_1front.jpg", "fasionMENTeesid0000111101_7additional.jpg"]
    for i, n in enumerate(names):
        _img(root / "images" / n, 32, 24, 10 * i)
    _img(root / "images" / "fasionMENTeesid0000999901_1front.jpg", 40, 24, 50)   # wrong size
    (root / "images" / "fasionMENTeesid0000888801_1front.jpg").write_bytes(b"broken")
    kp = np.full((len(names) + 1, 18, 2), -1, np.float32)
    kp[:-2, 0] = [5, 6]
    write_keypoint_file(root / "ann.csv", names + ["fasionGONEid0000000001_1front.jpg"], kp)
    write_pairs_file(root / "pairs.csv", [(names[0], names[1]), (names[1], names[0]),
                                          (names[0], "fasionMENTeesid0000999901_1front.jpg")])


def test_deepfashion_like_folder(tmp_path: Path):
    root = tmp_path / "df"
    _fashion_folder(root)
    paths = Paths(tmp_path)
    out, summary = paths.artifact("images"), paths.summary("images")
    report = run(_params(root, source="deepfashion", annotations="ann.csv", pairs="pairs.csv",
                         height=32, width=24), paths, progress=False)
    art = Artifact(out)
    assert art.names == sorted(art.names) and len(art) == 4
    assert art["images"].shape == (4, 32, 24, 3)
    pids = [s.decode() for s in art["person_id"][:]]
    assert set(pids) == {"id0000553705", "id0000111101"}
    split = art["split"][:]
    # split by identity: the person of the test pairs is test, the other is train
    assert {p for p, s in zip(pids, split) if s == 1} == {"id0000553705"}
    assert art["pairs/test"].shape == (2, 2)
    a, b = art["pairs/test"][0]
    assert art.names[a] != art.names[b]
    rep = json.loads(summary.read_text())
    reasons = " ".join(rep["left_out"])
    assert "does not decode" in reasons and "size 40x24 != 32x24" in reasons
    assert rep["annotation_rows_without_image"] == ["fasionGONEid0000000001_1front.jpg"]
    assert len(rep["annotation_rows_all_missing"]) == 2
    assert rep["pairs_dropped"] and rep["counts"]["kept"] == 4 == report["kept"]
    assert rep == report


def test_resize_keeps_mismatched_images(tmp_path: Path):
    root = tmp_path / "df"
    _fashion_folder(root)
    report = run(_params(root, source="deepfashion", annotations="ann.csv", pairs="pairs.csv",
                         height=32, width=24, resize=True), Paths(tmp_path), progress=False)
    assert report["kept"] == 5 and report["resized"] == ["fasionMENTeesid0000999901_1front.jpg"]


def test_market_distractors_and_folder_split(tmp_path: Path):
    root = tmp_path / "market"
    for n in ["0002_c1s1_000451_03.jpg", "0002_c2s1_000301_01.jpg", "-1_c1s1_000401_03.jpg",
              "0000_c1s1_000151_01.jpg"]:
        _img(root / "bounding_box_train" / n, 32, 16, 1)
    _img(root / "bounding_box_test" / "0005_c1s1_001051_02.jpg", 32, 16, 2)
    paths = Paths(tmp_path)
    report = run(_params(root, source="market", images=".", annotations=[], pairs="",
                         split_by="folders", height=32, width=16), paths, progress=False)
    art = Artifact(paths.artifact("images"))
    assert report["kept"] == 3
    assert len(report["left_out"]["Market-1501 distractor/junk id (-1 or 0000)"]) == 2
    assert dict(zip(art.names, art["split"][:])) == {
        "0002_c1s1_000451_03.jpg": 0, "0002_c2s1_000301_01.jpg": 0, "0005_c1s1_001051_02.jpg": 1}
    assert art["pairs/test"].shape == (0, 2)


def test_errors_name_the_folder(tmp_path: Path):
    paths = Paths(tmp_path)
    with pytest.raises(IngestError, match="dataset folder not found"):
        run(_params(tmp_path / "nope"), paths)
    (tmp_path / "empty" / "images").mkdir(parents=True)
    with pytest.raises(IngestError, match="no images found"):
        run(_params(tmp_path / "empty"), paths)
    assert not paths.artifact("images").exists() and not any(paths.prepared.glob("*"))


def test_person_ids():
    assert person_id("fasionWOMENDressesid0000553705_4full.jpg", "deepfashion") == "id0000553705"
    assert person_id("0161_c3s3_033053_04.jpg", "market") == "0161"
    assert person_id("synth_id00012_03front.png", "synthetic") == "id00012"
    assert person_id("alice_2.jpg", "folder") == "alice"


def test_duplicate_rows_named_on_the_console(tmp_path: Path):
    """Regression: duplicates were only counted; each is named by file:line, up to a limit."""
    from pipeline.ingest.stage import DUPLICATES_SHOWN, summary_text

    root = tmp_path / "df"
    _fashion_folder(root)
    names = sorted(p.name for p in (root / "images").iterdir())
    kp = np.zeros((1, 18, 2), np.float32)
    # 12 repeats of the first image in one file (rows 3..14), one repeat in a second file
    write_keypoint_file(root / "dup.csv", [names[0]] * 13, np.repeat(kp, 13, axis=0))
    write_keypoint_file(root / "more.csv", [names[1], names[0]], np.repeat(kp, 2, axis=0))
    summary = run(_params(root, source="deepfashion", annotations=["dup.csv", "more.csv"],
                          pairs="pairs.csv", height=32, width=24), Paths(tmp_path),
                  progress=False)
    dup, more = root / "dup.csv", root / "more.csv"
    rows = [f"{dup}:{line}: {names[0]}" for line in range(3, 15)] + [f"{more}:3: {names[0]}"]
    assert summary["annotation_duplicate_rows"] == rows
    assert summary["annotation_duplicates"] == [names[0]] * 13
    text = summary_text(summary).splitlines()
    assert "annotation rows repeating an image's earlier row (the first is kept): 13" in text
    assert [f"  {r}" for r in rows[:DUPLICATES_SHOWN]] == [
        line for line in text if line.startswith("  /")]
    assert text[-1] == f"  ... and {13 - DUPLICATES_SHOWN} more"


@pytest.mark.parametrize("data,message", [
    ({"root": "nope"}, "nope: dataset folder not found (data.root)"),
    ({"images": "imgs"}, "imgs: image folder not found (data.images)"),
    ({"annotations": ["ann.csv", "gone.csv"]}, "gone.csv: annotation file not found "
                                                "(data.annotations)"),
    ({"pairs": "pairs-test.csv"}, "pairs-test.csv: pairs file not found (data.pairs)"),
    ({"train_pairs": "train.csv"}, "train.csv: pairs file not found (data.train_pairs)"),
])
def test_every_path_error_names_its_key(tmp_path: Path, data: dict, message: str):
    """Regression: `.../pairs-test.csv: pairs file not found` did not say which key to fix."""
    root = tmp_path / "df"
    _fashion_folder(root)
    raw = {"root": str(root), "source": "deepfashion", "annotations": "ann.csv",
           "pairs": "pairs.csv", "height": 32, "width": 24, **data}
    if data.get("root"):
        raw["root"] = str(tmp_path / data["root"])
    with pytest.raises((IngestError, AnnotationError)) as err:
        run(_params(**raw), Paths(tmp_path), progress=False)
    assert str(err.value).endswith(message) and "\n" not in str(err.value)
