"""The command line end to end on the tiny synthetic project with random-weight models of
every scheme: each application renders what the trained models render for the same pair,
outputs are complete, bad input ends with one line naming the file, exit status 2."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import cv2
import numpy as np
import pytest
import torch

from pipeline.applications.cli import main
from pipeline.applications.outputs import save_labels_png
from pipeline.applications.person import Readers
from pipeline.applications.poses import read_target
from pipeline.applications.render import to_uint8
from pipeline.artifacts.reader import Artifact
from pipeline.datasets import TestPairDataset
from pipeline.datasets.pairs import pair_item
from pipeline.geometry import KP, resize_nearest, scale_keypoints
from pipeline.inference.semantic_inputs import one_hot_maps
from pipeline.inference.trained import TrainedModels
from pipeline.parsing.label_sets import read_label_map
from tests.helpers import REPO

HW = (32, 32)                       # G_A of the test models; G_S: 16x16


def _args(paths, *args: str) -> list[str]:
    return [*args, "--models", str(paths.models), "--prepared", str(paths.prepared)]


def _rgb(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def _expected(paths, item_index: int = 0, layout: bool = False):
    """The models' own rendering of test pair ``item_index`` (the datasets' items)."""
    models = TrainedModels.load(paths)
    batch = {k: v[None] for k, v in TestPairDataset(paths.prepared, HW, HW)[item_index].items()}
    if models.map_hw is not None and not layout:
        sem = TestPairDataset(paths.prepared, models.map_hw)[item_index]
        batch["sem"] = {k: v[None] for k, v in sem.items()}
    maps = one_hot_maps(batch["tgt_labels"]) if layout else None
    return models.render(batch, tgt_maps=maps), batch


def _pair(paths, i: int = 0) -> tuple[int, int]:
    src, tgt = Artifact(paths.prepared / "images.h5")["pairs/test"][i]
    return int(src), int(tgt)


def _one_line_error(capsys, argv: list[str], *needles: str) -> str:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("spt-apps: error: "), err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.mark.parametrize("scheme", ["baseline", "ts_pred", "ts_gt", "e2e"])
def test_pose_transfer_renders_what_the_models_render(trained, tmp_path, capsys, scheme):
    paths = trained(f"pt_{scheme}", scheme)
    src, tgt = _pair(paths)
    out = tmp_path / "out"
    assert main(_args(paths, "pose-transfer", f"prepared:{src}", "--pose", f"prepared:{tgt}",
                      "--out", str(out))) == 0
    printed = capsys.readouterr().out
    want, _ = _expected(paths)
    assert np.array_equal(_rgb(out / "result.png"), to_uint8(want.fake_t[0]))
    info = json.loads((out / "info.json").read_text())
    assert info["models"]["scheme"] == scheme and info["source"]["row"] == src
    assert info["map_source"] == {"baseline": "none", "ts_gt": "target parsing (ts_gt)"}.get(
        scheme, "G_S")
    if scheme == "baseline":
        assert not (out / "labels.png").exists() and not (out / "map.png").exists()
    else:
        labels = read_label_map(out / "labels.png")
        assert np.array_equal(labels, want.tgt_maps[0].argmax(0).numpy())
        assert _rgb(out / "map.png").shape == (*HW, 3)
    side = _rgb(out / "side_by_side.png")
    assert side.shape[0] > 150 and side.shape[1] > 4 * side.shape[0]
    assert f"wrote {out / 'result.png'}" in printed


def test_texture_transfer_renders_on_b_s_parsing(trained, tmp_path):
    paths = trained("tt")
    a, b = _pair(paths)
    out = tmp_path / "tt"
    assert main(_args(paths, "texture-transfer", f"prepared:{a}", f"prepared:{b}",
                      "--out", str(out))) == 0
    want, batch = _expected(paths, layout=True)
    assert want.logits is None                                  # G_S did not run
    assert np.array_equal(_rgb(out / "result.png"), to_uint8(want.fake_t[0]))
    parsing = Artifact(paths.prepared / "parsing.h5")["labels"][b]
    assert np.array_equal(read_label_map(out / "labels.png"), resize_nearest(parsing, HW))
    info = json.loads((out / "info.json").read_text())
    assert info["map_source"] == "given" and info["layout"]["row"] == b
    # the given layout differs from what G_S predicts: the images differ too
    assert not torch.equal(want.fake_t, _expected(paths)[0].fake_t)


def test_texture_transfer_with_ts_gt_is_its_pose_transfer(trained, tmp_path):
    paths = trained("tt_gt", "ts_gt")
    a, b = _pair(paths, 1)
    for cmd in (["texture-transfer", f"prepared:{a}", f"prepared:{b}"],
                ["pose-transfer", f"prepared:{a}", "--pose", f"prepared:{b}"]):
        assert main(_args(paths, *cmd, "--out", str(tmp_path / cmd[0]))) == 0
    assert np.array_equal(_rgb(tmp_path / "texture-transfer" / "result.png"),
                          _rgb(tmp_path / "pose-transfer" / "result.png"))


def test_baseline_has_no_maps_for_a_layout(trained, tmp_path, capsys):
    paths = trained("tt_base", "baseline")
    _one_line_error(capsys, _args(paths, "texture-transfer", "prepared:0", "prepared:1",
                                  "--out", str(tmp_path)),
                    "generator.safetensors", "baseline renders without semantic maps")
    assert not (tmp_path / "result.png").exists()


def test_manipulate_renders_the_edited_map(trained, tmp_path, capsys):
    paths = trained("manip")
    row = 2
    assert main(_args(paths, "parse", f"prepared:{row}", "--out", str(tmp_path / "p"))) == 0
    labels = read_label_map(tmp_path / "p" / "labels.png")
    stored = Artifact(paths.prepared / "parsing.h5")["labels"][row]
    assert np.array_equal(labels, stored)                     # the map to edit: as stored
    pose = json.loads((tmp_path / "p" / "pose.json").read_text())
    kp = Artifact(paths.prepared / "poses.h5")["keypoints"][row]
    np.testing.assert_allclose(pose, np.round(kp, 2), atol=1e-6)
    edited = labels.copy()
    edited[np.isin(labels, (4, 8, 9)) & (np.arange(64)[:, None] < 50)] = 5   # pants -> skirt
    edited[np.isin(labels, (6, 7))] = 3                                      # long sleeves
    assert (edited != labels).any()
    save_labels_png(tmp_path / "edited.png", edited)
    outs = {}
    for name, png in (("same", tmp_path / "p" / "labels.png"), ("edit", tmp_path / "edited.png")):
        assert main(_args(paths, "manipulate", f"prepared:{row}", "--labels", str(png),
                          "--out", str(tmp_path / name))) == 0
        outs[name] = _rgb(tmp_path / name / "result.png")
    assert np.array_equal(read_label_map(tmp_path / "edit" / "labels.png"),
                          resize_nearest(edited, HW))
    assert not np.array_equal(outs["same"], outs["edit"])
    capsys.readouterr()


def test_coordinate_poses_all_give_the_same_pose(trained, tmp_path):
    paths = trained("coords")
    src, tgt = _pair(paths)
    kp = Artifact(paths.prepared / "poses.h5")["keypoints"][tgt]
    points = [[float(y), float(x)] for y, x in kp]
    ys, xs = json.dumps([p[0] for p in points]), json.dumps([p[1] for p in points])
    (tmp_path / "pose.json").write_text(json.dumps(points))
    (tmp_path / "poses.csv").write_text(f"name:keypoints_y:keypoints_x\nother.jpg: {ys}: {xs}\n"
                                        f"target.jpg: {ys}: {xs}\n")
    specs = [json.dumps(points), str(tmp_path / "pose.json"), f"target.jpg: {ys}: {xs}",
             f"{tmp_path / 'poses.csv'}@target.jpg"]
    with Readers(paths.prepared, (256, 256)) as readers:
        source = readers.person(f"prepared:{src}")
        for spec in specs:
            target = read_target(spec, readers, (64, 64))       # the stored 64x64 frame
            assert target.arrays.frame_hw == (256, 256)
            item = pair_item(source.arrays, target.arrays, HW)
            np.testing.assert_allclose(item["tgt_keypoints"].numpy(),
                                       scale_keypoints(kp, (64, 64), HW), atol=1e-4)
            fit = read_target(spec, readers, None)              # framed by its own box
            assert fit.info["pose_frame"] == "fit"
    for i, spec in enumerate(specs):
        assert main(_args(paths, "pose-transfer", f"prepared:{src}", "--pose", spec,
                          "--pose-frame", "64x64", "--out", str(tmp_path / f"o{i}"))) == 0
    results = [_rgb(tmp_path / f"o{i}" / "result.png") for i in range(len(specs))]
    assert all(np.array_equal(r, results[0]) for r in results)


def test_bad_inputs_get_one_line(trained, tmp_path, capsys):
    paths = trained("bad")
    out = ["--out", str(tmp_path / "o")]
    (tmp_path / "text.png").write_text("not an image")
    _one_line_error(capsys, _args(paths, "pose-transfer", str(tmp_path / "text.png"), "--pose",
                                  "prepared:1", *out), "text.png: not a readable image")
    _one_line_error(capsys, _args(paths, "parse", str(tmp_path / "none.jpg"), *out),
                    "none.jpg: no such file")
    kp = Artifact(paths.prepared / "poses.h5")["keypoints"][1].tolist()
    kp[KP["Rhip"]] = [-1, -1]
    _one_line_error(capsys, _args(paths, "pose-transfer", "prepared:0", "--pose",
                                  json.dumps(kp), *out), "the pose has no torso (Rhip missing")
    _one_line_error(capsys, _args(paths, "pose-transfer", "prepared:0", "--pose", "[[1, 2]]",
                                  *out), "must list 18 [y, x] points")
    (tmp_path / "two.csv").write_text("name:keypoints_y:keypoints_x\n"
                                      f"a.jpg: {[1] * 18}: {[1] * 18}\n"
                                      f"b.jpg: {[1] * 18}: {[1] * 18}\n")
    _one_line_error(capsys, _args(paths, "pose-transfer", "prepared:0", "--pose",
                                  str(tmp_path / "two.csv"), *out), "two.csv: holds 2 rows")
    _one_line_error(capsys, _args(paths, "pose-transfer", "prepared:0", "--pose",
                                  "prepared:1", "--pose-frame", "big", *out), "--pose-frame")
    _one_line_error(capsys, _args(paths, "parse", "prepared:12", *out),
                    "images.h5: prepared:12: no row 12")
    # label maps: wrong size, labels outside 0..9, colour, unreadable
    bad = {"small.png": np.zeros((32, 32), np.uint8), "values.png": np.full((64, 64), 12,
                                                                            np.uint8)}
    for name, arr in bad.items():
        save_labels_png(tmp_path / name, arr)
    cv2.imwrite(str(tmp_path / "colour.png"), np.zeros((64, 64, 3), np.uint8) + (1, 2, 3))
    for name, needle in (("small.png", "is 32x32 (HxW) but the person's frame is 64x64"),
                         ("values.png", "labels outside 0..9: 12"),
                         ("colour.png", "colour PNG"), ("text.png", "cannot read PNG")):
        _one_line_error(capsys, _args(paths, "manipulate", "prepared:0", "--labels",
                                      str(tmp_path / name), *out), f"{name}: ", needle)
    _one_line_error(capsys, _args(paths, "parse", "prepared:0", "--out",
                                  str(tmp_path / "text.png" / "o")), "text.png/o: Not a directory")
    # models: none there
    empty = tmp_path / "models"
    empty.mkdir()
    _one_line_error(capsys, ["parse", "prepared:0", "--models", str(empty), *out],
                    "generator.safetensors: missing; run `dvc repro train_appearance`")
    assert not (tmp_path / "o").exists()


def test_ts_gt_needs_the_target_s_parsing(trained, tmp_path, capsys):
    paths = trained("gt_pose", "ts_gt")
    kp = Artifact(paths.prepared / "poses.h5")["keypoints"][1].tolist()
    _one_line_error(capsys, _args(paths, "pose-transfer", "prepared:0", "--pose",
                                  json.dumps(kp), "--out", str(tmp_path)),
                    "scheme ts_gt renders on the target's own parsing")


def test_help_and_entry_point(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["texture-transfer", "--help"])
    assert exit_.value.code == 0
    assert "baseline models have no maps" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit) as exit_:
        main(["pose-transfer"])                      # no SOURCE: argparse's usage error
    assert exit_.value.code == 2
    capsys.readouterr()
    run = subprocess.run([sys.executable, "-m", "pipeline.applications", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    for command in ("pose-transfer", "texture-transfer", "manipulate", "parse"):
        assert command in run.stdout
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["spt-apps"] == "pipeline.applications.cli:main"
