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

from pipeline.artifacts import (Artifact, ArtifactError, atomic_h5, open_aligned, write_array,
                                write_names)
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
        for key in ("stage", "params", "source", "pipeline_version", "h5py_version", "created",
                    "description"):
            assert key in f.attrs, key
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
from pipeline.artifacts import atomic_h5, write_names
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
    assert all(name.startswith(".images.h5.") for name in leftovers)


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
