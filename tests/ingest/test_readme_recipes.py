"""The dataset recipes of docs/real-datasets.md, run as printed (the plain-folder recipe failed).

The `dvc exp run -S ...` overrides are taken from the README's code blocks and applied to a
copy of params.yaml with DVC's own override code, so a recipe that the README prints but
DVC would apply differently, or that does not validate, fails here.
"""
from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.annotations import AnnotationError
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact
from pipeline.config.params import Params, load_params
from pipeline.ingest.stage import IngestError
from pipeline.ingest.stage import run as ingest
from tests.helpers import REPO


def _recipe(after: str) -> list[str]:
    """The -S overrides of the first ```bash block after the README line containing ``after``."""
    readme = (REPO / "docs" / "real-datasets.md").read_text()
    start = readme.index(after)
    block = re.search(r"```bash\n(.*?)```", readme[start:], re.S)
    assert block, f"README: no bash block after {after!r}"
    words = shlex.split(block.group(1).replace("\\\n", " "))
    assert words[:3] == ["dvc", "exp", "run"], words
    assert all(w == "-S" for w in words[3::2]) and len(words) % 2 == 1, words
    return words[4::2]


def _params(tmp_path: Path, overrides: list[str]) -> Params:
    """params.yaml of the repository with ``overrides`` applied as `dvc exp run -S` does."""
    from dvc.utils.hydra import apply_overrides

    path = tmp_path / "params.yaml"
    shutil.copy(REPO / "params.yaml", path)
    apply_overrides(path, overrides)
    return load_params(path)


def _photos(folder: Path) -> None:
    """Three photographs of two people, of other sizes than the stored 256 x 256."""
    import matplotlib.cbook as cbook
    import matplotlib.image as mimage
    from skimage.data import astronaut

    hopper = mimage.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    folder.mkdir(parents=True)
    for name, rgb in (("astronaut_1.png", astronaut()), ("hopper_1.jpg", hopper),
                      ("hopper_2.jpg", np.ascontiguousarray(hopper[:, ::-1]))):
        cv2.imwrite(str(folder / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


PLAIN_FOLDER = "A plain folder of photos"


def test_plain_folder_recipe_ingests_as_printed(tmp_path: Path):
    overrides = _recipe(PLAIN_FOLDER)
    params = _params(tmp_path, overrides)
    assert params.data.source == "folder" and params.pose.backend == "mediapipe"
    assert params.parse.backend == "coarse"
    _photos(tmp_path / params.data.root)
    summary = ingest(params, Paths(tmp_path), progress=False)
    art = Artifact(tmp_path / "data" / "prepared" / "images.h5")
    assert art.names == ["astronaut_1.png", "hopper_1.jpg", "hopper_2.jpg"]
    assert art["images"].shape == (3, 256, 256, 3)
    assert [p.decode() for p in art["person_id"][:]] == ["astronaut", "hopper", "hopper"]
    assert summary["kept"] == 3 and len(summary["resized"]) == 3
    assert art["pairs/test"].shape == (0, 2)
    # pose, as the recipe sets it: the offline detector finds both people
    pytest.importorskip("mediapipe")
    from pipeline.pose.stage import run as pose

    poses = pose(params, Paths(tmp_path), progress=False)
    assert poses["backend"] == "mediapipe" and poses["detector_found_no_person"] == []
    assert poses["source_counts"]["detector"] == 3 and poses["all_missing"] == []
    kp = Artifact(tmp_path / "data" / "prepared" / "poses.h5")["keypoints"][:]
    assert (kp[:, [0, 2, 5]] >= 0).all()         # nose and both shoulders (portraits: no hips)


@pytest.mark.parametrize("dropped,error,message", [
    (["data.images=."], IngestError, "/images: image folder not found (data.images)"),
    (["data.pairs=''", "data.split_by=fraction"], AnnotationError,
     "/pairs-test.csv: pairs file not found (data.pairs)"),
])
def test_plain_folder_recipe_without_a_piece_names_the_key(tmp_path: Path, dropped, error,
                                                           message):
    """What the old recipe hit: the images folder and the pairs file of the defaults."""
    overrides = [o for o in _recipe(PLAIN_FOLDER) if o not in dropped]
    assert len(overrides) == len(_recipe(PLAIN_FOLDER)) - len(dropped)
    params = _params(tmp_path, overrides)
    _photos(tmp_path / params.data.root)
    with pytest.raises(error) as err:
        ingest(params, Paths(tmp_path), progress=False)
    assert str(err.value).endswith(message) and "\n" not in str(err.value)


def test_deepfashion_recipe_validates(tmp_path: Path):
    params = _params(tmp_path, _recipe("DeepFashion (Pose-Transfer layout"))
    assert params.data.source == "deepfashion" and params.parse.label_set == "lip"
    assert params.data.annotations == ["fasion-resize-annotation-train.csv",
                                       "fasion-resize-annotation-test.csv"]
    # 256x176 photos in the networks' 256x256 frame, padded like the field's evaluation
    assert (params.data.height, params.data.width, params.data.fit) == (256, 256, "pad")
