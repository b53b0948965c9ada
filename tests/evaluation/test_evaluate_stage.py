"""The evaluate stage on a tiny prepared project with small random-weight models: every output,
the metrics' structure and settings, one PNG per test pair, the unpaired oracle set, the report,
and the one-line errors for missing models."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from pipeline.artifacts.codes import SPLIT_TEST
from pipeline.artifacts.reader import Artifact
from pipeline.config.params import validate
from pipeline.evaluation.report import pick_rows
from pipeline.evaluation.stage import pair_file_name, run, summary_text
from pipeline.evaluation.unpaired import UnpairedDataset, draw_unpaired
from pipeline.inference.model_files import ModelFileError
from pipeline.training.appearance.stage import write_models
from tests.model_fixtures import appearance_params as _params
from tests.model_fixtures import appearance_scheme as _scheme

#: Cheap evaluation settings: no Inception (FID) in the default tests.
TINY_EVAL = {"fid": False, "unpaired_pairs": 6, "grid_pairs": 1, "batch_size": 4,
             "device": "cpu", "threads": 1}


def _eval_params(scheme: str, evaluate: dict | None = None):
    p = _params({"scheme": scheme})
    raw = json.loads(p.model_dump_json())
    raw["evaluate"] = dict(TINY_EVAL, **(evaluate or {}))
    return validate(raw)


def _trained(project, name: str, scheme: str):
    paths = project(name)
    params = _eval_params(scheme)
    s, _ = _scheme(params, paths)
    write_models(paths, s, params)
    return paths, params


@pytest.mark.parametrize("scheme", ["e2e", "baseline"])
def test_stage_writes_images_metrics_report_and_plots(project, scheme):
    paths, params = _trained(project, f"eval_{scheme}", scheme)
    metrics = run(params, paths, progress=False)
    root = paths.eval
    names = [n.decode() for n in Artifact(paths.artifact("images"))["names"][:]]
    pairs = Artifact(paths.artifact("images"))["pairs/test"][:]
    files = sorted(p.name for p in (root / "images").iterdir())
    assert files == sorted(pair_file_name(names[s], names[t]) for s, t in pairs)
    assert Image.open(root / "images" / files[0]).size == (32, 32)
    on_disk = json.loads((root / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(metrics))
    paired = metrics["paired"]
    assert paired["pairs"] == len(pairs)
    for system in ("model", "source", "part_warp"):
        r = paired[system]
        assert 0 <= r["ssim"] <= 1 and 0 <= r["mask_ssim"] <= 1 and r["l1"] >= 0
        assert r["lpips"] >= 0 and 0 <= r["pckh_posenet"] <= 1
        # the main PCKh (MediaPipe): a share, or not computed where MediaPipe is missing
        assert (0 <= r["pckh"] <= 1) if not isinstance(r["pckh"], dict) \
            else r["pckh"]["computed"] is False
        assert 0 <= r["peer_ssim"] <= 1
        assert r["is"] is None                              # no logits weights: not computed
    assert "fid" not in paired["model"]                     # switched off
    assert ("maps" in paired) == (scheme == "e2e")          # baseline predicts no maps
    assert metrics["unpaired"]["pairs"] == 6
    assert metrics["settings"]["ssim"]["sigma"] == 1.5
    assert "peer_ssim" in metrics["settings"]
    report = (root / "report.md").read_text()
    assert "Unpaired truth" in report and "![worst, median and best pairs](report/paired.png)" \
        in report
    assert (root / "report" / "paired.png").is_file() and (root / "report" / "unpaired.png").is_file()
    per_pair = json.loads((root / "plots" / "pairs.json").read_text())
    assert len(per_pair) == len(pairs) and {"pair", "name", "ssim", "lpips"} <= set(per_pair[0])
    scores = json.loads((root / "plots" / "scores.json").read_text())
    assert [s["system"] for s in scores] == ["model", "source", "part_warp"]
    assert "evaluate: paired" in summary_text(metrics)
    assert not list(root.glob(".*.tmp"))                    # nothing half-written left behind


def test_source_reference_scores_like_a_hand_computation(project):
    """The unchanged-source row is plain SSIM of source vs target photo (skimage, docs/method.md §6)."""
    from skimage.metrics import structural_similarity

    from pipeline.datasets.pairs import TestPairDataset
    from pipeline.metrics.images import to_uint8

    paths, params = _trained(project, "eval_hand", "ts_gt")
    metrics = run(params, paths, progress=False)
    ds = TestPairDataset(paths.prepared, (32, 32), (32, 32))
    values = []
    for i in range(len(ds)):
        it = ds[i]
        a, b = to_uint8(it["src_image"][None])[0], to_uint8(it["tgt_image"][None])[0]
        values.append(structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                            use_sample_covariance=False, data_range=255,
                                            channel_axis=-1))
    assert metrics["paired"]["source"]["ssim"] == pytest.approx(np.mean(values), abs=1e-4)


def test_unpaired_pairs_cross_identities_and_match_the_oracle(tiny_project):
    art = Artifact(tiny_project / "data" / "prepared" / "images.h5")
    pid, split = art["person_id"][:], art["split"][:]
    pairs = draw_unpaired(pid, split, 5, seed=0)
    assert len(pairs) == 5 and len({tuple(p) for p in pairs}) == 5
    assert all(split[s] == SPLIT_TEST and pid[s] != pid[p] for s, p in pairs)
    assert np.array_equal(pairs, draw_unpaired(pid, split, 5, seed=0))
    # an identity rendered in its OWN pose is the stored photo: the oracle is the truth
    s = int(np.flatnonzero(split == SPLIT_TEST)[0])
    ds = UnpairedDataset(tiny_project / "data" / "prepared", tiny_project / "data" / "raw" /
                         "synthetic", np.array([[s, s]]), (64, 64), (64, 64))
    item = ds[0]
    assert np.array_equal(item["tgt_image"].numpy(), item["src_image"].numpy())
    assert np.array_equal(item["tgt_labels"].numpy(), item["src_labels"].numpy())


def test_pick_rows_worst_median_best():
    v = [0.5, 0.1, 0.9, 0.3, 0.7]
    assert pick_rows(v, 1) == {"worst": [1], "median": [0], "best": [2]}
    assert pick_rows(v, 2) == {"worst": [1, 3], "median": [3, 0], "best": [4, 2]}
    assert pick_rows([], 2) == {"worst": [], "median": [], "best": []}


def test_missing_models_name_the_stage(project):
    paths = project("eval_missing")
    with pytest.raises(ModelFileError, match="train_appearance"):
        run(_eval_params("e2e"), paths, progress=False)
