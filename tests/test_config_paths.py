"""Dataset paths of the params stay inside data.root, repo paths inside the repository.

A path that leaves data.root is not covered by the ingest stage's DVC dependency: editing the
file it names would leave the artifacts stale. Such paths are refused at load time with one line
naming the key; symlinks are resolved when the path is used.
"""
from pathlib import Path

import pytest
import yaml

import pipeline.config.base as config
from pipeline.config.base import ParamsError, dataset_path
from pipeline.config.params import load_params, validate
from tests.helpers import ANNOTATIONS, REPO


@pytest.mark.parametrize("raw,key", [
    ({"data": {"annotations": ["../outside/ann.csv"]}}, "data.annotations"),
    ({"data": {"annotations": ["/etc/hostname"]}}, "data.annotations"),
    ({"data": {"annotations": ["ok.csv", "sub/../../x.csv"]}}, "data.annotations"),
    ({"data": {"pairs": "/etc/hostname"}}, "data.pairs"),
    ({"data": {"pairs": "../pairs.csv"}}, "data.pairs"),
    ({"data": {"train_pairs": "../../train.csv"}}, "data.train_pairs"),
    ({"data": {"images": "/srv/photos"}}, "data.images"),
    ({"data": {"images": ".."}}, "data.images"),
    ({"parse": {"labels_dir": "../parsing"}}, "parse.labels_dir"),
    ({"parse": {"labels_dir": "/tmp/parsing"}}, "parse.labels_dir"),
    ({"data": {"synthetic": {"real_poses": "/etc/hostname"}}}, "data.synthetic.real_poses"),
    ({"data": {"synthetic": {"real_poses": "../elsewhere/poses.csv"}}},
     "data.synthetic.real_poses"),
])
def test_paths_leaving_their_folder_are_refused_in_one_line(raw, key):
    with pytest.raises(ParamsError) as err:
        validate(raw, "params.yaml")
    msg = str(err.value)
    assert "\n" not in msg and f"params.yaml: invalid parameter: {key} = " in msg
    assert "absolute path" in msg or "'..'" in msg or "inside the repository" in msg


def test_load_time_refusal_never_reads_the_file(tmp_path: Path):
    """The file is not opened: its contents cannot appear in the message."""
    secret = tmp_path / "hostname"
    secret.write_text("top-secret-host\n")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"data": {"root": str(tmp_path / "root"),
                                               "annotations": [str(secret)]}}))
    with pytest.raises(ParamsError) as err:
        load_params(params)
    assert "top-secret" not in str(err.value) and "data.annotations" in str(err.value)


@pytest.mark.parametrize("raw", [
    {"data": {"root": "/data/fashion", "images": ".", "annotations": ["a/b.csv"],
              "pairs": "sub/p.csv", "train_pairs": "t.csv"}, "parse": {"labels_dir": "x/y"}},
    {"data": {"annotations": [], "pairs": "", "split_by": "fraction"}},
    {"data": {"synthetic": {"real_poses": str(ANNOTATIONS / "market-annotation-sample.csv")}}},
    {"data": {"synthetic": {"real_poses": ""}}},
])
def test_paths_inside_are_accepted(raw):
    validate(raw)          # data.root itself may be anywhere, e.g. an absolute /data/fashion


def test_split_by_pairs_needs_a_pairs_file():
    with pytest.raises(ParamsError, match=r"data.split_by = 'pairs': needs a test pairs file "
                                          r"in data.pairs"):
        validate({"data": {"pairs": ""}})


def test_symlinks_are_resolved_at_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "outside.csv"
    outside.write_text("top-secret\n")
    (root / "inside.csv").write_text("x\n")
    (root / "leak.csv").symlink_to(outside)
    (root / "alias.csv").symlink_to(root / "inside.csv")
    (root / "up").symlink_to(tmp_path, target_is_directory=True)
    assert dataset_path(root, "alias.csv", "data.annotations") == root / "alias.csv"
    assert dataset_path(root, "sub/missing.csv", "data.pairs") == root / "sub" / "missing.csv"
    assert dataset_path(root, ".", "data.images") == root / "."
    for rel, key in (("leak.csv", "data.annotations"), ("up/outside.csv", "data.pairs"),
                     ("up", "parse.labels_dir")):
        with pytest.raises(ParamsError) as err:
            dataset_path(root, rel, key)
        msg = str(err.value)
        assert msg.startswith(f"{root / rel}: resolves to ") and msg.endswith(
            f"outside data.root ({key})") and "top-secret" not in msg and "\n" not in msg
    with pytest.raises(ParamsError, match=r"data.pairs = '/etc/hostname': must be a path "):
        dataset_path(root, "/etc/hostname", "data.pairs")
    # DVC's cache.type=symlink links every tracked file into the repository's cache: allowed
    repo = tmp_path / "repo"
    cached = repo / ".dvc" / "cache" / "files" / "md5" / "ab" / "cdef"
    cached.parent.mkdir(parents=True)
    cached.write_text("x\n")
    (root / "tracked.csv").symlink_to(cached)
    monkeypatch.setattr(config, "REPO_ROOT", repo)
    assert dataset_path(root, "tracked.csv", "data.annotations") == root / "tracked.csv"


def test_real_poses_symlink_out_of_the_repository(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch):
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (tmp_path / "poses.csv").write_text("x\n")
    (repo / "data" / "poses.csv").symlink_to(tmp_path / "poses.csv")
    (repo / "data" / "own.csv").write_text("x\n")
    monkeypatch.setattr(config, "REPO_ROOT", repo)
    validate({"data": {"synthetic": {"real_poses": "data/own.csv"}}})
    with pytest.raises(ParamsError, match=r"data.synthetic.real_poses = 'data/poses.csv': must "
                                          r"lie inside the repository"):
        validate({"data": {"synthetic": {"real_poses": "data/poses.csv"}}})


def test_repo_root_is_this_repository():
    assert config.REPO_ROOT == REPO
