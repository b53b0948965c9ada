import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact, ArtifactError, open_aligned
from pipeline.artifacts.stage_writer import stage_output
from pipeline.artifacts.store import (atomic_h5, create_array, write_array, write_names,
                                      write_strings)
from tests.helpers import REPO


def _write(path: Path, n: int = 5, value: int = 7, names=None) -> None:
    with atomic_h5(path, stage="test", params={"a": 1}, source="unit test",
                   description="test file") as f:
        write_names(f, names or [f"img{i}.png" for i in range(n)])
        write_array(f, "images", np.full((n, 40, 40, 3), value, np.uint8), "RGB images",
                    "(N, H, W, 3)", "uint8 RGB", label_names=["r", "g", "b"])


def test_round_trip_and_self_description(tmp_path: Path):
    p = tmp_path / "images.h5"
    _write(p)
    with h5py.File(p) as f:
        assert set(f.attrs) == {"stage", "params", "inputs", "layout_version", "description"}
        assert json.loads(f.attrs["params"]) == {"a": 1}
        ds = f["images"]
        assert ds.chunks == (1, 40, 40, 3) and ds.compression == "gzip"
        assert ds.attrs["shape"] == "(N, H, W, 3)" and ds.attrs["units"] == "uint8 RGB"
        assert list(ds.attrs["label_names"]) == ["r", "g", "b"]
    art = Artifact(p)
    assert art.names == [f"img{i}.png" for i in range(5)]
    assert (art["images"][2] == 7).all()
    assert art.params() == {"a": 1}
    with pytest.raises(ArtifactError, match="has no dataset /nope"):
        art["nope"]


def test_exception_leaves_previous_file(tmp_path: Path):
    p = tmp_path / "images.h5"
    _write(p, value=1)
    with pytest.raises(RuntimeError):
        with atomic_h5(p, stage="test") as f:
            write_names(f, ["a"])
            raise RuntimeError("interrupted")
    assert (Artifact(p)["images"][0] == 1).all()
    assert [q.name for q in tmp_path.iterdir()] == ["images.h5"]  # temporary file removed


_SLOW_WRITER = """
import sys, time, numpy as np
from pipeline.artifacts.store import atomic_h5, write_names
with atomic_h5(sys.argv[1], stage="slow") as f:
    write_names(f, ["a"] * 100)
    ds = f.create_dataset("images", shape=(100, 64, 64, 3), dtype=np.uint8, chunks=(1, 64, 64, 3))
    for i in range(100):
        ds[i] = 9
        f.flush()
        if i == 5:
            print("writing", flush=True)
        time.sleep(0.05)
"""


def test_killed_writer_leaves_previous_artifact(tmp_path: Path):
    p = tmp_path / "images.h5"
    _write(p, value=3)
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(p)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    art = Artifact(p)
    assert art["images"].shape == (5, 40, 40, 3) and (art["images"][:] == 3).all()
    # the killed writer's partial file is a hidden temporary, never the artifact's name
    leftovers = [q.name for q in tmp_path.iterdir() if q.name != "images.h5"]
    assert leftovers and all(name.startswith(".images.h5.") for name in leftovers)
    # the next write of that file removes it
    _write(p, value=4)
    assert [q.name for q in tmp_path.iterdir()] == ["images.h5"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_equal_inputs_give_equal_bytes(tmp_path: Path):
    """No creation time, host or library version in the file; datasets without timestamps
    (HDF5 stores them in whole seconds, hence the pause)."""
    def write(path: Path) -> None:
        with atomic_h5(path, stage="test", params={"a": 1}, source="x", description="d") as f:
            write_names(f, ["a", "b"])
            write_array(f, "v", np.arange(6.0).reshape(2, 3), "values", "(N, 3)")
            ds = create_array(f, "m", (2, 8, 8), np.uint8, "maps", "(N, H, W)")
            ds[1] = 3
            write_strings(f.create_group("g"), "s", ["x", "y"], "strings")

    write(tmp_path / "a.h5")
    time.sleep(1.1)
    write(tmp_path / "b.h5")
    assert _sha(tmp_path / "a.h5") == _sha(tmp_path / "b.h5")


def test_paths_layout(tmp_path: Path):
    paths = Paths(tmp_path)
    assert paths.prepared == tmp_path / "data" / "prepared"
    assert paths.cache == tmp_path / "data" / "cache"
    assert (paths.eval, paths.models) == (tmp_path / "eval", tmp_path / "models")
    assert paths.artifact("pseudo") == paths.prepared / "pseudo.h5"
    assert paths.summary("poses") == paths.prepared / "poses.summary.json"
    assert paths.metric("search_report") == tmp_path / "eval" / "search_report.json"
    assert paths.dataset("data/raw/synthetic") == paths.synthetic
    assert Paths().artifact("images") == Path("data/prepared/images.h5")
    with pytest.raises(KeyError, match="unknown artifact kind"):
        paths.summary("nope")


def test_stage_output_skeleton(tmp_path: Path):
    paths = Paths(tmp_path)
    _write(paths.artifact("images"), n=3)
    stale = paths.prepared / ".masks.h5.abc123.h5.tmp"
    stale.write_bytes(b"left by a killed run")
    stale_json = paths.prepared / ".masks.summary.json.xyz.tmp"
    stale_json.write_text("{")
    with stage_output(paths, "masks", inputs=["images"], params={"k": 1},
                      description="test masks") as out:
        assert not stale.exists() and not stale_json.exists()   # removed when the stage starts
        write_array(out.file, "v", np.arange(3), "values", "(N,)")
        out.summary["rows"] = 3
    masks = Artifact(paths.artifact("masks"))
    masks.check_aligned(Artifact(paths.artifact("images")))      # /names copied from images.h5
    assert masks.params() == {"k": 1} and masks.attrs["inputs"] == "images.h5"
    assert json.loads(paths.summary("masks").read_text()) == {"rows": 3}

    before = _sha(paths.artifact("masks"))
    with pytest.raises(RuntimeError, match="boom"):
        with stage_output(paths, "masks", inputs=["images"]) as out:
            out.summary["rows"] = 0
            raise RuntimeError("boom")
    assert _sha(paths.artifact("masks")) == before                  # previous artifact kept
    assert json.loads(paths.summary("masks").read_text()) == {"rows": 3}
    assert sorted(q.name for q in paths.prepared.iterdir()) == [
        "images.h5", "masks.h5", "masks.summary.json"]
    with pytest.raises(ArtifactError, match="wrote no /names"):
        with stage_output(paths, "poses"):
            pass


def test_killed_first_writer_leaves_nothing(tmp_path: Path):
    p = tmp_path / "images.h5"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(p)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait()
    assert not p.exists()


def test_alignment_is_checked(tmp_path: Path):
    _write(tmp_path / "images.h5", n=3)
    _write(tmp_path / "poses.h5", n=3, names=["img0.png", "img2.png", "img1.png"])
    with pytest.raises(ArtifactError, match=r"row 1 is 'img2.png' but .*images.h5 has 'img1.png'"):
        open_aligned(["poses"], tmp_path)
    _write(tmp_path / "poses.h5", n=2)
    with pytest.raises(ArtifactError, match="holds 2 rows"):
        open_aligned(["poses"], tmp_path)
    _write(tmp_path / "poses.h5", n=3)
    arts = open_aligned(["poses"], tmp_path)
    assert len(arts["poses"]) == 3


def test_missing_and_corrupt_files(tmp_path: Path):
    with pytest.raises(ArtifactError, match="not found"):
        Artifact(tmp_path / "x.h5")
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(ArtifactError, match="not a readable HDF5 file"):
        Artifact(bad).names


class _Items:
    def __init__(self, art: Artifact):
        self.art = art

    def __len__(self):
        return len(self.art)

    def __getitem__(self, i):
        return os.getpid(), int(self.art["images"][i].sum())


def test_dataloader_workers_open_their_own_handle(tmp_path: Path):
    torch = pytest.importorskip("torch")
    p = tmp_path / "images.h5"
    _write(p, n=8, value=1)
    art = Artifact(p)
    _ = art.names  # parent opens the file first: workers must not reuse its handle
    loader = torch.utils.data.DataLoader(_Items(art), batch_size=None, num_workers=2,
                                         multiprocessing_context="fork")
    out = list(loader)
    assert [s for _, s in out] == [40 * 40 * 3] * 8
    assert len({int(pid) for pid, _ in out} - {os.getpid()}) == 2
