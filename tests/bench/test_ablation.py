"""bench/ablation.py: the experiment list, the `dvc exp show --json` parser (on real DVC 3.67
output), mean and spread, the ordering verdicts, and (slow) the whole script on a tiny DVC repo
whose stand-in training stage writes metrics from its params."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import ablation as A
from tests.helpers import REPO

FIXTURE = Path(__file__).parent / "exp_show_dvc367.json"

# ----------------------------------------------------------------------------- a tiny repo
#: The stand-in stages. ssim = base(scheme) + style offset - 0.05 without the face loss + 0.01
#: appearance.seed + 0.001 semantic.seed; a negative appearance.seed fails the stage (a failed
#: experiment).
_STAGE = '''\
import json, os, sys
import yaml
p = yaml.safe_load(open("params.yaml"))
if sys.argv[1] == "semantic":
    open("g.txt", "w").write(str(p["semantic"]["seed"]))
    sys.exit(0)
scheme, style, seed = p["appearance"]["scheme"], p["loss"]["style"], p["appearance"]["seed"]
if seed < 0:
    sys.exit("appearance.seed: negative")
base = {"baseline": 0.5, "ts_pred": 0.6, "ts_gt": 0.7, "e2e": 0.8}[scheme]
base += {"semantic": 0.0, "mask": -0.005, "patch": 0.1}[style]
assert isinstance(p["loss"]["face"], bool), "loss.face must reach params.yaml as a bool"
base += 0.0 if p["loss"]["face"] else -0.05
ssim = base + 0.01 * seed + 0.001 * int(open("g.txt").read())
os.makedirs("eval/appearance", exist_ok=True)
json.dump({"test": {"model": {"ssim": ssim, "mask_ssim": ssim + 0.1, "l1": 1 - ssim, "pairs": 4},
                    "source": {"ssim": 0.5, "pairs": 4}},
           "scheme": {"name": scheme, "style": style}},
          open("eval/appearance/metrics.json", "w"))
'''

_PARAMS = """\
semantic:
  seed: 0
appearance:
  scheme: e2e
  seed: 0
loss:
  style: semantic
  face: true
"""

_DVC_YAML = f"""\
stages:
  train_semantic:
    cmd: {sys.executable} stage.py semantic
    deps: [stage.py]
    params: [semantic.seed]
    outs: [g.txt]
  train_appearance:
    cmd: {sys.executable} stage.py train
    deps: [stage.py, g.txt]
    params: [appearance, loss]
    metrics:
      - eval/appearance/metrics.json:
          cache: false
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def _run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


def tiny_repo(root: Path) -> Path:
    """A git + DVC repository with the stand-in stages, reproduced and committed."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "stage.py").write_text(_STAGE)
    (root / "params.yaml").write_text(_PARAMS)
    (root / "dvc.yaml").write_text(_DVC_YAML)
    _run(["git", "init", "-q"], root)
    _run(["git", "config", "user.email", "t@t"], root)
    _run(["git", "config", "user.name", "t"], root)
    _run([sys.executable, "-m", "dvc", "init", "-q"], root)
    _run([sys.executable, "-m", "dvc", "repro", "-q"], root)
    _run(["git", "add", "-A"], root)
    _run(["git", "commit", "-q", "-m", "tiny"], root)
    return root


# ----------------------------------------------------------------------------- the plan
def _sets(cmd: list[str]) -> dict[str, str]:
    return dict(cmd[i + 1].split("=", 1) for i, c in enumerate(cmd) if c == "-S")


def test_the_plan_is_seven_variants_by_three_seeds():
    runs = A.plan()
    assert len(runs) == 21
    names = [r.name for r in runs]
    assert len(set(names)) == 21
    assert names[:7] == ["baseline-s0", "ts_pred-s0", "ts_gt-s0", "e2e-s0", "ts_gt-mask-s0",
                         "ts_gt-patch-s0", "ts_gt-noface-s0"]
    cmds = {r.name: A.queue_command(r) for r in runs}
    assert all(c[:6] == ["dvc", "exp", "run", "--queue", "--name", n] for n, c in cmds.items())
    on = {"loss.style": "semantic", "loss.face": "true"}
    expect = {
        "baseline-s1": {"appearance.scheme": "baseline", **on, "appearance.seed": "1"},
        "ts_gt-s2": {"appearance.scheme": "ts_gt", **on, "appearance.seed": "2"},
        "ts_pred-s2": {"appearance.scheme": "ts_pred", **on, "appearance.seed": "2",
                       "semantic.seed": "2"},
        "e2e-s0": {"appearance.scheme": "e2e", **on, "appearance.seed": "0",
                   "semantic.seed": "0"},
        # the loss ablation starts from TS-GT: no G_S, so no semantic seed
        "ts_gt-mask-s1": {"appearance.scheme": "ts_gt", "loss.style": "mask",
                          "loss.face": "true", "appearance.seed": "1"},
        "ts_gt-patch-s2": {"appearance.scheme": "ts_gt", "loss.style": "patch",
                           "loss.face": "true", "appearance.seed": "2"},
        "ts_gt-noface-s0": {"appearance.scheme": "ts_gt", "loss.style": "semantic",
                            "loss.face": "false", "appearance.seed": "0"},
    }
    for name, sets in expect.items():
        assert _sets(cmds[name]) == sets, name
    fixed = {r.name: _sets(A.queue_command(r)) for r in A.plan(vary_semantic=False)}
    assert not any("semantic.seed" in s for s in fixed.values())
    assert A.run_all_command(2) == ["dvc", "exp", "run", "--run-all", "--jobs", "2"]


def test_profile_and_set_values_reach_every_experiment(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_bytes((REPO / "params.yaml").read_bytes())
    extra = A.profile_overrides("ablation", params)
    # only what differs from params.yaml: the synthetic set's sizes
    assert extra == {"data.synthetic.identities": 160, "data.synthetic.pairs_per_identity": 8}
    assert A.profile_overrides("default", params) == {}
    extra.update(A.parse_sets(["appearance.iterations=300", "loss.vgg_weights=", "appearance.amp=off"]))
    runs = A.plan(["e2e", "ts_gt"], [5], extra, prefix="abl-")
    assert [r.name for r in runs] == ["abl-e2e-s5", "abl-ts_gt-s5"]
    sets = _sets(A.queue_command(runs[0]))
    assert sets["data.synthetic.identities"] == "160" and sets["appearance.iterations"] == "300"
    assert sets["loss.vgg_weights"] == "" and sets["appearance.amp"] == "off"   # as written
    assert sets["appearance.seed"] == "5" and sets["semantic.seed"] == "5"
    with pytest.raises(A.AblationError, match="appearance.seed"):
        A.plan(extra={"appearance.seed": 3})
    with pytest.raises(A.AblationError, match="loss.style"):
        A.plan(extra={"loss.style": "patch"})
    with pytest.raises(A.AblationError, match="loss.face"):
        A.plan(extra={"loss.face": False})
    with pytest.raises(A.AblationError, match="nosuch"):
        A.plan(["nosuch"])
    with pytest.raises(A.AblationError, match="unknown profile"):
        A.profile_overrides("nosuch", params)
    with pytest.raises(A.AblationError, match="SECTION.KEY=VALUE"):
        A.parse_sets(["iterations"])


_VALUES = [True, False, 0, 7, -3, 0.0002, 1e-5, 2.0, "e2e", "", "off", "yes", "true", "null",
           "1.5", "-2", "a b", "data/x.csv", 'say "hi"']


def test_values_round_trip_through_dvc_set_param(tmp_path):
    """Each value, written by override_value, parsed by DVC's own -S code into a params file
    and read back as YAML 1.2 (as DVC writes it): the same value and type."""
    from dvc.utils.hydra import apply_overrides
    from ruamel.yaml import YAML
    p = tmp_path / "params.yaml"
    p.write_text("a:\n" + "".join(f"  k{i}: x\n" for i in range(len(_VALUES))))
    apply_overrides(str(p), [f"a.k{i}={A.override_value(v)}" for i, v in enumerate(_VALUES)])
    back = YAML(typ="safe", pure=True).load(p.read_text())["a"]
    for i, v in enumerate(_VALUES):
        assert back[f"k{i}"] == v and type(back[f"k{i}"]) is type(v), (v, back[f"k{i}"])
    raw = A.parse_sets(["a.k0=off", "a.k1=", "a.k2=1e-3"])
    apply_overrides(str(p), [f"{k}={A.override_value(v)}" for k, v in raw.items()])
    back = YAML(typ="safe", pure=True).load(p.read_text())["a"]
    assert (back["k0"], back["k1"], back["k2"]) == ("off", "", 0.001)   # as DVC reads -S
    # a variant's values reach params.yaml typed: loss.face=false as a bool, not "false"
    p.write_text("appearance:\n  scheme: e2e\n  seed: 0\nloss:\n  style: semantic\n"
                 "  face: true\n")
    run = A.plan(["ts_gt-noface"], [1])[0]
    apply_overrides(str(p), [f"{k}={A.override_value(v)}" for k, v in run.overrides.items()])
    back = YAML(typ="safe", pure=True).load(p.read_text())
    assert back == {"appearance": {"scheme": "ts_gt", "seed": 1},
                    "loss": {"style": "semantic", "face": False}}


# ----------------------------------------------------------------------------- the parser
def test_parser_reads_the_committed_dvc_367_output():
    """Captured from DVC 3.67.1 on the tiny repo: ts_pred-s0 and e2e-s1 run through the queue,
    bad-s0 (appearance.seed=-1) failed there, plain-s0 run by `dvc exp run` in the workspace."""
    show = json.loads(FIXTURE.read_text())
    assert isinstance(show, list) and show[0]["rev"] == "workspace"
    recs = A.experiment_records(show)
    assert set(recs) == {"ts_pred-s0", "e2e-s1", "bad-s0", "plain-s0"}
    assert "master" not in recs                               # a branch is not an experiment
    m = recs["e2e-s1"]["metrics"]
    assert m["eval/appearance/metrics.json:test.model.ssim"] == pytest.approx(0.8 + 0.01 + 0.001)
    assert m["eval/appearance/metrics.json:test.model.pairs"] == 4
    assert not any(k.endswith("scheme.name") for k in m)       # strings are no metrics
    assert recs["e2e-s1"]["params"]["params.yaml"]["appearance"]["seed"] == 1
    assert recs["ts_pred-s0"]["metrics"]["eval/appearance/metrics.json:test.model.l1"] == \
        pytest.approx(1 - 0.6)
    # DVC puts the baseline commit's metrics into a failed experiment's record: not its own
    assert show[1]["experiments"][3]["revs"][0]["data"]["metrics"]
    assert recs["bad-s0"]["state"] == "failed" and recs["bad-s0"]["metrics"] == {}
    assert recs["e2e-s1"]["state"] == "success"
    assert recs["plain-s0"]["metrics"]["eval/appearance/metrics.json:test.model.ssim"] == \
        pytest.approx(0.795)


def test_parser_on_fresh_dvc_exp_show_output(tmp_path):
    repo = tiny_repo(tmp_path / "repo")
    dvc = [sys.executable, "-m", "dvc"]
    _run(dvc + ["exp", "run", "-q", "-n", "e2e-s1", "-S", "appearance.seed=1", "-S",
                "semantic.seed=1"], repo)
    # a workspace run leaves its values in params.yaml: set both seeds back explicitly
    _run(dvc + ["exp", "run", "-q", "-n", "ts_gt-s0", "-S", "appearance.scheme=ts_gt", "-S",
                "appearance.seed=0", "-S", "semantic.seed=0"], repo)
    recs = A.experiment_records(json.loads(_run(dvc + ["exp", "show", "--json"], repo)))
    assert set(recs) == {"e2e-s1", "ts_gt-s0"}
    key = "eval/appearance/metrics.json:test.model.ssim"
    assert recs["e2e-s1"]["metrics"][key] == pytest.approx(0.811)
    assert recs["ts_gt-s0"]["metrics"][key] == pytest.approx(0.7)
    assert recs["e2e-s1"]["metrics"]["eval/appearance/metrics.json:test.source.ssim"] == 0.5


def test_flatten_skips_unreadable_files_and_non_numbers():
    flat = A.flatten_metrics({
        "eval/metrics.json": {"data": {"paired": {"model": {"ssim": 0.5, "is": None,
                                                            "fid": float("nan")},
                                                  "ok": True, "note": "x"}}},
        "eval/missing.json": {"error": {"type": "FileNotFoundError", "msg": "..."}}})
    assert flat == {"eval/metrics.json:paired.model.ssim": 0.5}


# ----------------------------------------------------------------------------- statistics
def test_summary_against_hand_computed_numbers():
    s = A.summarize([0.2, 0.4, 0.9])
    assert s.n == 3 and s.mean == pytest.approx(0.5)
    # deviations -0.3, -0.1, 0.4: squares 0.09 + 0.01 + 0.16 = 0.26; / (3 - 1) = 0.13
    assert s.sd == pytest.approx(math.sqrt(0.13))
    assert (s.min, s.max) == (0.2, 0.9)
    one = A.summarize([3.0])
    assert one.sd is None and one.mean == 3.0
    with pytest.raises(A.AblationError):
        A.summarize([])


def _records(values: dict[str, list[float]], metric: str = "f.json:test.model.ssim"):
    return {f"{v}-s{i}": {"metrics": {metric: x}, "state": "success"}
            for v, xs in values.items() for i, x in enumerate(xs)}


def test_aggregate_groups_runs_by_variant():
    runs = A.plan(["e2e", "ts_pred"], [0, 1, 2])
    recs = _records({"e2e": [0.8, 0.82, 0.84], "ts_pred": [0.5, 0.6]})  # ts_pred-s2 missing
    stats = A.aggregate(runs, recs)["f.json:test.model.ssim"]
    assert stats["e2e"].n == 3 and stats["e2e"].mean == pytest.approx(0.82)
    assert stats["e2e"].sd == pytest.approx(0.02)           # sqrt((4e-4 + 0 + 4e-4) / 2)
    assert stats["ts_pred"].n == 2 and stats["ts_pred"].sd == pytest.approx(0.1 / math.sqrt(2))
    rep = A.report(runs, recs)
    assert rep["missing"] == ["ts_pred-s2"]


def test_orderings_found_not_separated_reversed():
    a, b = A.summarize([0.80, 0.82, 0.84]), A.summarize([0.60, 0.61, 0.62])   # sd 0.02, 0.01
    found = A.verdict(a, b, "higher")
    assert found["verdict"] == "found"
    assert found["difference"] == pytest.approx(0.21) and found["spread"] == pytest.approx(0.03)
    assert A.verdict(b, a, "higher")["verdict"] == "reversed"
    assert A.verdict(a, b, "lower")["verdict"] == "reversed"     # lower is better: b wins
    close = A.summarize([0.80, 0.83, 0.86])                      # sd 0.03
    near = A.summarize([0.79, 0.80, 0.81])                       # sd 0.01; diff 0.03 < 0.04
    assert A.verdict(close, near, "higher")["verdict"] == "not separated"
    # exactly at the bound is not separated: the difference must exceed the sd sum
    assert A.verdict(A.summarize([1.0, 3.0]), A.summarize([-2.0, 0.0]), "higher")["spread"] \
        == pytest.approx(2 * math.sqrt(2))
    edge_a, edge_b = A.summarize([0.0, 2.0]), A.summarize([-2.0, 0.0])   # diff 2, sds 1.414
    assert A.verdict(edge_a, edge_b, "higher")["verdict"] == "not separated"
    assert A.verdict(a, A.summarize([0.5]), "higher")["verdict"] == "too few runs"
    assert A.verdict(a, None, "higher")["verdict"] == "too few runs"
    assert A.verdict(a, b, None)["verdict"] == "no direction"


def test_directions_and_table_selection():
    assert A.direction("eval/metrics.json:paired.model.ssim") == "higher"
    assert A.direction("eval/metrics.json:paired.model.LPIPS") == "lower"
    assert A.direction("eval/metrics.json:paired.model.fid") == "lower"
    assert A.direction("eval/appearance/metrics.json:test.model.pairs") is None
    # PCKh: MediaPipe's (the main one) and the trained detector's higher; misses lower
    assert A.direction("eval/metrics.json:paired.model.pckh") == "higher"
    assert A.direction("eval/metrics.json:paired.model.pckh_posenet") == "higher"
    assert A.direction("eval/metrics.json:paired.model.pckh_missed") == "lower"
    assert A.direction("eval/metrics.json:paired.model.pckh_images") is None
    metrics = ["eval/appearance/metrics.json:test.model.ssim",
               "eval/appearance/metrics.json:test.model.pairs",
               "eval/appearance/metrics.json:test.source.ssim",
               "eval/metrics.json:paired.model.lpips",
               "eval/metrics.json:unpaired.model.ssim",
               "eval/semantic/metrics.json:test.miou",
               "eval/metrics.json:paired.model.settings.ssim",           # not a score
               "eval/metrics.json:paired.maps.model.miou",
               "eval/metrics.json:paired.maps.part_warp.miou",
               "eval/metrics.json:paired.model.peer_mask_ssim",
               "eval/metrics.json:paired.model.pckh",
               "eval/metrics.json:paired.model.pckh_missed",
               "eval/metrics.json:paired.model.pckh_images",              # a count
               "eval/metrics.json:paired.model.pckh_posenet",
               "eval/metrics.json:paired.pckh_truth.pckh",                # not the model's
               "eval/metrics.json:paired.source.pckh"]
    assert A.select_metrics(metrics) == [metrics[i] for i in (0, 3, 4, 7, 9, 10, 11, 13)]
    assert A.select_metrics(metrics, ["*:test.source.*"]) == [metrics[2]]


def test_legacy_pckh_is_read_as_the_trained_detectors():
    """Before the independent PCKh, eval/metrics.json's ``pckh`` was the trained detector's:
    such a record's value becomes ``pckh_posenet``; the new layout is kept as it is."""
    old = {"eval/metrics.json:paired.model.pckh": 0.59,
           "eval/metrics.json:unpaired.source.pckh": 0.17,
           "eval/metrics.json:paired.model.ssim": 0.6,
           "other.json:test.pckh": 0.3}                          # another file: untouched
    assert A.legacy_pckh(old) == {"eval/metrics.json:paired.model.pckh_posenet": 0.59,
                                  "eval/metrics.json:unpaired.source.pckh_posenet": 0.17,
                                  "eval/metrics.json:paired.model.ssim": 0.6,
                                  "other.json:test.pckh": 0.3}
    new = {"eval/metrics.json:paired.model.pckh": 0.36,
           "eval/metrics.json:paired.model.pckh_missed": 24.0,
           "eval/metrics.json:paired.model.pckh_images": 48.0,
           "eval/metrics.json:paired.model.pckh_posenet": 0.59,
           "eval/metrics.json:paired.pckh_truth.pckh": 0.65,
           "eval/metrics.json:paired.pckh_truth.pckh_missed": 3.0}
    assert A.legacy_pckh(new) == new
    # MediaPipe missing: "pckh" is {"computed": false, ...}, nothing numeric; posenet's kept
    off = {"eval/metrics.json:paired.model.pckh_posenet": 0.59}
    assert A.legacy_pckh(off) == off
    show = [{"rev": "workspace", "experiments": [{"name": "old-s0", "executor": None, "revs": [
        {"rev": "abc", "name": "old-s0", "data": {"metrics": {"eval/metrics.json": {"data": {
            "paired": {"model": {"pckh": 0.59}}}}}}}]}]}]
    assert A.experiment_records(show)["old-s0"]["metrics"] == {
        "eval/metrics.json:paired.model.pckh_posenet": 0.59}


def test_reported_comparison_names_the_variant_ahead():
    a, b = A.summarize([0.80, 0.82, 0.84]), A.summarize([0.60, 0.61, 0.62])
    assert A.comparison(a, b, "higher", False, "ts_gt", "e2e")["verdict"] == "ts_gt ahead"
    assert A.comparison(b, a, "higher", False, "ts_gt", "e2e")["verdict"] == "e2e ahead"
    assert A.comparison(a, b, "higher", True)["verdict"] == "found"
    near = A.summarize([0.80, 0.81, 0.82])
    assert A.comparison(a, near, "higher", False)["verdict"] == "not separated"
    assert A.comparison(a, None, "higher", False)["verdict"] == "too few runs"


def test_markdown_report_states_each_ordering():
    runs = A.plan(seeds=[0, 1, 2])
    # e2e > ts_pred: found; ts_gt vs e2e: e2e ahead; semantic > mask: not separated;
    # semantic > patch: reversed; face loss helps: found
    base = {"baseline": 0.5, "ts_pred": 0.6, "ts_gt": 0.7, "e2e": 0.8, "ts_gt-mask": 0.69,
            "ts_gt-patch": 0.9, "ts_gt-noface": 0.6}
    recs = _records({v: [b, b + 0.01, b + 0.02] for v, b in base.items()},
                    "eval/appearance/metrics.json:test.model.ssim")
    rep = A.report(runs, recs)
    assert [o["ordering"] for o in rep["orderings"]] == [
        "E2E > TS-Pred", "TS-GT vs E2E", "semantic style > mask", "semantic style > patch",
        "face loss helps"]
    assert [(o["better"], o["worse"], o["claimed"]) for o in rep["orderings"]] == [
        ("e2e", "ts_pred", True), ("ts_gt", "e2e", False), ("ts_gt", "ts_gt-mask", True),
        ("ts_gt", "ts_gt-patch", True), ("ts_gt", "ts_gt-noface", True)]
    metric = "eval/appearance/metrics.json:test.model.ssim"
    assert [o["metrics"][metric]["verdict"] for o in rep["orderings"]] == [
        "found", "e2e ahead", "not separated", "reversed", "found"]
    text = A.markdown(rep)
    row = next(line for line in text.splitlines() if line.startswith("| eval/appearance"))
    assert "| higher | 0.5100 ± 0.0100 (3) |" in row
    verdicts = text.splitlines()[-1]
    assert verdicts.count("found") == 2 and "e2e ahead" in verdicts
    assert "not separated" in verdicts and "reversed" in verdicts
    assert "exceeds sd(A) + sd(B)" in text
    assert "0.5000–0.5200" in text                             # min–max
    assert "MediaPipe" not in text                             # no PCKh in this table


def test_markdown_names_the_pckh_detectors():
    runs = A.plan(["ts_gt", "ts_gt-noface"], [0, 1])
    recs = {}
    # runs: ts_gt-s0, ts_gt-noface-s0, ts_gt-s1, ts_gt-noface-s1
    for metric, vals in (("eval/metrics.json:paired.model.pckh", [0.4, 0.3, 0.42, 0.31]),
                         ("eval/metrics.json:paired.model.pckh_missed", [2, 9, 3, 8]),
                         ("eval/metrics.json:paired.model.pckh_posenet", [0.6, 0.5, 0.6, 0.52])):
        for run, v in zip(runs, vals):
            recs.setdefault(run.name, {"state": "success", "metrics": {}})["metrics"][metric] = v
    rep = A.report(runs, recs)
    assert rep["directions"]["eval/metrics.json:paired.model.pckh_missed"] == "lower"
    face = rep["orderings"][0]
    assert face["ordering"] == "face loss helps"
    assert face["metrics"]["eval/metrics.json:paired.model.pckh"]["verdict"] == "found"
    assert face["metrics"]["eval/metrics.json:paired.model.pckh_missed"]["verdict"] == "found"
    assert "`pckh` is MediaPipe's" in A.markdown(rep)


# ----------------------------------------------------------------------------- end to end
def test_dry_run_prints_the_commands(capsys):
    assert A.main(["--dry-run", "--variants", "e2e,baseline", "--seeds", "4", "--jobs", "2",
                   "--set", "appearance.iterations=30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "dvc exp run --queue --name e2e-s4 -S appearance.iterations=30 -S appearance.scheme=e2e "
        "-S loss.style=semantic -S loss.face=true -S appearance.seed=4 -S semantic.seed=4",
        "dvc exp run --queue --name baseline-s4 -S appearance.iterations=30 "
        "-S appearance.scheme=baseline -S loss.style=semantic -S loss.face=true "
        "-S appearance.seed=4",
        "dvc exp run --run-all --jobs 2"]
    assert A.main(["--dry-run", "--set", "appearance.seed=1"]) == 1
    assert "appearance.seed" in capsys.readouterr().err


@pytest.mark.slow
def test_the_script_queues_runs_and_reports(tmp_path, capsys):
    """Seven variants x two seeds through `dvc exp run --queue` and `--run-all`, then the report;
    stand-in metrics make E2E > TS-Pred found, E2E ahead of TS-GT, semantic vs mask not
    separated, semantic vs patch reversed and the face loss's help found. A second call refuses
    to overwrite; --collect-only reads the same runs."""
    repo = tiny_repo(tmp_path / "repo")
    out = tmp_path / "ablation.json"
    args = ["--repo", str(repo), "--seeds", "0", "1"]
    assert A.main(args + ["--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["missing"] == []
    ssim = "eval/appearance/metrics.json:test.model.ssim"
    assert sorted(rep["table"]) == ["eval/appearance/metrics.json:test.model.l1",
                                    "eval/appearance/metrics.json:test.model.mask_ssim", ssim]
    # e2e: 0.8 + 0.01 s + 0.001 s (semantic.seed varies with it); ts_gt: semantic.seed fixed 0
    assert rep["metrics"][ssim]["e2e"]["values"] == pytest.approx([0.8, 0.811])
    assert rep["metrics"][ssim]["ts_gt"]["values"] == pytest.approx([0.7, 0.71])
    verdicts = {o["ordering"]: o["metrics"][ssim]["verdict"] for o in rep["orderings"]}
    assert rep["metrics"][ssim]["ts_gt-noface"]["values"] == pytest.approx([0.65, 0.66])
    assert verdicts == {"E2E > TS-Pred": "found", "TS-GT vs E2E": "e2e ahead",
                        "semantic style > mask": "not separated",
                        "semantic style > patch": "reversed", "face loss helps": "found"}
    l1 = {o["ordering"]: o["metrics"]["eval/appearance/metrics.json:test.model.l1"]["verdict"]
          for o in rep["orderings"]}
    assert l1 == verdicts                                     # lower is better for L1
    capsys.readouterr()
    assert A.main(args) == 1
    assert "exist already" in capsys.readouterr().err
    assert A.main(args + ["--collect-only"]) == 0
    assert "E2E > TS-Pred" in capsys.readouterr().out
