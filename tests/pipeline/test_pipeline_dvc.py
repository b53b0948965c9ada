"""The pipeline itself: `dvc repro` in a temporary git repository on the tiny setting; a fresh
clone reproduces it without changing dvc.lock; an execution-only setting reruns nothing; one
`dvc exp run -S ...` changes a parameter; invalid params fail the experiment naming the key."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.artifacts.reader import Artifact
from pipeline.synthetic.truth import read_truth
from tests.helpers import REPO

#: The tiny setting: a dataset small enough for the whole pipeline to run in seconds.
TINY = {"identities": 4, "poses_per_identity": 3, "pairs_per_identity": 2}
TINY_SIZE = {"height": 64, "width": 64}
#: A few steps of a narrow semantic network: the stage runs end to end, it does not learn.
TINY_SEMANTIC = {"height": 32, "width": 32, "channels": 8, "depth": 3, "max_channels": 32,
                 "iterations": 6, "batch_size": 4, "log_every": 2, "sample_every": 3,
                 "sample_count": 2, "checkpoint_every": 3, "threads": 1}
#: Likewise for the pose detector and the appearance network.
TINY_POSENET = {"height": 32, "width": 32, "channels": 4, "blocks": 1, "iterations": 6,
                "batch_size": 4, "log_every": 2, "sample_every": 3, "sample_count": 2,
                "checkpoint_every": 3, "threads": 1}
TINY_TRAIN = {"height": 32, "width": 32, "channels": 4, "depth": 2, "max_channels": 8,
              "disc_channels": 4, "disc_layers": 2, "face_size": 8, "batch_size": 2,
              "iterations": 4, "joint_iterations": 2, "log_every": 2, "sample_every": 2,
              "sample_count": 2, "checkpoint_every": 3, "threads": 1}
#: The evaluation without FID (its Inception costs ~0.3 s per image; tests/metrics cover it).
TINY_EVALUATE = {"fid": False, "unpaired_pairs": 4, "grid_pairs": 1, "batch_size": 4,
                 "threads": 1}


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


_GIT = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]


def _stages_run(output: str) -> set[str]:
    """Names of the stages DVC ran (not skipped) according to its console output."""
    return set(re.findall(r"Running stage '([\w-]+)'", output))


def _failing_exp(project: Path, *settings: str) -> str:
    """Run `dvc exp run -S ...`, expect it to fail, restore params.yaml; returns the output."""
    cmd = ["dvc", "exp", "run"] + [a for s in settings for a in ("-S", s)]
    proc = subprocess.run(cmd, cwd=project, env=_env(), capture_output=True, text=True)
    subprocess.run(["git", "checkout", "-q", "--", "params.yaml"], cwd=project, check=True)
    assert proc.returncode != 0, f"{' '.join(cmd)} succeeded:\n{proc.stdout}"
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
    params["semantic"].update(TINY_SEMANTIC)
    params["posenet"].update(TINY_POSENET)
    params["appearance"].update(TINY_TRAIN)
    params["evaluate"].update(TINY_EVALUATE)
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _run(["git", "init", "-q"], dst)
    _run(_GIT + ["add", "-A"], dst)
    _run(_GIT + ["commit", "-qm", "init"], dst)
    return dst


@pytest.mark.slow
def test_dvc_repro_runs_the_pipeline(project: Path):
    _run(["dvc", "repro"], project)
    images = Artifact(project / "data/prepared/images.h5")
    n = TINY["identities"] * TINY["poses_per_identity"]
    assert len(images) == n and images["images"].shape == (n, 64, 64, 3)
    assert (images["split"][:] == 1).any() and (images["split"][:] == 0).any()
    assert images["pairs/test"].shape[0] > 0
    metrics = json.loads((project / "eval/metrics.json").read_text())      # the last stage
    assert metrics["paired"]["pairs"] == images["pairs/test"].shape[0]
    assert metrics["unpaired"]["pairs"] == TINY_EVALUATE["unpaired_pairs"]
    assert len(list((project / "eval/images").glob("*.png"))) == metrics["paired"]["pairs"]
    assert "## Test pairs" in (project / "eval/report.md").read_text()
    status = _run(["dvc", "status"], project)
    assert "up to date" in status or set(status.split()) <= {"validate:", "always", "changed"}
    _run(_GIT + ["add", "-A"], project)                   # dvc.lock and the git-tracked metric
    _run(_GIT + ["commit", "-qm", "repro"], project)


@pytest.mark.slow
def test_fresh_clone_reproduces_dvc_lock(project: Path, tmp_path: Path):
    """Every artifact is byte-identical when its inputs are: a fresh clone (other folder, no
    cache, no outputs) reruns everything and leaves dvc.lock and the metric unchanged."""
    clone = tmp_path / "clone"
    _run(["git", "clone", "-q", str(project), str(clone)], tmp_path)
    ran = _stages_run(_run(["dvc", "repro"], clone))
    assert {"synthesize", "ingest", "pose", "parse", "masks", "search"} <= ran
    # the metric is git-tracked and pseudo.h5 came out with the same bytes: nothing to redo
    assert "search_report" not in ran
    assert "evaluate" in ran                                # its images are not in git
    assert _run(["git", "status", "--porcelain"], clone).strip() == ""


@pytest.mark.slow
def test_execution_setting_reruns_nothing(project: Path):
    out = _run(["dvc", "exp", "run", "-S", "search.workers=1", "-S", "pose.workers=1"], project)
    assert _stages_run(out) == {"validate"}, out
    subprocess.run(["git", "checkout", "-q", "--", "params.yaml"], cwd=project, check=True)


@pytest.mark.slow
def test_semantic_param_reruns_only_its_stage(project: Path):
    """A width of the semantic network reruns train_semantic and what reads its model, nothing
    upstream or beside it (execution keys set in the same call change nothing more)."""
    out = _run(["dvc", "exp", "run", "-S", "semantic.channels=4", "-S", "semantic.workers=0",
                "-S", "semantic.device=cpu"], project)
    # the appearance stage reads the semantic model: it reruns; the pose detector does not
    assert _stages_run(out) == {"validate", "train_semantic", "train_appearance", "evaluate"}, out
    subprocess.run(["git", "checkout", "-q", "--", "params.yaml"], cwd=project, check=True)


def _restore(project: Path) -> None:
    """Back to the committed params, dvc.lock, metrics and outputs (an earlier `dvc exp run`
    leaves its results in the workspace)."""
    # every tracked file: params.yaml, dvc.lock and the git-tracked metrics and curves
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=project, check=True)
    _run(["dvc", "checkout", "-q"], project)


def _changed_stages(project: Path, setting: str) -> set[str]:
    """Stages `dvc status` reports as changed after setting ``key=value`` in params.yaml
    (restored afterwards); `validate` (always changed) left out."""

    _restore(project)
    key, value = setting.split("=", 1)
    params = yaml.safe_load((project / "params.yaml").read_text())
    section, name = key.split(".")
    params[section][name] = yaml.safe_load(value)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        status = json.loads(_run(["dvc", "status", "--json"], project).strip().splitlines()[-1])
    finally:
        subprocess.run(["git", "checkout", "-q", "--", "params.yaml"], cwd=project, check=True)
    return set(status) - {"validate"}


@pytest.mark.slow
def test_scheme_and_style_change_only_the_appearance_stage(project: Path):
    """Regression: `-S appearance.scheme=ts_pred` and `-S loss.style=patch` touch train_appearance and
    nothing upstream (dvc status), and the experiment reruns exactly that stage."""
    _restore(project)
    baseline = json.loads(_run(["dvc", "status", "--json"], project).strip().splitlines()[-1])
    assert set(baseline) <= {"validate"}, baseline
    assert _changed_stages(project, "appearance.scheme=ts_pred") == {"train_appearance"}
    assert _changed_stages(project, "loss.style=patch") == {"train_appearance"}
    # dvc status names the stages whose own inputs changed; train_appearance follows when
    # the new pose detector file exists
    assert _changed_stages(project, "posenet.blocks=2") == {"train_posenet"}
    _restore(project)
    out = _run(["dvc", "exp", "run", "-S", "loss.style=patch"], project)
    assert _stages_run(out) == {"validate", "train_appearance", "evaluate"}, out
    # the evaluation's metrics reach `dvc exp show`
    assert "paired.model.ssim" in _run(["dvc", "exp", "show", "--csv"], project).splitlines()[0]
    subprocess.run(["git", "checkout", "-q", "--", "params.yaml"], cwd=project, check=True)


@pytest.mark.slow
def test_synthetic_backends_reproduce_ground_truth(project: Path):
    import cv2

    prepared = project / "data/prepared"
    names = Artifact(prepared / "images.h5").names
    poses = Artifact(prepared / "poses.h5")["keypoints"][:]
    labels = Artifact(prepared / "parsing.h5")["labels"][:]
    truth = read_truth(project / "data/raw/synthetic")
    np.testing.assert_array_equal(poses, truth.keypoints[truth.rows(names)])
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
    assert "data.height = 3" in _failing_exp(project, "data.height=3")


@pytest.mark.slow
def test_untracked_params_are_validated_on_every_run(project: Path):
    """Keys no stage lists still fail the experiment that sets them (the `validate` stage)."""
    out = _failing_exp(project, "pose.workers=abc", "+search.topk=3")
    assert "pose.workers = 'abc'" in out and "search.topk: unknown key" in out
