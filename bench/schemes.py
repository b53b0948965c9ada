"""The training schemes and the loss ablation (:data:`pipeline.appearance_schemes.VARIANTS`),
each trained on the default data once per seed and scored on the held-out test pairs beside
the two references that need no learning.

    python bench/schemes.py                      # every variant, params.yaml's seed, 2 at a time
    python bench/schemes.py --variants e2e,ts_gt --seeds 0,1,2 --out runs.json
    python bench/schemes.py --variants e2e --preset cpu-paper --seeds 0,1,2   # paper's method
    python bench/schemes.py --variants e2e --set appearance.upsample=transposed --set loss.pose=0
    python bench/schemes.py --variants ts_gt --seeds 0,1 --dry-run     # the runs, nothing trained
    python bench/schemes.py --collect a.json b.json                    # one table of saved runs

Each run trains one variant with one seed (``appearance.seed``; default: params.yaml's) by the
train_appearance stage library (:func:`pipeline.training.appearance.stage.run`) in a child
process, in a scratch root that links this repository's data/prepared and the pretrained G_S,
D_S and pose detector of models/ (run ``dvc repro train_semantic train_posenet`` first).
Nothing in the repository is written. The settings, applied in this order: params.yaml, then
``--preset NAME`` (a profile of :mod:`pipeline.profiles`, its ``appearance`` and ``loss``
sections only: G_S and the pose detector stay the trained ones), then ``--set
appearance.KEY=VALUE`` / ``--set loss.KEY=VALUE``, then the variant's keys, then the seed and
``--iterations`` (the joint phase: a quarter of them at most). ``semantic.*`` and
``posenet.*`` cannot be set: they would need G_S or the pose detector retrained.

Scores of each run, on the test pairs:

- SSIM, mask-SSIM, L1: the train_appearance stage's own test scores (model, unchanged source,
  part warp);
- LPIPS and PCKh: this script loads the run's trained model files
  (:class:`pipeline.inference.trained.TrainedModels`) and generates and scores the test pairs
  with the evaluate stage's own functions (:func:`pipeline.evaluation.stage.score_pairs` on
  its ``_datasets``, FID and IS off): ``lpips`` (:mod:`pipeline.metrics.lpips`), ``pckh`` of the
  independent detector (MediaPipe on images enlarged to ``evaluate.pckh_size``;
  :mod:`pipeline.evaluation.independent_pckh`), the share of people it missed
  (``pckh_missed_share``; each counts with every point wrong) and ``pckh_posenet`` of the
  trained pose detector.

The references (unchanged source, part warp, and MediaPipe on the true target images) do not
depend on the variant: they are reported once per invocation, from the first scored run.
MediaPipe reads each of their images once per invocation (its keypoints are kept by image);
``score_pairs`` scores the references' LPIPS beside every model (about a second), and a
later run whose reference rows differ from the first's is reported on stderr.

``--unpaired N`` adds FID and KID of each model on N unpaired oracle pairs (test people in
poses they never had; :class:`UnpairedFid`; the true images' and the references' features
once per invocation).

Prints, as Markdown: one row per run, the references, mean ± sample sd (n - 1) over the
seeds per variant, then the paper's orderings whose two variants ran (:func:`orderings`, by
``bench/ablation.py``'s rule). ``--out FILE.json`` writes every run (variant, seed, overrides,
metrics, seconds), the references, the summary, the orderings and the settings, rewritten
after every finished run; ``--resume`` continues an invocation from its ``--out`` file (its
finished runs kept, the others run, an interrupted one resuming its training from the last
checkpoint in its ``--keep`` root; settings or a params.yaml other than the file's are
refused); ``--collect`` prints one table of several such files.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:   # run as a script: the pipeline package beside bench/
    sys.path.insert(0, str(REPO))

from pipeline.appearance_schemes import VARIANTS  # noqa: E402

#: The sections --set and --preset may change (the others would need G_S or the pose
#: detector retrained).
SECTIONS = ("appearance", "loss")

#: The table's metrics: (key of a run's metrics, column label, decimals).
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("ssim", "SSIM ↑", 4),
    ("mask_ssim", "mask-SSIM ↑", 4),
    ("l1", "L1 ↓", 4),
    ("lpips", "LPIPS ↓", 4),
    ("pckh", "PCKh MediaPipe ↑", 4),
    ("pckh_missed_share", "missed ↓", 3),
    ("pckh_posenet", "PCKh posenet ↑", 4),
    ("fid", "FID ↓", 1),
    ("kid", "KID ↓", 4),
)

#: The reference rows: (key, label).
REFERENCES: tuple[tuple[str, str], ...] = (
    ("source", "source image unchanged"),
    ("part_warp", "part warp"),
    ("truth", "true target images"),
)


class SchemesError(RuntimeError):
    """A one-line problem of the benchmark (bad option, failed run)."""


# ----------------------------------------------------------------------------- options
def parse_seeds(text: str | None) -> list[int] | None:
    """``"0,1,2"`` -> [0, 1, 2] (None: params.yaml's appearance.seed); SchemesError on a bad,
    negative or repeated seed."""
    if text is None:
        return None
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise SchemesError(f"--seeds {text!r}: expected comma-separated integers, "
                           f"e.g. 0,1,2") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise SchemesError(f"--seeds {text!r}: expected distinct non-negative integers")
    return seeds


def parse_variants(text: str) -> list[str]:
    """``"e2e,ts_gt"`` -> the variants, in that order; SchemesError naming unknown ones."""
    names = [v for v in text.split(",") if v]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or not names:
        raise SchemesError(f"unknown variant(s) {unknown}; known: {', '.join(VARIANTS)}")
    return list(dict.fromkeys(names))


def _scalar(text: str) -> Any:
    """A YAML 1.2 scalar, as DVC writes params.yaml: ``1e-4`` a float, ``off`` a string."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text) if text.strip() else ""


def parse_sets(items: list[str]) -> dict[str, dict[str, Any]]:
    """``["appearance.lr=1e-4", "loss.pose=0"]`` -> {"appearance": {"lr": 1e-4}, "loss":
    {"pose": 0}} (values read as YAML 1.2 scalars; validated with the params)."""
    out: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for item in items:
        key, sep, value = item.partition("=")
        section, _, name = key.partition(".")
        if not sep or section not in out or not name or "." in name:
            raise SchemesError(f"--set {item!r}: expected appearance.KEY=VALUE or "
                               f"loss.KEY=VALUE (semantic.* and posenet.* would need G_S or "
                               f"the pose detector retrained)")
        out[section][name] = _scalar(value)
    return out


def preset_overrides(name: str | None) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Profile ``name`` of :mod:`pipeline.profiles`: ({"appearance": {...}, "loss": {...}},
    the other sections it sets, which are left out); SchemesError for an unknown one."""
    out: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    if not name:
        return out, []
    from pipeline.profiles import profile
    try:
        sections = profile(name)
    except KeyError as err:
        raise SchemesError(f"--preset: {err.args[0]}") from None
    for section in SECTIONS:
        out[section].update(sections.get(section, {}))
    return out, [s for s in sections if s not in SECTIONS]


def variant_values(variant: str) -> dict[str, dict[str, Any]]:
    """The variant's keys by section, typed (VARIANTS writes them as for ``-S``: "false" is a
    bool)."""
    out: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for key, value in VARIANTS[variant].items():
        section, _, name = key.partition(".")
        out[section][name] = _scalar(value)
    return out


def configure(params_file: Path, variant: str, seed: int | None, preset: str | None = None,
              sets: list[str] | None = None, iterations: int | None = None,
              threads: int = 1) -> tuple[Any, dict[str, Any]]:
    """(the validated Params of one run, the dotted keys it changes from ``params_file``, in
    the order applied): preset, --set, variant, seed and iterations (module docstring); the
    training runs on the CPU with ``threads``. ParamsError names a bad value."""
    from pipeline.config.params import load_params, validate

    base = load_params(params_file)
    data = base.model_dump(mode="json")
    changes: dict[str, Any] = {}
    layers = [preset_overrides(preset)[0], parse_sets(list(sets or [])),
              variant_values(variant)]
    ap = data["appearance"]
    tail: dict[str, Any] = {}
    if seed is not None:
        tail["seed"] = seed
    if iterations:
        tail["iterations"] = iterations
        tail["joint_iterations"] = min(ap["joint_iterations"], iterations // 4)
    layers.append({"appearance": tail, "loss": {}})
    for layer in layers:
        for section, values in layer.items():
            for key, value in values.items():
                data[section][key] = value
                changes[f"{section}.{key}"] = value
    data["appearance"].update(device="cpu", threads=threads)
    params = validate(data, params_file)
    return params, changes


def seeds_of(params_file: Path, seeds: list[int] | None) -> list[int]:
    """The seeds to run: ``seeds``, or params.yaml's appearance.seed."""
    if seeds is not None:
        return seeds
    from pipeline.config.params import load_params
    return [load_params(params_file).appearance.seed]


# ----------------------------------------------------------------------------- training
def train_one(repo: Path, variant: str, seed: int | None, root: Path, iterations: int | None,
              threads: int, sets: list[str], preset: str | None) -> dict[str, Any]:
    """Train one run in ``root`` (a child process: several runs overlap); the stage's
    summary with ``wall_seconds``."""
    from pipeline.artifacts.paths import Paths
    from pipeline.training.appearance.stage import run

    params, _ = configure(repo / "params.yaml", variant, seed, preset, sets, iterations,
                          threads)
    t0 = time.perf_counter()
    summary = run(params, Paths(root), progress=False)
    summary["wall_seconds"] = round(time.perf_counter() - t0, 1)
    return summary


def run_name(variant: str, seed: int) -> str:
    """The run's folder name: ``<variant>-s<seed>``."""
    return f"{variant.replace('+', '_')}-s{seed}"


def check_inputs(repo: Path) -> None:
    """SchemesError naming what is missing of ``repo``'s prepared data and pretrained models."""
    from pipeline.artifacts.paths import Paths

    paths = Paths(repo)
    if not paths.artifact("pseudo").is_file():
        raise SchemesError(f"{paths.prepared}: no prepared data; run `dvc repro search` first")
    for f in (paths.semantic_model, paths.posenet_model):
        if not f.is_file():
            raise SchemesError(f"{f}: missing; run `dvc repro train_semantic train_posenet` "
                               f"first")


def scratch(base: Path, repo: Path, name: str, reuse: bool = False) -> Path:
    """A project root for one run: ``repo``'s prepared data and pretrained G_S (and D_S,
    where there) and pose detector, linked. reuse: a root of that name left by an earlier
    invocation is kept as it is (its training resumes from its last checkpoint)."""
    from pipeline.artifacts.paths import Paths

    check_inputs(repo)
    root = base / name
    if reuse and root.is_dir():
        return root
    src, dst = Paths(repo), Paths(root)
    dst.prepared.parent.mkdir(parents=True)
    dst.prepared.symlink_to(src.prepared.resolve())
    dst.models.mkdir()
    for a, b in ((src.semantic_model, dst.semantic_model),
                 (src.posenet_model, dst.posenet_model)):
        b.symlink_to(a.resolve())
    disc = getattr(src, "semantic_discriminator", None)
    if disc is not None and disc.is_file():     # e2e's joint phase trains D_S on
        Path(dst.semantic_discriminator).symlink_to(disc.resolve())
    return root


# ----------------------------------------------------------------------------- scoring
class _MemoDetector:
    """Wraps an :class:`~pipeline.evaluation.independent_pckh.IndependentDetector`: keypoints
    kept per image (by its bytes), so the references' and true targets' images, the same in
    every run, are read by MediaPipe once per invocation. MediaPipe reads one image at a time
    in static mode, so a kept result is the one it would give again."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.memo: dict[bytes, tuple[np.ndarray, bool]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.detector, name)

    def keypoints(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        images = np.asarray(images)
        if len(images) == 0:
            return self.detector.keypoints(images)
        keys = [hashlib.sha1(repr(im.shape).encode() + im.tobytes()).digest() for im in images]
        todo = [i for i, k in enumerate(keys) if k not in self.memo]
        if todo:
            found = self.detector.keypoints(images[todo])
            if found is None:
                return None
            for i, kp, person in zip(todo, *found):
                self.memo[keys[i]] = (kp, bool(person))
        return (np.stack([self.memo[k][0] for k in keys]).astype(np.float32),
                np.asarray([self.memo[k][1] for k in keys], bool))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) else None


def _pckh_fields(r: dict[str, Any]) -> dict[str, Any]:
    """The PCKh fields of one system's evaluate result: pckh (None when not computed, with
    ``pckh_reason``), pckh_missed, pckh_images, pckh_missed_share, pckh_posenet."""
    out: dict[str, Any] = {}
    if isinstance(r.get("pckh"), dict):           # MediaPipe missing: not computed
        out["pckh"] = None
        out["pckh_reason"] = r["pckh"].get("reason")
    elif "pckh" in r:
        out["pckh"] = _number(r["pckh"])
    for k in ("pckh_missed", "pckh_images"):
        if k in r:
            out[k] = r[k]
    if r.get("pckh_images"):
        out["pckh_missed_share"] = round(r["pckh_missed"] / r["pckh_images"], 4)
    if "pckh_posenet" in r:
        out["pckh_posenet"] = _number(r["pckh_posenet"])
    return out


class Scorer:
    """LPIPS and PCKh of a run's trained models on the test pairs, by the evaluate stage's
    functions; one MediaPipe graph and one pose detector for the whole invocation."""

    def __init__(self, params: Any, repo: Path, threads: int = 1) -> None:
        from pipeline.artifacts.paths import Paths
        from pipeline.evaluation.independent_pckh import IndependentDetector
        from pipeline.inference.pose_detector import PoseDetector

        self.threads = threads
        # FID and IS off (Inception passes), the rest as the evaluate stage has it
        self.ev = params.evaluate.model_copy(update={"device": "cpu", "amp": "off",
                                                    "fid": False, "inception_logits": "",
                                                    "threads": threads})
        self.params = params
        self.detector = PoseDetector.load(Paths(repo).posenet_model,
                                          params.posenet.peak_threshold, "cpu")
        self.independent = _MemoDetector(IndependentDetector(self.ev.pckh_size))

    def score(self, root: Path) -> dict[str, Any]:
        """{"model", "source", "part_warp": {lpips, pckh, ...}, "truth": {pckh, ...},
        "pairs", "settings"} of the models in ``root``."""
        import torch

        from pipeline.artifacts.paths import Paths

        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return self._score(Paths(root))
        finally:
            torch.set_num_threads(before)

    def _score(self, paths: Any) -> dict[str, Any]:
        from pipeline.artifacts.reader import Artifact
        from pipeline.evaluation.frame import native_frame
        from pipeline.evaluation.independent_pckh import TRUTH_KEY
        from pipeline.evaluation.stage import TRUE_PARSING_BACKENDS, _datasets, score_pairs
        from pipeline.inference.trained import TrainedModels

        models = TrainedModels.load(paths, "cpu", "off")
        dataset = _datasets(self.params, paths, models)
        pairs = dataset.images.pairs
        frame = native_frame(Artifact(paths.artifact("images")), pairs[:, 1], models.image_hw)
        systems = score_pairs(models, dataset, self.ev, "cpu", self.detector,
                              self.params.parse.backend in TRUE_PARSING_BACKENDS,
                              fid=False, progress=False, independent=self.independent,
                              crop=frame.box if frame else None)
        result = systems.result()
        out: dict[str, Any] = {}
        for name in ("model", "source", "part_warp"):
            r = result[name]
            out[name] = {"lpips": _number(r.get("lpips")), **_pckh_fields(r)}
        out["truth"] = _pckh_fields(result.get(TRUTH_KEY, {}))
        if "maps" in result:
            out["maps"] = result["maps"].get("model")
        out["pairs"] = result["pairs"]
        out["settings"] = {"pckh": self.independent.settings(), "lpips": "pipeline.metrics."
                           "lpips (evaluate.lpips)" if self.ev.lpips else "off"}
        return out

    def close(self) -> None:
        self.independent.close()


class UnpairedFid:
    """FID and KID of a run's model on ``count`` unpaired oracle pairs (test people in poses
    they never had; :func:`pipeline.evaluation.unpaired.draw_unpaired` with
    ``evaluate.seed``, as the evaluate stage draws them), by the evaluate stage's accumulator
    (:class:`pipeline.metrics.fid.FrechetInceptionDistance`: same pinned Inception, FID and
    KID from the same features).

    The true images and the two references (unchanged source, part warp) do not depend on the
    run: their Inception features, and the references' FID and KID, are computed once per
    invocation and image size, so each run costs ``count`` Inception passes (the evaluate
    stage, which scores the references too, makes four per pair). The pairs are drawn when
    the object is built, so data without an oracle or with too few pairs stops the
    invocation before anything trains (SchemesError)."""

    def __init__(self, params: Any, repo: Path, count: int, threads: int = 1) -> None:
        from pipeline.artifacts.paths import Paths
        from pipeline.artifacts.reader import Artifact
        from pipeline.evaluation.unpaired import draw_unpaired
        from pipeline.metrics.fid import FrechetInceptionDistance

        if params.data.source != "synthetic":
            raise SchemesError(f"--unpaired: data.source = {params.data.source!r}; only the "
                               f"synthetic data has an oracle that renders the unpaired truth")
        self.params, self.count, self.threads = params, int(count), threads
        self.data = Paths(repo)          # the prepared data and the oracle's truth.h5
        art = Artifact(self.data.artifact("images"))
        self.draw = draw_unpaired(art["person_id"][:], art["split"][:], self.count,
                                  params.evaluate.seed)
        if len(self.draw) < 2:
            raise SchemesError(f"--unpaired {self.count}: only {len(self.draw)} unpaired "
                               f"pairs exist in this data (at least 2 needed)")
        self.fid = FrechetInceptionDistance(device="cpu",
                                            batch_size=params.evaluate.batch_size)
        #: per image size: the truth's features, and the references' results
        self._fixed: dict[tuple[int, ...], tuple[np.ndarray, dict[str, Any]]] = {}

    def _result(self, pred: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
        self.fid.pred_features, self.fid.true_features = [pred], [truth]
        r = self.fid.result()
        return {"fid": r["fid"], "kid": r["kid"], "kid_sd": r["kid_sd"],
                "settings": r["settings"]}

    def score(self, root: Path) -> dict[str, Any]:
        """{"model", "source", "part_warp": {"fid", "kid", "kid_sd"}, "images", "settings"}
        for the models in ``root``."""
        import torch

        from pipeline.artifacts.paths import Paths
        from pipeline.evaluation.references import IMAGE_REFERENCES
        from pipeline.evaluation.scoring import batches
        from pipeline.evaluation.stage import _datasets
        from pipeline.inference.trained import TrainedModels
        from pipeline.metrics.images import to_uint8

        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            models = TrainedModels.load(Paths(root), "cpu", "off")
            key = tuple(models.image_hw)
            fixed = self._fixed.get(key)
            dataset = _datasets(self.params, self.data, models, self.draw)
            images: dict[str, list[np.ndarray]] = {"model": []}
            if fixed is None:
                images.update({k: [] for k in ("truth", *IMAGE_REFERENCES)})
            with torch.no_grad():
                for _, batch in batches(dataset, self.params.evaluate.batch_size):
                    images["model"].append(to_uint8(models.render(batch).fake_t))
                    if fixed is None:
                        images["truth"].append(to_uint8(batch["tgt_image"]))
                        for k, ref in IMAGE_REFERENCES.items():
                            images[k].append(to_uint8(ref(batch)))
            feats = {k: self.fid.inception(np.concatenate(v)) for k, v in images.items()}
            if fixed is None:
                truth = feats["truth"]
                fixed = self._fixed[key] = (truth, {k: self._result(feats[k], truth)
                                                    for k in IMAGE_REFERENCES})
            truth, references = fixed
            model = self._result(feats["model"], truth)
            settings = model.pop("settings")
            return {"model": model, **{k: {m: v for m, v in r.items() if m != "settings"}
                                       for k, r in references.items()},
                    "images": len(self.draw), "settings": settings}
        finally:
            torch.set_num_threads(before)


def run_record(variant: str, seed: int, overrides: dict[str, Any], summary: dict[str, Any],
               scores: dict[str, Any] | None, score_seconds: float | None,
               unpaired: dict[str, Any] | None = None) -> dict[str, Any]:
    """One run of --out: variant, seed, overrides, the model's metrics (with ``unpaired``:
    FID and KID on the unpaired set, and its size as ``unpaired_images``) and seconds."""
    test = summary.get("test", {})
    metrics = dict(test.get("model", {}))
    if scores is not None:
        metrics.update(scores["model"])
        if scores.get("maps"):
            metrics["maps"] = scores["maps"]
    if unpaired is not None:
        metrics.update(unpaired["model"], unpaired_images=unpaired["images"])
    return {"variant": variant, "seed": seed, "style": summary.get("style"),
            "iterations": summary.get("iterations"), "overrides": overrides,
            "metrics": metrics,
            "seconds": {"train": summary.get("seconds", {}).get("train"),
                        "wall": summary.get("wall_seconds"), "score": score_seconds}}


def references_of(summary: dict[str, Any], scores: dict[str, Any] | None,
                  unpaired: dict[str, Any] | None = None) -> dict[str, Any]:
    """The reference rows: the training stage's SSIM, mask-SSIM, L1 of the source and the part
    warp, with the scored LPIPS and PCKh (and FID, KID on the unpaired set); and MediaPipe's
    PCKh of the true target images."""
    test = summary.get("test", {})
    out: dict[str, Any] = {}
    for name in ("source", "part_warp"):
        out[name] = dict(test.get(name, {}))
        if scores is not None:
            out[name].update(scores[name])
        if unpaired is not None:
            out[name].update(unpaired[name])
    if scores is not None:
        out["truth"] = dict(scores["truth"])
    return out


# ----------------------------------------------------------------------------- statistics
def mean_sd(values: list[float]) -> tuple[float, float | None, int]:
    """(mean, sample sd (n - 1; None for one value), n) of ``values`` (at least one)."""
    n = len(values)
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return mean, sd, n


def summarize_runs(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """{variant: {metric: {"mean", "sd", "n", "values"}}} over the seeds of each variant, for
    the table's metrics (a value that is not a number, e.g. PCKh not computed, is left out)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for variant in dict.fromkeys(r["variant"] for r in runs):
        mine = [r for r in runs if r["variant"] == variant]
        out[variant] = {}
        for key, _, _ in COLUMNS:
            vals = [v for v in (_number(r["metrics"].get(key)) for r in mine) if v is not None]
            if vals:
                mean, sd, n = mean_sd(vals)
                out[variant][key] = {"mean": mean, "sd": sd, "n": n, "values": vals}
    return out


def orderings(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paper's orderings (:data:`bench.ablation.ORDERINGS`) whose two variants are among
    ``runs``, each judged per table metric by :data:`bench.ablation.CRITERION`:
    [{"ordering", "better", "worse", "claimed", "metrics": {key: {"verdict", "difference",
    "spread"}}}]."""
    from bench.ablation import DIRECTIONS, ORDERINGS, comparison, summarize

    stats = summarize_runs(runs)
    out = []
    for label, a, b, claimed in ORDERINGS:
        if a not in stats or b not in stats:
            continue
        verdicts = {}
        for key, _, _ in COLUMNS:
            if key in stats[a] and key in stats[b]:
                verdicts[key] = comparison(summarize(stats[a][key]["values"]),
                                           summarize(stats[b][key]["values"]),
                                           DIRECTIONS.get(key), claimed, a, b)
        out.append({"ordering": label, "better": a, "worse": b, "claimed": claimed,
                    "metrics": verdicts})
    return out


# ----------------------------------------------------------------------------- report
def _cell(value: Any, digits: int) -> str:
    v = _number(value)
    return "–" if v is None else f"{v:.{digits}f}"


def markdown(runs: list[dict[str, Any]], references: dict[str, Any]) -> str:
    """The runs, the references and mean ± sd per variant, as Markdown tables."""
    heads = " | ".join(label for _, label, _ in COLUMNS)
    lines = [f"| variant | seed | style | steps | {heads} | minutes |",
             "|---|---|---|---|" + "---|" * len(COLUMNS) + "---|"]
    for r in runs:
        cells = " | ".join(_cell(r["metrics"].get(k), d) for k, _, d in COLUMNS)
        wall = _number(r["seconds"].get("wall"))
        minutes = "–" if wall is None else f"{wall / 60:.1f}"
        lines.append(f"| {r['variant']} | {r['seed']} | {r.get('style') or '–'} | "
                     f"{r.get('iterations') or '–'} | {cells} | {minutes} |")
    for key, label in REFERENCES:
        if key in references:
            cells = " | ".join(_cell(references[key].get(k), d) for k, _, d in COLUMNS)
            lines.append(f"| {label} | – | – | – | {cells} | – |")
    reason = next((references[k].get("pckh_reason") for k in ("source", "truth")
                   if references.get(k, {}).get("pckh_reason")), None)
    if reason:
        lines += ["", f"PCKh of MediaPipe not computed: {reason}"]
    stats = summarize_runs(runs)
    lines += ["", "Mean ± sample sd (n - 1) over seeds (n runs):", "",
              f"| variant | seeds | {heads} |", "|---|---|" + "---|" * len(COLUMNS)]
    for variant, by in stats.items():
        seeds = ", ".join(str(r["seed"]) for r in runs if r["variant"] == variant)
        cells = []
        for key, _, d in COLUMNS:
            s = by.get(key)
            if s is None:
                cells.append("–")
            else:
                sd = "–" if s["sd"] is None else f"{s['sd']:.{d}f}"
                cells.append(f"{s['mean']:.{d}f} ± {sd} ({s['n']})")
        lines.append(f"| {variant} | {seeds} | " + " | ".join(cells) + " |")
    judged = orderings(runs)
    if judged:
        from bench.ablation import CRITERION
        shown = [(k, label, d) for k, label, d in COLUMNS
                 if any(k in o["metrics"] for o in judged)]
        lines += ["", "The paper's orderings (Δ: the first variant's advantage in the metric's "
                      "better direction; sd sum: the two sample sds):", "",
                  "| ordering | " + " | ".join(label for _, label, _ in shown) + " |",
                  "|---|" + "---|" * len(shown)]
        for o in judged:
            cells = []
            for key, _, d in shown:
                v = o["metrics"].get(key)
                if v is None:
                    cells.append("–")
                elif v["difference"] is None:
                    cells.append(v["verdict"])
                else:
                    cells.append(f"{v['verdict']} (Δ {v['difference']:+.{d}f}, sd sum "
                                 f"{v['spread']:.{d}f})")
            lines.append(f"| {o['ordering']} ({o['better']} vs {o['worse']}) | "
                         + " | ".join(cells) + " |")
        lines += ["", f"Rule: {CRITERION}"]
    lines += ["", "PCKh MediaPipe: the independent detector on images enlarged to "
                  "evaluate.pckh_size (a person it misses counts with every point wrong; "
                  "missed: the share of such people); PCKh posenet: the trained pose detector "
                  "(the pose loss's)."]
    sizes = sorted({r["metrics"]["unpaired_images"] for r in runs
                    if r["metrics"].get("unpaired_images")})
    if sizes:
        lines += ["", f"FID, KID: the model's images of {', '.join(map(str, sizes))} unpaired "
                      "oracle pairs (test people in poses they never had) against their true "
                      "images; the other columns: the paired test pairs."]
    return "\n".join(lines)


def _differs(a: dict[str, Any], b: dict[str, Any], tol: float = 1e-6) -> list[str]:
    """Keys of two reference rows whose numbers differ."""
    out = []
    for key in sorted(set(a) | set(b)):
        x, y = _number(a.get(key)), _number(b.get(key))
        if (x is None) != (y is None) or (x is not None and y is not None and abs(x - y) > tol):
            out.append(key)
    return out


def read_out(path: str, option: str) -> dict[str, Any]:
    """The content of a --out file; SchemesError naming ``option`` and the file when it
    cannot be read or is not such a file."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SchemesError(f"{option} {path}: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise SchemesError(f"{option} {path}: not a file of `bench/schemes.py --out`")
    return doc


def collect(files: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The runs of several --out files (in file order) and the first file's references."""
    runs: list[dict[str, Any]] = []
    references: dict[str, Any] = {}
    for f in files:
        doc = read_out(f, "--collect")
        runs += doc["runs"]
        references = references or doc.get("references") or {}
    return runs, references


# ----------------------------------------------------------------------------- main
def _child_command(repo: Path, variant: str, seed: int | None, root: Path,
                   args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", variant, str(root),
           "--repo", str(repo), "--threads", str(args.threads)]
    if seed is not None:
        cmd += ["--one-seed", str(seed)]
    cmd += [f"--set={item}" for item in args.set]
    if args.preset:
        cmd += ["--preset", args.preset]
    if args.iterations:
        cmd += ["--iterations", str(args.iterations)]
    return cmd


def main(argv: list[str] | None = None) -> int:
    from pipeline.config.base import ParamsError

    ap = argparse.ArgumentParser(prog="python bench/schemes.py",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help=f"comma-separated, of: {', '.join(VARIANTS)}")
    ap.add_argument("--seeds", default=None, metavar="S,S,...",
                    help="appearance.seed values; each variant runs once per seed (default: "
                         "params.yaml's appearance.seed only)")
    ap.add_argument("--preset", default=None, metavar="PROFILE",
                    help="a profile of pipeline/profiles.py, its appearance and loss sections "
                         "only (e.g. cpu-paper: the paper's method at the default sizes)")
    ap.add_argument("--jobs", type=int, default=2, help="runs trained at the same time")
    ap.add_argument("--iterations", type=int, default=None,
                    help="override appearance.iterations (joint phase: a quarter)")
    ap.add_argument("--threads", type=int, default=1,
                    help="intra-op threads per run (jobs x threads <= cores)")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="override an appearance.* or loss.* parameter in every run "
                         "(repeatable; after the preset, before the variant)")
    ap.add_argument("--out", "--json", dest="out", default=None, metavar="FILE.json",
                    help="write every run (variant, seed, overrides, metrics, seconds) and the "
                         "references to this file")
    ap.add_argument("--unpaired", type=int, default=0, metavar="N",
                    help="also FID and KID of each model on N unpaired oracle pairs (test "
                         "people in poses they never had; 0 = off)")
    ap.add_argument("--resume", action="store_true",
                    help="continue an invocation with the same --out (and --keep): its "
                         "finished runs are kept, the others run (resuming a run's training "
                         "from its last checkpoint in --keep)")
    ap.add_argument("--no-score", action="store_true",
                    help="skip LPIPS and PCKh (the training stage's SSIM, mask-SSIM, L1 only; "
                         "not with --unpaired)")
    ap.add_argument("--keep", default=None, metavar="DIR",
                    help="train in DIR/<variant>-s<seed> and keep it (sample grids in "
                         "eval/appearance/samples there); default: a deleted scratch folder")
    ap.add_argument("--dry-run", action="store_true",
                    help="print each run's overrides (validated), train nothing")
    ap.add_argument("--collect", nargs="+", default=None, metavar="FILE.json",
                    help="train nothing: print one table of the runs of these --out files")
    ap.add_argument("--repo", default=str(REPO), help=argparse.SUPPRESS)
    ap.add_argument("--one", nargs=2, metavar=("VARIANT", "ROOT"), help=argparse.SUPPRESS)
    ap.add_argument("--one-seed", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    repo = Path(args.repo)
    if args.one:
        print(json.dumps(train_one(repo, args.one[0], args.one_seed, Path(args.one[1]),
                                   args.iterations, args.threads, args.set, args.preset)))
        return 0
    try:
        if args.collect:
            runs, references = collect(args.collect)
            print(markdown(runs, references))
            return 0
        return _main(args, repo)
    except (SchemesError, ParamsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def _main(args: argparse.Namespace, repo: Path) -> int:
    from pipeline.config.base import ParamsError

    names = parse_variants(args.variants)
    if args.jobs < 1 or args.threads < 1:
        raise SchemesError("--jobs and --threads: at least 1")
    params_file = repo / "params.yaml"
    seeds = parse_seeds(args.seeds)
    set_seed = parse_sets(args.set)["appearance"].get("seed")
    if set_seed is not None:          # --set appearance.seed=S: the one seed (as --seeds S)
        if seeds is not None:
            raise SchemesError("--set appearance.seed and --seeds: give the seeds with --seeds")
        seeds = parse_seeds(str(set_seed))
    seeds = seeds_of(params_file, seeds)
    _, ignored = preset_overrides(args.preset)
    if ignored:
        print(f"--preset {args.preset}: applied to {', '.join(SECTIONS)} only; left out: "
              f"{', '.join(ignored)}", file=sys.stderr)
    plan: list[tuple[str, int, dict[str, Any]]] = []
    first_params = None
    for seed in seeds:
        for v in names:
            try:
                params, over = configure(params_file, v, seed, args.preset, args.set,
                                         args.iterations, args.threads)
            except ParamsError as err:
                raise SchemesError(str(err)) from None
            first_params = first_params or params
            plan.append((v, seed, over))
    if args.dry_run:
        for v, seed, over in plan:
            print(f"{run_name(v, seed)}: " + " ".join(f"{k}={json.dumps(x)}"
                                                      for k, x in over.items()))
        return 0
    if args.unpaired < 0:
        raise SchemesError("--unpaired: a count of pairs, 0 = off")
    if args.unpaired and args.no_score:
        raise SchemesError("--unpaired scores the models: it cannot go with --no-score")
    from pipeline.models.vgg import file_sha256

    runs: list[dict[str, Any]] = []
    references: dict[str, Any] = {}
    settings = {"variants": names, "seeds": seeds, "preset": args.preset, "set": args.set,
                "iterations": args.iterations, "scored": not args.no_score,
                "unpaired": args.unpaired, "params_sha256": file_sha256(params_file)}
    continuing = False
    if args.resume:
        runs, references, settings, continuing = resumed(args.out, settings)
        done = {(r["variant"], r["seed"]) for r in runs}
        plan = [p for p in plan if (p[0], p[1]) not in done]
        print(f"--resume {args.out}: {len(done)} runs kept, {len(plan)} to run",
              file=sys.stderr)
        if not plan:
            write_out(args.out, runs, references, settings)
            print(markdown(runs, references))
            return 0
    if args.keep and not continuing:       # a root left there belongs to no run of this file
        clash = [run_name(v, s) for v, s, _ in plan if (Path(args.keep) / run_name(v, s)).exists()]
        if clash:
            raise SchemesError(f"--keep {args.keep}: {', '.join(clash)} already there; choose "
                               f"an empty folder")
    check_inputs(repo)
    scorer = None if args.no_score else Scorer(first_params, repo, args.threads)
    unpaired = (UnpairedFid(first_params, repo, args.unpaired, args.threads)
                if args.unpaired else None)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="spt-schemes-"))
    settings["pckh"] = scorer.independent.settings() if scorer else None
    pending = list(plan)
    running: dict[str, tuple[str, int, dict[str, Any], subprocess.Popen, Path]] = {}

    def start() -> None:
        while pending and len(running) < args.jobs:
            v, seed, over = pending.pop(0)
            name = run_name(v, seed)
            root = scratch(base, repo, name, reuse=continuing)
            # the child's stdout to a file: a pipe read only at its end could fill and block it
            with open(root / "summary.json.out", "w") as log:
                proc = subprocess.Popen(_child_command(repo, v, seed, root, args), stdout=log,
                                        text=True)
            running[name] = (v, seed, over, proc, root)
            print(f"started {name}", file=sys.stderr)

    try:
        while pending or running:
            start()
            finished = []
            for name in [n for n, item in running.items() if item[3].poll() is not None]:
                v, seed, over, proc, root = running.pop(name)
                out = (root / "summary.json.out").read_text()
                if proc.returncode != 0:
                    raise SchemesError(f"run {name} failed (exit {proc.returncode})")
                finished.append((name, v, seed, over, root,
                                 json.loads(out.strip().splitlines()[-1])))
            start()                      # the next runs train while these are scored
            for name, v, seed, over, root, summary in finished:
                scores, secs, far = None, None, None
                if scorer is not None:
                    t0 = time.perf_counter()
                    scores = scorer.score(root)
                    far = unpaired.score(root) if unpaired is not None else None
                    secs = round(time.perf_counter() - t0, 1)
                record = run_record(v, seed, over, summary, scores, secs, far)
                refs = references_of(summary, scores, far)
                if not references:
                    references = refs
                for key in refs:
                    diff = _differs(references.get(key, {}), refs[key])
                    if diff:
                        print(f"warning: {name}: reference {key} differs from the first "
                              f"run's on {', '.join(diff)}", file=sys.stderr)
                runs.append(record)
                m = record["metrics"]
                print(f"finished {name} in {summary['wall_seconds']} s (+ {secs} s scoring): "
                      f"SSIM {m.get('ssim')} LPIPS {m.get('lpips')} PCKh {m.get('pckh')}"
                      + (f" FID {m.get('fid')} KID {m.get('kid')}" if far else ""),
                      file=sys.stderr)
                if args.out:             # every finished run is kept, should a later one fail
                    write_out(args.out, runs, references, settings)
            if not finished:
                time.sleep(1.0)
    finally:
        for item in running.values():
            item[3].kill()
        if scorer is not None:
            scorer.close()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    order_v = {v: i for i, v in enumerate(settings["variants"])}
    runs.sort(key=lambda r: (order_v.get(r["variant"], len(order_v)), r["seed"]))
    if args.out:
        write_out(args.out, runs, references, settings)
    print(markdown(runs, references))
    return 0


#: The settings an invocation resumed with --resume must share with the file's (and their
#: values in a file written before the key existed).
RESUME_KEYS: dict[str, Any] = {"preset": None, "set": [], "iterations": None, "scored": True,
                               "unpaired": 0, "params_sha256": None}


def resumed(path: str | None, settings: dict[str, Any]
            ) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any], bool]:
    """--resume: the runs, references and settings of the --out file ``path``, its variants
    and seeds joined with those of ``settings``, and True; with no such file yet: no runs,
    ``settings`` and False. SchemesError when a key of :data:`RESUME_KEYS` differs (its runs
    were made otherwise; ``set`` compared as a set of items, ``params_sha256`` is the digest
    of params.yaml, so a changed base configuration is refused too)."""
    if not path:
        raise SchemesError("--resume needs --out (the file of the runs to continue)")
    if not Path(path).exists():
        return [], {}, settings, False
    doc = read_out(path, "--resume")
    old = doc.get("settings") or {}

    def same(key: str) -> bool:
        a, b = old.get(key, RESUME_KEYS[key]), settings.get(key)
        if key == "set":
            return sorted(a or []) == sorted(b or [])
        if key == "params_sha256" and a is None:       # a file from before the digest
            return True
        return a == b

    differ = [k for k in RESUME_KEYS if not same(k)]
    if differ:
        raise SchemesError(f"--resume {path}: its runs were made with other settings: "
                           + ", ".join(f"{k} {old.get(k, RESUME_KEYS[k])!r} (now "
                                       f"{settings.get(k)!r})" for k in differ))
    joined = dict(settings)
    joined["variants"] = list(dict.fromkeys([*old.get("variants", []),
                                             *settings["variants"]]))
    joined["seeds"] = list(dict.fromkeys([*old.get("seeds", []), *settings["seeds"]]))
    return doc["runs"], doc.get("references") or {}, joined, True


def write_out(path: str, runs: list[dict[str, Any]], references: dict[str, Any],
              settings: dict[str, Any]) -> None:
    """--out: the runs so far, the references, mean ± sd per variant, the orderings and the
    settings (atomic: an interrupted write leaves the previous file)."""
    from pipeline.artifacts.atomic import atomic_write_json
    atomic_write_json(path, {"runs": runs, "references": references,
                             "summary": summarize_runs(runs), "orderings": orderings(runs),
                             "settings": settings})


if __name__ == "__main__":
    sys.exit(main())
