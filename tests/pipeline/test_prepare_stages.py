"""The preparation stages end to end on tiny data: pose, parse and masks."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.annotations import read_keypoint_file, write_keypoint_file
from pipeline.ingest import stage as ingest
from pipeline.masks import stage as masks_stage
from pipeline.parsing import stage as parsing
from pipeline.pose import stage as pose
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.config.params import validate
from pipeline.geometry import part_bitfield, pose_mask
from pipeline.parser_labels import LIP_LABELS
from pipeline.parsing.stage import ParsingError
from pipeline.pose.stage import SRC_ANNOTATION, SRC_DETECTOR
from tests.helpers import ANNOTATIONS

N = 6


def _params(root: Path, **sections):
    raw = {"data": {"source": "deepfashion", "root": str(root), "annotations": "ann.csv",
                    "pairs": "", "split_by": "fraction", "workers": 1},
           "pose": {"backend": "annotations", "workers": 1},
           "parse": {"backend": "labels", "label_set": "lip", "workers": 1},
           "masks": {"workers": 1}}
    for key, value in sections.items():
        raw[key].update(value)
    return validate(raw)


@pytest.fixture
def fashion(tmp_path: Path) -> tuple[Path, list[str], np.ndarray]:
    """Real DeepFashion sample rows (with a torso) as a dataset of blank 256x256 images, plus
    LIP label maps."""
    ann = read_keypoint_file(ANNOTATIONS / "fasion-annotation-sample.csv")
    keep = [i for i, k in enumerate(ann.keypoints)
            if (k[[2, 5, 8, 11]] >= 0).all()][:N]
    names = [ann.names[i] for i in keep]
    kp = ann.keypoints[keep]
    root = tmp_path / "df"
    (root / "images").mkdir(parents=True)
    (root / "parsing").mkdir()
    for i, name in enumerate(names):
        cv2.imwrite(str(root / "images" / name), np.full((256, 256, 3), 40 * i, np.uint8))
        lip = np.zeros((256, 256), np.uint8)
        lip[20:60, 100:150] = LIP_LABELS.index("Face")
        lip[60:140, 90:160] = LIP_LABELS.index("UpperClothes")
        lip[60:140, 60:90] = LIP_LABELS.index("Left-arm")
        lip[140:150, 60:90] = LIP_LABELS.index("Glove")         # side-less: nearest arm
        cv2.imwrite(str(root / "parsing" / (Path(name).stem + ".png")), lip)
    write_keypoint_file(root / "ann.csv", names, kp)
    return root, names, kp


def _prepare(root: Path, params, tmp: Path) -> Path:
    """Ingest into Paths(tmp); returns the prepared folder."""
    ingest.run(params, Paths(tmp), progress=False)
    return Paths(tmp).prepared


def _run(module, params, out: Path) -> dict:
    """Run a stage library's run() on the project whose prepared folder is ``out``."""
    return module.run(params, Paths(out.parent.parent), progress=False)


def test_annotations_backend_reads_real_rows(fashion, tmp_path):
    root, names, kp = fashion
    params = _params(root)
    out = _prepare(root, params, tmp_path)
    s = _run(pose, params, out)
    poses = Artifact(out / "poses.h5")
    poses.check_aligned(Artifact(out / "images.h5"))
    order = [names.index(n) for n in poses.names]
    np.testing.assert_array_equal(poses["keypoints"][:], kp[order])
    assert (poses["source"][:] == SRC_ANNOTATION).all()
    conf = poses["confidence"][:]
    assert ((conf == 1) == (kp[order] >= 0).all(axis=2)).all()
    assert s["torso_valid"] == N


def test_annotations_are_rescaled_from_the_original_size(fashion, tmp_path):
    root, names, kp = fashion
    params = _params(root, data={"height": 128, "width": 128, "resize": True})
    out = _prepare(root, params, tmp_path)
    _run(pose, params, out)
    poses = Artifact(out / "poses.h5")
    got = poses["keypoints"][:][[poses.names.index(n) for n in names]]
    present = kp >= 0
    np.testing.assert_allclose(got[present], ((kp + 0.5) * 0.5 - 0.5).clip(0)[present])


def test_auto_backend_uses_the_detector_where_no_row_exists(fashion, tmp_path):
    import skimage.data

    root, names, kp = fashion
    astronaut = cv2.resize(skimage.data.astronaut(), (256, 256))
    cv2.imwrite(str(root / "images" / "fasionWOMENTeesid0000999901_1front.jpg"),
                cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    params = _params(root, pose={"backend": "auto"})
    out = _prepare(root, params, tmp_path)
    s = _run(pose, params, out)
    poses = Artifact(out / "poses.h5")
    row = poses.names.index("fasionWOMENTeesid0000999901_1front.jpg")
    assert poses["source"][row] == SRC_DETECTOR
    assert (poses["keypoints"][row][0] >= 0).all()          # the detector found the nose
    assert s["source_counts"]["annotation"] == N


def test_labels_backend_maps_lip_and_resolves_gloves(fashion, tmp_path):
    root, names, _ = fashion
    params = _params(root)
    out = _prepare(root, params, tmp_path)
    _run(parsing, params, out)
    lab = Artifact(out / "parsing.h5")["labels"][0]
    assert lab[30, 120] == 1 and lab[100, 120] == 3 and lab[100, 70] == 6
    assert lab[145, 70] == 6                                 # glove -> the nearest arm's side
    assert json.loads((out / "parsing.summary.json").read_text())["label_set"] == "lip"


def test_label_map_errors_name_the_file(fashion, tmp_path):
    root, names, _ = fashion
    params = _params(root)
    out = _prepare(root, params, tmp_path)
    bad = root / "parsing" / (Path(names[1]).stem + ".png")
    cv2.imwrite(str(bad), np.full((256, 256), 25, np.uint8))
    with pytest.raises(ParsingError, match=rf"{bad.name}.*25.*outside"):
        _run(parsing, params, out)
    cv2.imwrite(str(bad), np.zeros((100, 100), np.uint8))
    with pytest.raises(ParsingError, match=rf"{bad.name}: label map is 100x100"):
        _run(parsing, params, out)
    bad.unlink()
    with pytest.raises(ParsingError, match="no label map for image"):
        _run(parsing, params, out)
    assert not (out / "parsing.h5").exists()


def test_masks_stage_matches_the_geometry(fashion, tmp_path):
    root, names, kp = fashion
    params = _params(root)
    out = _prepare(root, params, tmp_path)
    _run(pose, params, out)
    s = _run(masks_stage, _params(root, masks={"workers": 2}), out)
    masks = Artifact(out / "masks.h5")
    poses = Artifact(out / "poses.h5")
    for i in range(N):
        k = poses["keypoints"][i]
        assert np.array_equal(masks["parts"][i], part_bitfield(k, 256, 256))
        assert np.array_equal(masks["pose_mask"][i], pose_mask(k, 256, 256))
    assert s["torso_valid"] == N and masks["part_valid"][:, 0].all()


def test_coarse_backend_in_parallel_workers(fashion, tmp_path):
    root, names, _ = fashion
    params = _params(root, parse={"backend": "coarse", "workers": 2})
    out = _prepare(root, params, tmp_path)
    _run(pose, params, out)
    s = _run(parsing, params, out)
    labels = Artifact(out / "parsing.h5")["labels"][:]
    assert labels.shape == (N, 256, 256) and labels.max() <= 9
    # blank images: no detector person, so the pose's GrabCut-refined silhouette is parsed
    assert (labels > 0).any() and s["label_set"].startswith("spt10")
