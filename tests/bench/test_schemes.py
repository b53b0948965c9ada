"""bench/schemes.py: the options (variants, seeds, --set, --preset), the order in which the
settings apply, mean ± sd over seeds, the Markdown table, --out / --collect, and a tiny real
run (two seeds, two training steps each, scored with LPIPS and the independent PCKh) on the
tiny test project."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from bench import schemes as S
from pipeline.appearance_schemes import VARIANTS
from tests.helpers import REPO
from tests.model_fixtures import appearance_params

#: Cheap evaluation settings of the tiny project (as tests/evaluation's).
TINY_EVAL = {"fid": False, "unpaired_pairs": 0, "grid_pairs": 1, "batch_size": 4,
             "device": "cpu", "threads": 1}


# ----------------------------------------------------------------------------- options
def test_seeds_and_variants_parse_or_name_the_problem():
    assert S.parse_seeds("0,1,2") == [0, 1, 2]
    assert S.parse_seeds("5") == [5]
    assert S.parse_seeds(None) is None                       # params.yaml's seed
    for bad in ("a", "0,0", "-1", ",", "1.5"):
        with pytest.raises(S.SchemesError, match="--seeds"):
            S.parse_seeds(bad)
    assert S.parse_variants("ts_gt-noface,e2e") == ["ts_gt-noface", "e2e"]
    with pytest.raises(S.SchemesError, match="e2e-mask"):   # the old loss-ablation names
        S.parse_variants("e2e-mask")
    assert S.seeds_of(REPO / "params.yaml", None) == [
        yaml.safe_load((REPO / "params.yaml").read_text())["appearance"]["seed"]]
    assert S.seeds_of(REPO / "params.yaml", [3, 4]) == [3, 4]


def test_set_accepts_appearance_and_loss_only():
    assert S.parse_sets(["appearance.lr=1e-4", "loss.pose=0", "loss.face=false"]) == {
        "appearance": {"lr": 1e-4}, "loss": {"pose": 0, "face": False}}
    for bad in ("semantic.seed=1", "posenet.blocks=2", "appearance.lr", "lr=1", "loss.a.b=1"):
        with pytest.raises(S.SchemesError, match="appearance.KEY=VALUE"):
            S.parse_sets([bad])


def test_preset_applies_the_appearance_and_loss_sections_only():
    from pipeline.profiles import profile

    values, ignored = S.preset_overrides("cpu-paper")
    assert values == {"appearance": profile("cpu-paper")["appearance"],
                      "loss": profile("cpu-paper")["loss"]}
    assert ignored == []
    values, ignored = S.preset_overrides("deepfashion")
    assert set(values) == {"appearance", "loss"} and ignored == ["semantic", "posenet"]
    assert values["appearance"]["height"] == 256
    assert S.preset_overrides(None) == ({"appearance": {}, "loss": {}}, [])
    with pytest.raises(S.SchemesError, match="unknown profile"):
        S.preset_overrides("nosuch")


def test_settings_apply_preset_then_set_then_variant_then_seed():
    params_file = REPO / "params.yaml"
    params, over = S.configure(params_file, "ts_gt-noface", 7, "cpu-paper",
                               ["appearance.upsample=nearest", "loss.pose=0.5"], 8, 1)
    ap, loss = params.appearance, params.loss
    assert ap.norm == "authors" and ap.image_skip is False            # the preset
    assert ap.upsample == "nearest" and loss.pose == 0.5              # --set beats the preset
    assert ap.scheme == "ts_gt" and loss.style == "semantic"          # the variant
    assert loss.face is False                                         # a bool, not "false"
    assert ap.seed == 7 and ap.iterations == 8 and ap.joint_iterations == 2
    assert ap.device == "cpu" and ap.threads == 1
    assert over["appearance.upsample"] == "nearest" and over["loss.face"] is False
    assert over["appearance.seed"] == 7 and over["appearance.norm"] == "authors"
    assert list(over)[-3:] == ["appearance.seed", "appearance.iterations",
                               "appearance.joint_iterations"]
    # the variant's keys win over --set (a run is its variant whatever the options)
    params, _ = S.configure(params_file, "ts_gt", None, None, ["loss.face=false"])
    assert params.loss.face is True
    assert params.appearance.seed == S.seeds_of(params_file, None)[0]
    from pipeline.config.base import ParamsError
    with pytest.raises(ParamsError, match="appearance.lr"):
        S.configure(params_file, "e2e", 0, None, ["appearance.lr=abc"])


def test_every_variant_configures():
    for v in VARIANTS:
        params, over = S.configure(REPO / "params.yaml", v, 0)
        for key, value in VARIANTS[v].items():
            section, _, name = key.partition(".")
            assert getattr(getattr(params, section), name) == yaml.safe_load(value), (v, key)


def test_dry_run_lists_the_runs(capsys):
    assert S.main(["--dry-run", "--variants", "e2e,ts_gt-patch", "--seeds", "0,2",
                   "--preset", "cpu-paper"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["e2e-s0", "ts_gt-patch-s0", "e2e-s2",
                                                      "ts_gt-patch-s2"]
    assert 'loss.style="patch"' in lines[1] and "appearance.seed=2" in lines[3]
    assert 'appearance.upsample="transposed"' in lines[0]            # cpu-paper's
    assert S.main(["--dry-run", "--set", "semantic.seed=1"]) == 1
    assert "semantic.*" in capsys.readouterr().err
    assert S.main(["--dry-run", "--seeds", "x"]) == 1
    # --set appearance.seed=S (as the docs' older commands write it) is the one seed
    assert S.main(["--dry-run", "--variants", "e2e", "--set", "appearance.seed=4"]) == 0
    assert capsys.readouterr().out.startswith("e2e-s4: ")
    assert S.main(["--dry-run", "--seeds", "1", "--set", "appearance.seed=4"]) == 1
    assert "--seeds" in capsys.readouterr().err
    assert S.main(["--dry-run", "--preset", "deepfashion", "--variants", "e2e"]) == 0
    assert "left out: semantic, posenet" in capsys.readouterr().err


def test_bad_scoring_options_stop_before_anything_trains(tmp_path, capsys):
    assert S.main(["--variants", "ts_gt", "--seeds", "0", "--no-score", "--unpaired", "4"]) == 1
    assert "cannot go with --no-score" in capsys.readouterr().err
    assert S.main(["--variants", "ts_gt", "--seeds", "0", "--unpaired", "-1"]) == 1
    assert "--unpaired" in capsys.readouterr().err
    assert S.main(["--variants", "ts_gt", "--seeds", "0", "--resume"]) == 1
    assert "--resume needs --out" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert S.main(["--variants", "ts_gt", "--seeds", "0", "--resume", "--out", str(bad)]) == 1
    assert "not a file of" in capsys.readouterr().err


def test_resume_compares_the_settings_that_made_the_runs(tmp_path):
    now = {"variants": ["ts_gt"], "seeds": [2], "preset": None, "set": ["a=1", "b=2"],
           "iterations": None, "scored": True, "unpaired": 0, "params_sha256": "x"}
    assert S.resumed(str(tmp_path / "none.json"), now) == ([], {}, now, False)
    f = tmp_path / "runs.json"
    old = dict(now, variants=["e2e"], seeds=[0, 1], set=["b=2", "a=1"])
    f.write_text(json.dumps({"runs": [_run("e2e", 0, 0.5)], "references": {},
                             "settings": old}))
    runs, refs, joined, found = S.resumed(str(f), now)     # --set in another order: the same
    assert found and len(runs) == 1 and joined["variants"] == ["e2e", "ts_gt"]
    assert joined["seeds"] == [0, 1, 2]
    for key, value in (("unpaired", 500), ("params_sha256", "y"), ("set", ["a=1"])):
        with pytest.raises(S.SchemesError, match=f"{key}"):
            S.resumed(str(f), dict(now, **{key: value}))
    # a file from before --unpaired and the params digest: read as 0 and as unknown
    f.write_text(json.dumps({"runs": [], "settings": {
        k: v for k, v in old.items() if k not in ("unpaired", "params_sha256")}}))
    assert S.resumed(str(f), now)[3] is True
    with pytest.raises(S.SchemesError, match="unpaired 0"):
        S.resumed(str(f), dict(now, unpaired=500))


def test_memo_detector_reads_each_image_once_with_the_same_answer():
    """The references' images are the same in every run: MediaPipe reads each once."""
    import numpy as np

    from pipeline.evaluation.independent_pckh import IndependentDetector

    class Finder:
        def __init__(self):
            self.calls = 0

        def detect(self, image):
            self.calls += 1
            kp = np.full((18, 2), -1.0, np.float32)
            kp[0] = (image[..., 0].mean(), 10.0)          # depends on the image
            return type("D", (), {"keypoints": kp, "found": bool(image.mean() > 10)})()

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (3, 8, 8, 3), dtype=np.uint8)
    images[2] = 0                                          # not found
    finder = Finder()
    memo = S._MemoDetector(IndependentDetector(16, finder=finder))
    plain = IndependentDetector(16, finder=Finder())
    kp, found = memo.keypoints(images)
    ref_kp, ref_found = plain.keypoints(images)
    assert np.array_equal(kp, ref_kp) and np.array_equal(found, ref_found)
    assert found.tolist() == [True, True, False] and finder.calls == 3
    kp2, found2 = memo.keypoints(images[[2, 0]])          # both seen: no new reading
    assert finder.calls == 3
    assert np.array_equal(kp2, ref_kp[[2, 0]]) and found2.tolist() == [False, True]
    memo.keypoints(images[:1] // 2)                       # a new image: read
    assert finder.calls == 4 and memo.available and memo.size == 16


# ----------------------------------------------------------------------------- statistics
def _run(variant: str, seed: int, ssim: float, **extra) -> dict:
    return {"variant": variant, "seed": seed, "style": "semantic", "iterations": 2,
            "overrides": {"appearance.seed": seed},
            "metrics": {"ssim": ssim, "mask_ssim": 0.9, "l1": 0.1, **extra},
            "seconds": {"train": 1.0, "wall": 60.0, "score": 1.0}}


def test_mean_and_sample_sd_over_seeds():
    mean, sd, n = S.mean_sd([0.2, 0.4, 0.9])
    # deviations -0.3, -0.1, 0.4: squares 0.09 + 0.01 + 0.16 = 0.26; / (3 - 1) = 0.13
    assert (mean, n) == (pytest.approx(0.5), 3) and sd == pytest.approx(math.sqrt(0.13))
    assert S.mean_sd([3.0]) == (3.0, None, 1)
    runs = [_run("e2e", 0, 0.2, pckh=0.5), _run("e2e", 1, 0.4, pckh=None),
            _run("e2e", 2, 0.9, pckh=0.7), _run("ts_gt", 0, 0.6)]
    stats = S.summarize_runs(runs)
    assert stats["e2e"]["ssim"]["mean"] == pytest.approx(0.5)
    assert stats["e2e"]["ssim"]["sd"] == pytest.approx(math.sqrt(0.13))
    assert stats["e2e"]["pckh"]["n"] == 2                    # not computed: left out
    assert stats["ts_gt"]["ssim"]["sd"] is None and "pckh" not in stats["ts_gt"]
    text = S.markdown(runs, {"source": {"ssim": 0.5, "pckh": 0.2},
                             "truth": {"pckh": 0.65, "pckh_missed_share": 0.1}})
    assert "| e2e | 0, 1, 2 | 0.5000 ± 0.3606 (3) |" in text
    assert "| ts_gt | 0 | 0.6000 ± – (1) |" in text
    assert "| e2e | 1 | semantic | 2 | 0.4000 |" in text        # a run's row
    assert ("| true target images | – | – | – | – | – | – | – | 0.6500 | 0.100 | – | – | – | – |"
            in text)
    assert "| part warp" not in text                            # no row without its numbers


def test_orderings_follow_the_rule_of_the_ablation():
    # ts_gt SSIM 0.60, 0.62, 0.64 (mean 0.62, sd 0.02); ts_gt-mask 0.50, 0.52, 0.54 (0.52,
    # 0.02): difference 0.10 > sd sum 0.04, found. LPIPS (lower is better) 0.30 +- 0.01 vs
    # 0.20 +- 0.01: difference in the better direction -0.10, reversed. L1 equal: not separated.
    runs = [_run("ts_gt", s, 0.60 + 0.02 * s, lpips=0.29 + 0.01 * s) for s in range(3)]
    runs += [_run("ts_gt-mask", s, 0.50 + 0.02 * s, lpips=0.19 + 0.01 * s) for s in range(3)]
    runs += [_run("e2e", 0, 0.7)]                               # one seed: too few runs
    judged = S.orderings(runs)
    by = {o["ordering"]: o for o in judged}
    assert set(by) == {"semantic style > mask", "TS-GT vs E2E"}
    mask = by["semantic style > mask"]["metrics"]
    assert mask["ssim"]["verdict"] == "found"
    assert mask["ssim"]["difference"] == pytest.approx(0.10)
    assert mask["ssim"]["spread"] == pytest.approx(0.04)
    assert mask["lpips"]["verdict"] == "reversed"
    assert mask["lpips"]["difference"] == pytest.approx(-0.10)
    assert mask["l1"]["verdict"] == "not separated"
    assert by["TS-GT vs E2E"]["metrics"]["ssim"]["verdict"] == "too few runs"
    text = S.markdown(runs, {})
    assert "| semantic style > mask (ts_gt vs ts_gt-mask) | found (Δ +0.1000, sd sum 0.0400)" in text


def test_collect_merges_out_files(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"runs": [_run("e2e", 0, 0.5)], "references": {
        "source": {"ssim": 0.4}}}))
    b.write_text(json.dumps({"runs": [_run("e2e", 1, 0.7)], "references": {}}))
    assert S.main(["--collect", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "| e2e | 0, 1 | 0.6000 ± 0.1414 (2) |" in out and "| source image unchanged |" in out
    (tmp_path / "c.json").write_text("[]")
    assert S.main(["--collect", str(tmp_path / "c.json")]) == 1


# ----------------------------------------------------------------------------- a real run
def _tiny_repo(project) -> Path:
    """The tiny project (prepared data; G_S, D_S and pose detector of random weights) with a
    params.yaml of the tiny appearance setting."""
    paths = project("schemes")
    raw = json.loads(appearance_params().model_dump_json())
    raw["evaluate"] = dict(raw["evaluate"], **TINY_EVAL)
    (paths.root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return paths.root


def test_a_tiny_run_of_two_seeds_writes_every_number(project, tmp_path, capsys):
    pytest.importorskip("mediapipe", reason="the independent PCKh needs mediapipe")
    repo = _tiny_repo(project)
    out = tmp_path / "runs.json"
    keep = tmp_path / "keep"
    assert S.main(["--repo", str(repo), "--variants", "ts_gt", "--seeds", "0,1",
                   "--iterations", "2", "--jobs", "1", "--threads", "1",
                   "--set", "loss.pose=0.5", "--out", str(out), "--keep", str(keep),
                   "--unpaired", "4"]) == 0
    doc = json.loads(out.read_text())
    assert [(r["variant"], r["seed"]) for r in doc["runs"]] == [("ts_gt", 0), ("ts_gt", 1)]
    for r in doc["runs"]:
        assert r["overrides"]["appearance.seed"] == r["seed"]
        assert r["overrides"]["loss.pose"] == 0.5 and r["overrides"]["loss.face"] is True
        assert r["iterations"] == 2 and r["style"] == "semantic"
        m = r["metrics"]
        assert 0 <= m["ssim"] <= 1 and 0 <= m["mask_ssim"] <= 1 and m["l1"] >= 0
        assert m["lpips"] >= 0
        assert 0 <= m["pckh"] <= 1 and 0 <= m["pckh_posenet"] <= 1
        assert m["pckh_images"] > 0 and m["pckh_missed_share"] == pytest.approx(
            m["pckh_missed"] / m["pckh_images"], abs=1e-4)
        assert r["seconds"]["wall"] > 0 and r["seconds"]["score"] >= 0
        assert m["unpaired_images"] == 4 and m["fid"] >= 0 and m["kid_sd"] == 0.0  # one subset
        assert math.isfinite(m["kid"])
        assert (keep / f"ts_gt-s{r['seed']}" / "models" / "appearance" /
                "generator.safetensors").is_file()
    refs = doc["references"]
    assert set(refs) == {"source", "part_warp", "truth"}
    for name in ("source", "part_warp"):
        assert {"ssim", "mask_ssim", "l1", "lpips", "pckh", "pckh_missed_share",
                "pckh_posenet", "fid", "kid"} <= set(refs[name])
    # the two seeds' models differ, so their FIDs do; the references' are computed once
    assert doc["runs"][0]["metrics"]["fid"] != doc["runs"][1]["metrics"]["fid"]
    assert 0 <= refs["truth"]["pckh"] <= 1
    assert doc["summary"]["ts_gt"]["ssim"]["n"] == 2
    assert doc["settings"]["seeds"] == [0, 1] and doc["settings"]["scored"] is True
    assert doc["settings"]["unpaired"] == 4 and doc["orderings"] == []
    text = capsys.readouterr()
    assert "| ts_gt | 0, 1 |" in text.out and "| part warp |" in text.out
    assert "differs" not in text.err                         # references: the same each run
    # the repository's own files are not touched
    assert not (repo / "models" / "appearance").exists() and not (repo / "eval").exists()

    # --resume: the finished runs are kept, only the new seed trains
    first = doc["runs"]
    common = ["--repo", str(repo), "--variants", "ts_gt", "--iterations", "2", "--jobs", "1",
              "--threads", "1", "--set", "loss.pose=0.5", "--out", str(out), "--keep",
              str(keep), "--unpaired", "4", "--resume"]
    assert S.main([*common, "--seeds", "0,1,2"]) == 0
    doc = json.loads(out.read_text())
    assert [(r["variant"], r["seed"]) for r in doc["runs"]] == [("ts_gt", s) for s in (0, 1, 2)]
    assert doc["runs"][:2] == first and doc["settings"]["seeds"] == [0, 1, 2]
    assert "2 runs kept, 1 to run" in capsys.readouterr().err
    # other settings than the file's: refused, naming the key
    assert S.main([*common[:-1], "--seeds", "0", "--resume", "--set", "loss.face=false"]) == 1
    err = capsys.readouterr().err
    assert "other settings" in err and "set" in err
