"""The pipeline itself: `dvc repro` in a temporary git repository on the tiny setting,
then one `dvc exp run -S ...` that changes a parameter."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.artifacts import Artifact
from tests.helpers import REPO

#: The tiny setting: a dataset small enough for the whole pipeline to run in seconds.
TINY = {"identities": 4, "poses_per_identity": 3, "pairs_per_identity": 2}
TINY_SIZE = {"height": 64, "width": 64}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["DVC_NO_ANALYTICS"] = "1"
    env["PYTHONPATH"] = ""
    return env


def _run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("spt") / "repo"
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        src = REPO / rel
        if src.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    params = yaml.safe_load((dst / "params.yaml").read_text())
    params["data"].update(TINY_SIZE)
    params["data"]["synthetic"].update(TINY)
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _run(["git", "init", "-q"], dst)
    _run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "add", "-A"], dst)
    _run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"], dst)
    return dst


@pytest.mark.slow
def test_dvc_repro_runs_the_pipeline(project: Path):
    _run(["dvc", "repro"], project)
    images = Artifact(project / "data/prepared/images.h5")
    n = TINY["identities"] * TINY["poses_per_identity"]
    assert len(images) == n and images["images"].shape == (n, 64, 64, 3)
    assert (images["split"][:] == 1).any() and (images["split"][:] == 0).any()
    assert images["pairs/test"].shape[0] > 0
    status = _run(["dvc", "status"], project)
    assert "up to date" in status


@pytest.mark.slow
def test_synthetic_backends_reproduce_ground_truth(project: Path):
    import cv2
    import h5py
    import json

    prepared = project / "data/prepared"
    names = Artifact(prepared / "images.h5").names
    poses = Artifact(prepared / "poses.h5")["keypoints"][:]
    labels = Artifact(prepared / "parsing.h5")["labels"][:]
    with h5py.File(project / "data/raw/synthetic/truth.h5") as f:
        truth_kp = f["keypoints"][:]
        truth_names = [n.decode() for n in f["names"][:]]
    index = [truth_names.index(n) for n in names]
    np.testing.assert_array_equal(poses, truth_kp[index])
    for i, n in enumerate(names):
        gt = cv2.imread(str(project / "data/raw/synthetic/parsing" / n), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(labels[i], gt)
    pseudo = Artifact(prepared / "pseudo.h5")
    assert len(pseudo) == len(names) and (pseudo["target_index"][:] >= 0).any()
    report = json.loads((project / "eval/search_report.json").read_text())
    assert 0.0 <= report["search"]["mean_iou"] <= 1.0


@pytest.mark.slow
def test_dvc_exp_run_changes_a_parameter(project: Path):
    before = Artifact(project / "data/prepared/images.h5")["images"][0].copy()
    _run(["dvc", "exp", "run", "-S", "data.synthetic.seed=7", "-n", "seed7"], project)
    out = _run(["dvc", "exp", "show", "--csv"], project)
    assert "seed7" in out
    assert "search.mean_iou" in out.splitlines()[0]            # the metric reaches exp show
    after = Artifact(project / "data/prepared/images.h5")["images"][0]
    assert not (before == after).all()


@pytest.mark.slow
def test_bad_param_stops_the_stage_with_a_clear_message(project: Path):
    proc = subprocess.run(["dvc", "exp", "run", "-S", "data.height=3", "-n", "bad"], cwd=project,
                          env=_env(), capture_output=True, text=True)
    assert proc.returncode != 0
    assert "data.height = 3" in proc.stdout + proc.stderr
