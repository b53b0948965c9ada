"""Stage `parse` with the labels backend: every bad label map in one error."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.config.params import validate
from pipeline.ingest.stage import run as ingest
from pipeline.parsing.stage import BAD_MAPS_SHOWN, ParsingError, run

H, W = 16, 16
N = BAD_MAPS_SHOWN + 6


def _params(root: Path):
    return validate({"data": {"root": str(root), "source": "folder", "annotations": [],
                              "pairs": "", "split_by": "fraction", "height": H, "width": W,
                              "workers": 1},
                     "pose": {"backend": "mediapipe"},
                     "parse": {"backend": "labels", "label_set": "spt10", "workers": 1}})


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, list[str]]:
    """N images of H x W with a valid spt10 label map each; ingested into images.h5."""
    root = tmp_path / "photos"
    (root / "images").mkdir(parents=True)
    (root / "parsing").mkdir()
    names = [f"p{i:02d}_1.png" for i in range(N)]
    for i, name in enumerate(names):
        cv2.imwrite(str(root / "images" / name), np.zeros((H, W, 3), np.uint8))
        cv2.imwrite(str(root / "parsing" / name), np.full((H, W), i % 10, np.uint8))
    ingest(_params(root), Paths(tmp_path), progress=False)
    return root, names


def test_good_maps(tmp_path: Path, dataset):
    root, names = dataset
    summary = run(_params(root), Paths(tmp_path), progress=False)
    labels = Artifact(tmp_path / "data" / "prepared" / "parsing.h5")["labels"][:]
    assert summary["images"] == N and labels.shape == (N, H, W)
    assert [int(lab[0, 0]) for lab in labels] == [i % 10 for i in range(N)]


def test_every_bad_map_reported_in_one_error(tmp_path: Path, dataset):
    """Formerly only the first bad map of a run was named."""
    root, names = dataset
    maps = root / "parsing"
    bad = list(range(1, N))                      # all but the first map
    for i in bad:
        path = maps / names[i]
        if i % 4 == 0:
            cv2.imwrite(str(path), np.full((H, W), 25, np.uint8))     # outside spt10
        elif i % 4 == 1:
            cv2.imwrite(str(path), np.zeros((H + 4, W), np.uint8))    # wrong size
        elif i % 4 == 2:
            path.unlink()                                             # missing
        else:
            path.write_bytes(b"not a png")                            # unreadable
    with pytest.raises(ParsingError) as err:
        run(_params(root), Paths(tmp_path), progress=False)
    lines = str(err.value).splitlines()
    assert lines[0] == f"{maps}: {len(bad)} of {N} label maps unusable (parse.labels_dir):"
    assert len(lines) == 1 + BAD_MAPS_SHOWN + 1
    assert lines[-1] == f"  ... and {len(bad) - BAD_MAPS_SHOWN} more"
    shown = lines[1:-1]
    for i, line in zip(bad, shown):              # in image order, each naming its file
        stem = Path(names[i]).stem
        assert line.startswith("  ") and stem in line, (i, line)
    assert "25" in shown[3] and "outside" in shown[3]                 # i = 4
    assert f"label map is {H + 4}x{W}" in shown[0]                    # i = 1
    assert "no label map for image" in shown[1]                       # i = 2
    assert not (tmp_path / "data" / "prepared" / "parsing.h5").exists()


def test_few_bad_maps_listed_without_a_count(tmp_path: Path, dataset):
    root, names = dataset
    for i in (3, 7):
        cv2.imwrite(str(root / "parsing" / names[i]), np.full((H, W), 11, np.uint8))
    with pytest.raises(ParsingError) as err:
        run(_params(root), Paths(tmp_path), progress=False)
    lines = str(err.value).splitlines()
    assert lines[0].endswith(f"2 of {N} label maps unusable (parse.labels_dir):")
    assert len(lines) == 3 and "p03_1.png" in lines[1] and "p07_1.png" in lines[2]


def test_missing_folder_names_the_key(tmp_path: Path, dataset):
    root, _ = dataset
    (root / "parsing").rename(root / "elsewhere")
    with pytest.raises(ParsingError, match=r"parsing: label-map folder not found "
                                           r"\(parse.labels_dir\)$"):
        run(_params(root), Paths(tmp_path), progress=False)
