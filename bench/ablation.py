"""The ablation table: the four training schemes and the paper's loss ablation (from TS-GT), each
trained with several seeds as DVC experiments, reported as mean ± spread per metric.

    python bench/ablation.py --profile ablation --dry-run       # the dvc commands, nothing run
    python bench/ablation.py --profile ablation --json eval/ablation.json   # queue, run, report
    python bench/ablation.py --collect-only --json eval/ablation.json       # report only
    python bench/ablation.py --seeds 0 1 --set appearance.iterations=300 --jobs 1

Variants (:data:`pipeline.appearance_schemes.VARIANTS`; the e2e row is the paper's full
model): the schemes ``appearance.scheme`` = baseline, ts_pred, ts_gt, e2e (each with
``loss.style=semantic`` and ``loss.face=true``; the baseline scheme has no maps and uses the
mask style), then the paper's loss ablation, which starts from TS-GT: ``ts_gt-mask``
(``loss.style=mask``), ``ts_gt-patch`` (``loss.style=patch``) and ``ts_gt-noface``
(``loss.face=false``), each against ``ts_gt`` (semantic style, face loss on): 7 variants. Each
variant and seed becomes one experiment, queued with
``dvc exp run --queue --name <variant>-s<seed> -S key=value ...`` (a variant's values are passed
as written, so ``loss.face=false`` reaches params.yaml as a bool); then
``dvc exp run --run-all --jobs N`` runs the queue (it starts DVC's queue workers and waits for
each experiment, printing its log). Experiments run in temporary copies of the workspace; stages
whose parameters an experiment does not change are skipped, and stages another experiment has
already run with the same inputs are restored from DVC's run cache.

Seeds [choice]: seed s sets ``appearance.seed=s`` in every variant and also
``semantic.seed=s`` in the variants whose scheme reads the pretrained G_S (ts_pred and e2e;
``SEMANTIC_SCHEMES``; the loss-ablation variants are TS-GT and read none): their spread then
includes G_S's own training randomness, which their result depends on, and the variants
compared within seed s share one G_S. The cost is one ``train_semantic`` run per seed (3.6 min
each on the default data; shared through the run cache), not one per experiment.
``--fixed-semantic`` varies ``appearance.seed`` only. ``posenet.seed`` never varies: the frozen
pose detector is a loss network and the ruler of PCKh (``pckh_posenet``), the same for every
variant.

Metrics: every numeric metric DVC reports for an experiment (``dvc exp show --json``: under
``data.metrics.<file>.data``) is read and aggregated (``--json`` holds them all); the printed
table shows the model's scores (``TABLE_METRICS``: eval/metrics.json of the evaluate stage,
eval/appearance/metrics.json of the training stage) whose name has a direction in
``DIRECTIONS``, or the metrics that ``--metric`` patterns name. PCKh: the evaluate stage's
``pckh`` is the independent detector's (MediaPipe on enlarged images; a person it misses counts
with every point wrong; pipeline/evaluation/independent_pckh.py), the main PCKh; ``pckh_missed``
counts those people (lower is better); ``pckh_posenet`` is the trained pose detector's, the
second column. An experiment run before that change has the trained detector's under ``pckh``
and no ``pckh_posenet`` / ``pckh_missed``: its value is read as ``pckh_posenet``
(:func:`legacy_pckh`), never as the main PCKh. Spread: the sample standard deviation (n - 1)
over seeds, and the min-max range.

Orderings (``ORDERINGS``) [paper, 4.4 and its loss ablation]: the claims E2E > TS-Pred,
semantic style > mask style (``ts_gt`` vs ``ts_gt-mask``), semantic style > patch style
(``ts_gt`` vs ``ts_gt-patch``) and face loss helps (``ts_gt`` vs ``ts_gt-noface``); and TS-GT vs
E2E, which the paper reports without claiming an order (TS-GT reads the true target maps). A
claim A > B is "found" on a metric when the difference of the two variants' means, in the
metric's better direction, exceeds the sum of their two sample standard deviations;
"reversed" when the opposite difference does; otherwise "not separated" (``CRITERION``). A
reported comparison is stated with the same rule as "<A> ahead", "<B> ahead" or "not
separated".
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from pipeline.appearance_schemes import SCHEMES, VARIANTS

REPO = Path(__file__).resolve().parents[1]

#: Schemes whose appearance stage reads the pretrained G_S.
SEMANTIC_SCHEMES = frozenset(k for k, v in SCHEMES.items() if v.uses_semantic_network)

DEFAULT_SEEDS = (0, 1, 2)

#: Metric name (the last key of its JSON path) -> the better direction. SSIM, mask-SSIM (also
#: the peer-compatible ones), IS, mask-IS, PCKh (``pckh``: the independent MediaPipe
#: detector's, the main one; ``pckh_posenet``: the trained detector's), the maps' mIoU and pixel
#: accuracy: higher; L1, LPIPS, FID, KID and ``pckh_missed`` / ``pckh_missed_share`` (people
#: MediaPipe did not find, each scored as all points wrong; their count / share): lower
#: [docs/method.md §6; docs/metrics.md]. Other names (pairs, images, ``pckh_images``, settings)
#: have none.
DIRECTIONS: dict[str, str] = {
    "ssim": "higher", "mask_ssim": "higher", "peer_ssim": "higher", "peer_mask_ssim": "higher",
    "is": "higher", "mask_is": "higher", "pckh": "higher", "pckh_posenet": "higher",
    "miou": "higher", "pixel_accuracy": "higher", "accuracy": "higher",
    "l1": "lower", "lpips": "lower", "fid": "lower", "kid": "lower", "pckh_missed": "lower",
    "pckh_missed_share": "lower",
}

#: The metrics the printed table shows ("<metrics file>:<dotted JSON path>", regular
#: expressions, whole match): the generated images' scores of the evaluate stage
#: (eval/metrics.json: {"paired", "unpaired"} -> "model" -> metric, and the predicted maps'
#: "maps" -> "model" -> miou, ...) and the training stage's own test scores; the references
#: (source image, part warp), the settings and the pretraining stages' scores stay out of the
#: table (they are in --json).
TABLE_METRICS: tuple[str, ...] = (
    r"eval/metrics\.json:[^.]+\.model\.[^.]+",
    r"eval/metrics\.json:[^.]+\.maps\.model\.[^.]+",
    r"eval/appearance/metrics\.json:test\.model\.[^.]+",
)

#: (label, variant A, variant B, claimed): the paper's comparisons [paper, 4.4 and its loss
#: ablation, which starts from TS-GT]. claimed True: the paper claims A > B (verdict found /
#: reversed / not separated); False: the paper reports the pair without claiming an order
#: (verdict "<A> ahead" / "<B> ahead" / not separated).
ORDERINGS: tuple[tuple[str, str, str, bool], ...] = (
    ("E2E > TS-Pred", "e2e", "ts_pred", True),
    ("TS-GT vs E2E", "ts_gt", "e2e", False),
    ("semantic style > mask", "ts_gt", "ts_gt-mask", True),
    ("semantic style > patch", "ts_gt", "ts_gt-patch", True),
    ("face loss helps", "ts_gt", "ts_gt-noface", True),
)

CRITERION = ("an ordering A > B is 'found' on a metric when mean(A) - mean(B), taken in the "
             "metric's better direction, exceeds sd(A) + sd(B) (sample standard deviations over "
             "seeds, n - 1); 'reversed' when mean(B) - mean(A) does; otherwise 'not separated'. "
             "A comparison the paper reports without claiming an order (A vs B) reads "
             "'<A> ahead' / '<B> ahead' by the same rule. "
             "A rough separation rule, not a significance test.")


class AblationError(RuntimeError):
    """A one-line problem of the ablation (bad option, failed dvc call, missing runs)."""


# ----------------------------------------------------------------------------- experiments
@dataclass(frozen=True)
class Run:
    """One experiment: a variant trained with one seed."""

    variant: str
    seed: int
    name: str                      # the DVC experiment name, "<prefix><variant>-s<seed>"
    overrides: dict[str, Any]      # dotted params key -> value, in -S order


def seed_keys(variant: str, vary_semantic: bool = True) -> list[str]:
    """The params keys that seed ``variant``'s experiments (module docstring, "Seeds")."""
    keys = ["appearance.seed"]
    if vary_semantic and VARIANTS[variant]["appearance.scheme"] in SEMANTIC_SCHEMES:
        keys.append("semantic.seed")
    return keys


def plan(variants: Iterable[str] = VARIANTS, seeds: Iterable[int] = DEFAULT_SEEDS,
         extra: dict[str, Any] | None = None, vary_semantic: bool = True,
         prefix: str = "") -> list[Run]:
    """The experiments, seed by seed (all variants of seed 0 first): ``extra`` (profile and
    --set values) first, then the variant's keys (as :class:`RawValue`: passed to ``-S`` as
    :data:`VARIANTS` writes them), then its seed keys. Raises AblationError when
    ``extra`` sets a key the ablation varies or a variant is unknown."""
    extra = dict(extra or {})
    variants, seeds = list(variants), list(seeds)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise AblationError(f"unknown variant(s) {unknown}; known: {', '.join(VARIANTS)}")
    if not variants or not seeds:
        raise AblationError("no variants or no seeds to run")
    varied = {k for v in variants for k in [*VARIANTS[v], *seed_keys(v, vary_semantic)]}
    clash = sorted(varied & set(extra))
    if clash:
        raise AblationError(f"{', '.join(clash)}: set by the ablation itself (variant or seed); "
                            f"leave it out of --set and of the profile")
    runs = []
    for seed in seeds:
        for v in variants:
            over = dict(extra)
            # as written, like --set: DVC parses "false" as a bool, "ts_gt" as a string
            over.update({k: RawValue(x) for k, x in VARIANTS[v].items()})
            over.update({k: seed for k in seed_keys(v, vary_semantic)})
            runs.append(Run(v, seed, f"{prefix}{v}-s{seed}", over))
    return runs


class RawValue(str):
    """A value given on the command line (--set): passed to ``-S`` as written."""


#: Unquoted strings that the override grammar of ``dvc exp run -S`` (Hydra's) keeps as strings.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_KEYWORDS = {"true", "false", "null", "nan", "inf"}


def override_value(value: Any) -> str:
    """``value`` written as ``dvc exp run -S key=VALUE`` parses it back (DVC parses -S with
    Hydra's override grammar and writes params.yaml as YAML 1.2): bools true/false, numbers as
    repr, strings plain when the grammar reads them as that string, else double-quoted."""
    if isinstance(value, RawValue):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _KEYWORDS:
            return value
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise AblationError(f"value {value!r}: only scalars can be set with -S")


def queue_command(run: Run) -> list[str]:
    """``dvc exp run --queue --name NAME -S key=value ...`` of one experiment."""
    cmd = ["dvc", "exp", "run", "--queue", "--name", run.name]
    for key, value in run.overrides.items():
        cmd += ["-S", f"{key}={override_value(value)}"]
    return cmd


def run_all_command(jobs: int) -> list[str]:
    """Runs every queued experiment, ``jobs`` at a time, and waits for them."""
    return ["dvc", "exp", "run", "--run-all", "--jobs", str(jobs)]


def parse_sets(items: Iterable[str]) -> dict[str, Any]:
    """``["data.synthetic.identities=200", "appearance.iterations=300"]`` -> {dotted key: value},
    each value kept as written (a RawValue: DVC parses it, as for ``dvc exp run -S``)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or "." not in key or key != key.strip():
            raise AblationError(f"--set {item!r}: expected SECTION.KEY=VALUE")
        out[key] = RawValue(value)
    return out


def profile_overrides(name: str, params_file: Path | str) -> dict[str, Any]:
    """Profile ``name`` of pipeline/profiles.py as dotted keys -> values, less the keys whose
    value ``params_file`` already holds (an -S of an equal value changes nothing)."""
    from ruamel.yaml import YAML

    from pipeline.profiles import profile
    try:
        sections = profile(name)
    except KeyError as err:
        raise AblationError(str(err.args[0])) from None
    current = YAML(typ="safe", pure=True).load(Path(params_file).read_text()) or {}
    out: dict[str, Any] = {}
    for section, values in sections.items():
        block: Any = current
        for part in section.split("."):
            block = block.get(part, {}) if isinstance(block, dict) else {}
        for key, value in values.items():
            if not (isinstance(block, dict) and key in block and block[key] == value
                    and type(block[key]) is type(value)):
                out[f"{section}.{key}"] = value
    return out


# ----------------------------------------------------------------------------- dvc exp show
def flatten_metrics(metrics: dict[str, Any] | None) -> dict[str, float]:
    """``data.metrics`` of one ``dvc exp show --json`` record ({file: {"data": {...}}}) ->
    {"<file>:<dotted.path>": value} for every numeric leaf (bools, strings, nulls and files
    that DVC could not read, {file: {"error": ...}}, are left out)."""
    out: dict[str, float] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            if math.isfinite(node):
                out[f"{file}:{prefix}"] = float(node)

    for file, entry in (metrics or {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("data"), dict):
            walk("", entry["data"])
    return out


#: The PCKh keys of the evaluate stage's layout since the independent detector: ``pckh``
#: (MediaPipe), ``pckh_missed``, ``pckh_images`` and ``pckh_posenet`` (the trained detector).
_NEW_PCKH_KEYS = ("pckh_posenet", "pckh_missed", "pckh_images")


def legacy_pckh(metrics: dict[str, float]) -> dict[str, float]:
    """``metrics`` (flattened) with the trained detector's PCKh of an experiment run before the
    independent PCKh existed renamed from ``pckh`` to ``pckh_posenet``: in eval/metrics.json, a
    ``<prefix>.pckh`` with no ``<prefix>.pckh_posenet``, ``.pckh_missed`` or ``.pckh_images``
    beside it is the old layout. ``pckh`` then is only ever the independent detector's."""
    out = dict(metrics)
    for key in metrics:
        file, _, path = key.partition(":")
        if file != "eval/metrics.json" or not (path == "pckh" or path.endswith(".pckh")):
            continue
        prefix = key[:-len("pckh")]
        if not any(prefix + k in metrics for k in _NEW_PCKH_KEYS):
            out[prefix + "pckh_posenet"] = out.pop(key)
    return out


def experiment_records(show: Any) -> dict[str, dict[str, Any]]:
    """Experiments of a ``dvc exp show --json`` document by name: {name: {"rev", "state",
    "metrics" (flattened), "params" ({file: {...}})}}.

    DVC 3 writes a list of commits (the workspace, then the baseline commits), each with
    "experiments": a list of {"name", "executor": {"state", ...} | null, "revs": [record, ...]},
    a record being {"rev", "name", "data": {"params", "metrics", ...}, "error"}. Only records
    inside an "experiments" list count (a branch name is not an experiment); where a name occurs
    under several commits (``--all-commits``) the first one, the newest commit's, is kept. An
    experiment whose state is not "success" gets no metrics: DVC 3.67 fills a failed one's
    "data" with its baseline commit's (seen on the test fixture). Metrics pass through
    :func:`legacy_pckh`."""
    found: dict[str, dict[str, Any]] = {}

    def record(group: dict[str, Any]) -> None:
        revs = group.get("revs") if isinstance(group.get("revs"), list) else [group]
        rec = next((r for r in revs if isinstance(r, dict)), None)
        if rec is None:
            return
        name = group.get("name") or rec.get("name")
        if not name or name in found:
            return
        executor = group.get("executor") if isinstance(group.get("executor"), dict) else {}
        data = rec.get("data") if isinstance(rec.get("data"), dict) else {}
        state = executor.get("state") or ("failed" if rec.get("error") else "success")
        # a failed, queued or running experiment's record holds its baseline commit's metrics
        own = state == "success" and not rec.get("error")
        found[name] = {
            "rev": rec.get("rev"),
            "state": state,
            "metrics": legacy_pckh(flatten_metrics(data.get("metrics"))) if own else {},
            "params": {f: (e.get("data") if isinstance(e, dict) else None)
                       for f, e in (data.get("params") or {}).items()},
        }

    commits = show if isinstance(show, list) else [show]
    for commit in commits:
        if isinstance(commit, dict):
            for group in commit.get("experiments") or []:
                if isinstance(group, dict):
                    record(group)
    return found


# ----------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Summary:
    """Mean and spread of one metric over one variant's seeds (sd: sample, n - 1; None when
    n < 2)."""

    n: int
    mean: float
    sd: float | None
    min: float
    max: float
    values: tuple[float, ...]


def summarize(values: Iterable[float]) -> Summary:
    """Summary of ``values`` (at least one)."""
    vals = tuple(float(v) for v in values)
    if not vals:
        raise AblationError("no values to summarize")
    n = len(vals)
    mean = math.fsum(vals) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else None
    return Summary(n, mean, sd, min(vals), max(vals), vals)


def aggregate(runs: list[Run], records: dict[str, dict[str, Any]]
              ) -> dict[str, dict[str, Summary]]:
    """{metric: {variant: Summary}} over the runs found in ``records`` (a metric a run lacks
    lowers that variant's n)."""
    values: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        rec = records.get(run.name)
        for metric, value in (rec["metrics"] if rec else {}).items():
            values.setdefault(metric, {}).setdefault(run.variant, []).append(value)
    return {m: {v: summarize(vals) for v, vals in by.items()}
            for m, by in sorted(values.items())}


def direction(metric: str, directions: dict[str, str] = DIRECTIONS) -> str | None:
    """"higher" or "lower" for ``metric`` ("<file>:<path>": by its last key), or None."""
    return directions.get(metric.rsplit(":", 1)[-1].rsplit(".", 1)[-1].lower())


def verdict(better: Summary | None, worse: Summary | None, sense: str | None
            ) -> dict[str, Any]:
    """The ordering "``better`` > ``worse``" on one metric (``CRITERION``): {"verdict": found |
    reversed | not separated | too few runs | no direction, "difference": mean difference in
    the better direction (positive: as claimed), "spread": sd sum}."""
    if sense not in ("higher", "lower"):
        return {"verdict": "no direction", "difference": None, "spread": None}
    if better is None or worse is None or better.sd is None or worse.sd is None:
        return {"verdict": "too few runs", "difference": None, "spread": None}
    diff = (better.mean - worse.mean) * (1.0 if sense == "higher" else -1.0)
    spread = better.sd + worse.sd
    word = "found" if diff > spread else "reversed" if -diff > spread else "not separated"
    return {"verdict": word, "difference": diff, "spread": spread}


def comparison(a: Summary | None, b: Summary | None, sense: str | None, claimed: bool = True,
               name_a: str = "A", name_b: str = "B") -> dict[str, Any]:
    """:func:`verdict` of "A > B"; for a pair the paper reports without claiming an order
    (``claimed`` False) the words found / reversed become "<name_a> ahead" / "<name_b> ahead"
    (the difference stays A's advantage in the metric's better direction)."""
    out = verdict(a, b, sense)
    if not claimed:
        out["verdict"] = {"found": f"{name_a} ahead",
                          "reversed": f"{name_b} ahead"}.get(out["verdict"], out["verdict"])
    return out


def select_metrics(metrics: Iterable[str], patterns: Iterable[str] | None = None,
                   directions: dict[str, str] = DIRECTIONS) -> list[str]:
    """The table's metrics: those matching ``patterns`` (fnmatch on "<file>:<path>"); with no
    patterns, those matching ``TABLE_METRICS`` that have a direction."""
    metrics = list(metrics)
    if patterns:
        pats = list(patterns)
        return [m for m in metrics if any(fnmatch.fnmatchcase(m, p) for p in pats)]
    return [m for m in metrics if any(re.fullmatch(p, m) for p in TABLE_METRICS)
            and direction(m, directions)]


# ----------------------------------------------------------------------------- report
def _digits(summaries: Iterable[Summary]) -> int:
    """Decimals of a metric's row: 4 below 10, 2 below 100, else 1."""
    top = max((abs(s.mean) for s in summaries), default=0.0)
    return 4 if top < 10 else 2 if top < 100 else 1


def report(runs: list[Run], records: dict[str, dict[str, Any]],
           patterns: Iterable[str] | None = None,
           directions: dict[str, str] = DIRECTIONS) -> dict[str, Any]:
    """Everything the script reports (what --json writes): runs, missing runs, the summary of
    every metric, the table's metrics and the orderings' verdicts on them."""
    stats = aggregate(runs, records)
    table = select_metrics(stats, patterns, directions)
    variants = list(dict.fromkeys(r.variant for r in runs))
    orderings = []
    for label, a, b, claimed in ORDERINGS:
        if a in variants and b in variants:
            orderings.append({"ordering": label, "better": a, "worse": b, "claimed": claimed,
                              "metrics": {m: comparison(stats[m].get(a), stats[m].get(b),
                                                        direction(m, directions), claimed, a, b)
                                          for m in table}})
    return {
        "criterion": CRITERION,
        "variants": {v: VARIANTS[v] for v in variants},
        "seeds": sorted({r.seed for r in runs}),
        "runs": {r.name: {"variant": r.variant, "seed": r.seed, "overrides": r.overrides,
                          "state": records.get(r.name, {}).get("state"),
                          "metrics": records.get(r.name, {}).get("metrics")} for r in runs},
        "missing": [r.name for r in runs if not records.get(r.name, {}).get("metrics")],
        "metrics": {m: {v: asdict(s) for v, s in by.items()} for m, by in stats.items()},
        "directions": {m: direction(m, directions) for m in stats},
        "table": table,
        "orderings": orderings,
    }


def markdown(rep: dict[str, Any]) -> str:
    """The report as Markdown: "mean ± sd (n)" per metric and variant, the min-max ranges, and
    the verdict of each ordering per metric."""
    variants = list(rep["variants"])
    seeds = " ".join(map(str, rep["seeds"]))
    lines = [f"Seeds {seeds}; each cell: mean ± sample sd (n runs).", ""]
    head = "| metric | better | " + " | ".join(variants) + " |"
    rule = "|---|---|" + "---|" * len(variants)
    cells, ranges = [head, rule], [head, rule]
    for m in rep["table"]:
        by = {v: rep["metrics"][m][v] for v in variants if v in rep["metrics"][m]}
        d = _digits(Summary(**{**s, "values": tuple(s["values"])}) for s in by.values())
        row, rng = [], []
        for v in variants:
            s = by.get(v)
            if s is None:
                row.append("–")
                rng.append("–")
                continue
            sd = "–" if s["sd"] is None else f"{s['sd']:.{d}f}"
            row.append(f"{s['mean']:.{d}f} ± {sd} ({s['n']})")
            rng.append(f"{s['min']:.{d}f}–{s['max']:.{d}f}")
        sense = rep["directions"][m] or "?"
        cells.append(f"| {m} | {sense} | " + " | ".join(row) + " |")
        ranges.append(f"| {m} | {sense} | " + " | ".join(rng) + " |")
    lines += cells + ["", "Min–max over seeds:", ""] + ranges
    if any(m.rsplit(".", 1)[-1] in ("pckh", "pckh_missed", "pckh_posenet") for m in rep["table"]):
        lines += ["", "PCKh: `pckh` is MediaPipe's on enlarged images (the independent detector; "
                      "a person it misses counts with every point wrong, `pckh_missed` counts "
                      "them), `pckh_posenet` the trained pose detector's (the pose loss's)."]
    if rep["orderings"]:
        lines += ["", f"Orderings: {rep['criterion']}", "",
                  "| metric | " + " | ".join(o["ordering"] for o in rep["orderings"]) + " |",
                  "|---|" + "---|" * len(rep["orderings"])]
        for m in rep["table"]:
            d = _digits(Summary(**{**s, "values": tuple(s["values"])})
                        for s in rep["metrics"][m].values())
            out = []
            for o in rep["orderings"]:
                r = o["metrics"][m]
                out.append(r["verdict"] if r["difference"] is None else
                           f"{r['verdict']} (Δ {r['difference']:+.{d}f}, "
                           f"sd sum {r['spread']:.{d}f})")
            lines.append(f"| {m} | " + " | ".join(out) + " |")
    if rep["missing"]:
        lines += ["", f"Missing (no metrics): {', '.join(rep['missing'])} "
                      f"(see `dvc queue status` and `dvc queue logs NAME`)."]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def _dvc_env() -> dict[str, str]:
    """The environment of the dvc calls: this interpreter's bin folder first on PATH. DVC's
    queue starts its workers as the plain command ``dvc`` looked up on PATH; without one there
    the worker never starts and ``dvc exp run --run-all`` waits forever."""
    bin_dir = str(Path(sys.executable).absolute().parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    if shutil.which("dvc", path=env["PATH"]) is None:
        raise AblationError(f"no `dvc` command in {bin_dir} or on PATH: DVC's queue workers "
                            f"need one (pip install dvc)")
    return env


def _dvc(args: list[str], repo: Path, capture: bool = False) -> str:
    """Run ``dvc ARGS`` (this interpreter's DVC) in ``repo``; AblationError on failure."""
    cmd = [sys.executable, "-m", "dvc", *args[1:]] if args[0] == "dvc" else args
    proc = subprocess.run(cmd, cwd=repo, text=True, env=_dvc_env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None)
    if proc.returncode != 0:
        detail = (proc.stderr or "").strip().splitlines()[-1:] if capture else []
        raise AblationError(f"`{shlex.join(args)}` failed (exit {proc.returncode})"
                            + (f": {detail[0]}" if detail else ""))
    return proc.stdout or ""


def exp_show(repo: Path, all_commits: bool = False) -> Any:
    """``dvc exp show --json`` of ``repo`` (``-A``: every commit's experiments), parsed."""
    out = _dvc(["dvc", "exp", "show", "--json", *(["-A"] if all_commits else [])], repo,
               capture=True)
    try:
        return json.loads(out)
    except json.JSONDecodeError as err:
        raise AblationError(f"dvc exp show --json: not JSON ({err})") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/ablation.py",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help=f"comma-separated, of: {', '.join(VARIANTS)}")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS),
                    help="seeds per variant (default: 0 1 2)")
    ap.add_argument("--fixed-semantic", action="store_true",
                    help="vary appearance.seed only (G_S trained once, with params.yaml's "
                         "semantic.seed); default: semantic.seed too where the scheme reads G_S")
    ap.add_argument("--profile", default=None,
                    help="a profile of pipeline/profiles.py, passed as -S to every experiment "
                         "(params.yaml is not rewritten); e.g. ablation")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="an extra -S override for every experiment (repeatable; after the "
                         "profile's)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="experiments run at a time (default 1; with 2, also --set "
                         "appearance.threads=1 --set semantic.threads=1 on 2 cores)")
    ap.add_argument("--prefix", default="", help="prefix of the experiment names")
    ap.add_argument("--replace", action="store_true",
                    help="remove existing experiments of the same names first (dvc exp remove)")
    ap.add_argument("--dry-run", action="store_true", help="print the dvc commands, run nothing")
    ap.add_argument("--collect-only", action="store_true",
                    help="run nothing: read the existing experiments by name")
    ap.add_argument("--all-commits", action="store_true",
                    help="look for the experiments under every commit (dvc exp show -A), "
                         "not only HEAD's")
    ap.add_argument("--metric", action="append", default=None, metavar="PATTERN",
                    help="table metrics, fnmatch on '<metrics file>:<json.path>' (repeatable; "
                         "default: the model's scores of eval/metrics.json and "
                         "eval/appearance/metrics.json with a known direction)")
    ap.add_argument("--json", default=None, help="write the whole report to this file")
    ap.add_argument("--repo", default=str(REPO), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    repo = Path(args.repo)
    try:
        extra = profile_overrides(args.profile, repo / "params.yaml") if args.profile else {}
        extra.update(parse_sets(args.set))
        runs = plan([v for v in args.variants.split(",") if v], args.seeds, extra,
                    vary_semantic=not args.fixed_semantic, prefix=args.prefix)
        if args.jobs < 1:
            raise AblationError(f"--jobs {args.jobs}: at least 1")
        if args.dry_run:
            for run in runs:
                print(shlex.join(queue_command(run)))
            print(shlex.join(run_all_command(args.jobs)))
            return 0
        if not args.collect_only:
            existing = experiment_records(exp_show(repo))
            clash = [r.name for r in runs if r.name in existing]
            if clash and not args.replace:
                raise AblationError(f"experiment(s) {', '.join(clash)} exist already: "
                                    f"--collect-only to report them, --replace to rerun them")
            if clash:
                _dvc(["dvc", "exp", "remove", *clash], repo)
            for run in runs:
                _dvc(queue_command(run), repo)
            _dvc(run_all_command(args.jobs), repo)
        records = experiment_records(exp_show(repo, args.all_commits))
        rep = report(runs, records, args.metric)
        if args.json:
            from pipeline.artifacts.atomic import atomic_write_json
            atomic_write_json(args.json, rep)
        print(markdown(rep))
        if len(rep["missing"]) == len(runs):
            raise AblationError("no experiment of the ablation has metrics")
    except AblationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
