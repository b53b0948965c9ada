"""Every stage, run twice on the same inputs, writes files with equal bytes.

DVC hashes the bytes: a creation time, a library version or a timing inside an output would
make a rerun look like a change and rerun every later stage (and, later, retrain the
networks). The stage libraries run in this process on the tiny synthetic setting, twice,
with a pause longer than HDF5's one-second timestamp resolution between the runs.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

from pipeline.artifacts.paths import Paths
from pipeline.config.params import validate
from pipeline.evaluation import search_report
from pipeline.ingest import stage as ingest
from pipeline.masks import stage as masks
from pipeline.parsing import stage as parse
from pipeline.pose import stage as pose
from pipeline.search import stage as search
from pipeline.synthetic import stage as synthesize
from tests.helpers import ANNOTATIONS

#: Every stage library, in DVC's order.
STAGES = (synthesize, ingest, pose, parse, masks, search, search_report)


def _params(root: Path):
    return validate({
        "data": {"root": str(root / "data/raw/synthetic"), "height": 64, "width": 64,
                 "workers": 1,
                 "synthetic": {"identities": 4, "poses_per_identity": 3,
                               "real_poses": str(ANNOTATIONS / "fasion-annotation-sample.csv")}},
        "pose": {"workers": 1}, "parse": {"workers": 1}, "masks": {"workers": 1},
        "search": {"workers": 1, "backend": "threading"}})


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_each_stage_twice_gives_equal_bytes(tmp_path: Path):
    paths = Paths(tmp_path)
    params = _params(tmp_path)
    first: dict[str, str] = {}
    for stage in STAGES:
        before = _digests(tmp_path)
        stage.run(params, paths, progress=False)
        written = {k: v for k, v in _digests(tmp_path).items() if before.get(k) != v}
        assert written, f"{stage.__name__} wrote nothing"
        first.update(written)
    time.sleep(1.1)
    for stage in STAGES:
        stage.run(params, paths, progress=False)
    second = _digests(tmp_path)
    changed = sorted(k for k, v in first.items() if second.get(k) != v)
    assert not changed, f"rerun on the same inputs changed: {changed}"
    assert second.keys() == first.keys()                 # nothing new, no temporaries left
    assert {"data/raw/synthetic/truth.h5", "data/prepared/pseudo.h5",
            "data/prepared/pseudo.summary.json", "eval/search_report.json"} <= second.keys()
