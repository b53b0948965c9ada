"""The four training schemes and the three style losses, each trained on the default data and
scored on the held-out test pairs beside the two references that need no learning.

    python bench/schemes.py                      # all variants, 2 at a time, params.yaml settings
    python bench/schemes.py --variants e2e,baseline --jobs 1 --iterations 300
    python bench/schemes.py --variants e2e --set appearance.upsample=transposed --set loss.pose=0

Each variant runs the train_appearance stage library (`pipeline.training.appearance.stage.run`)
with params.yaml's settings plus its own override, in a scratch root that links this
repository's data/prepared and models/ (run `dvc repro train_posenet train_semantic` first).
Nothing in the repository is written. Prints a Markdown table: SSIM, mask-SSIM and L1 of the
generated test images against the true targets, and of the unchanged source and the part warp
(the same in every row: they do not depend on the variant).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.appearance_schemes import VARIANTS


REPO = Path(__file__).resolve().parents[1]


def _overrides(settings: list[str]) -> dict[str, dict]:
    """``["appearance.lr=1e-4", "loss.pose=0"]`` -> {"appearance": {"lr": "1e-4"}, "loss": {"pose": "0"}}
    (values as YAML scalars; validated with the params)."""
    import yaml
    out: dict[str, dict] = {"appearance": {}, "loss": {}}
    for item in settings:
        key, sep, value = item.partition("=")
        section, _, name = key.partition(".")
        if not sep or section not in out or not name:
            sys.exit(f"--set {item!r}: expected appearance.KEY=VALUE or loss.KEY=VALUE")
        out[section][name] = yaml.safe_load(value)
    return out


def _one(variant: str, root: Path, iterations: int | None, threads: int,
         settings: list[str]) -> dict:
    """Train one variant in ``root`` (a child process: runs of several variants overlap)."""
    from pipeline.artifacts.paths import Paths
    from pipeline.config.params import Params, load_params
    from pipeline.training.appearance.stage import run

    params = load_params(REPO / "params.yaml")
    extra = _overrides(settings)
    data = params.model_dump()
    for section, values in extra.items():
        data[section].update(values)
    params = Params.model_validate(data)
    over = {section: {} for section in ("appearance", "loss")}
    for key, value in VARIANTS[variant].items():
        section, _, name = key.partition(".")
        over[section][name] = value
    train, loss = over["appearance"], over["loss"]
    train = dict(train, **({"iterations": iterations} if iterations else {}))
    if iterations:
        train["joint_iterations"] = min(params.appearance.joint_iterations, iterations // 4)
    params = params.model_copy(update={
        "appearance": params.appearance.model_copy(update=dict(train, device="cpu", threads=threads)),
        "loss": params.loss.model_copy(update=loss)})
    t0 = time.perf_counter()
    summary = run(params, Paths(root), progress=False)
    summary["wall_seconds"] = round(time.perf_counter() - t0, 1)
    return summary


def _scratch(base: Path, variant: str) -> Path:
    """A project root for one variant: the repository's prepared data and pretrained G_S and
    pose detector, linked."""
    from pipeline.artifacts.paths import Paths

    root = base / variant.replace("+", "_")
    repo, scratch = Paths(REPO), Paths(root)
    scratch.prepared.parent.mkdir(parents=True)
    scratch.prepared.symlink_to(repo.prepared)
    scratch.models.mkdir()
    for src, dst in ((repo.semantic_model, scratch.semantic_model),
                     (repo.posenet_model, scratch.posenet_model)):
        if not src.is_file():
            sys.exit(f"{src}: missing; run `dvc repro train_semantic train_posenet` first")
        dst.symlink_to(src)
    return root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help=f"comma-separated, of: {', '.join(VARIANTS)}")
    ap.add_argument("--jobs", type=int, default=2, help="variants trained at the same time")
    ap.add_argument("--iterations", type=int, default=None,
                    help="override appearance.iterations (joint phase: a quarter)")
    ap.add_argument("--threads", type=int, default=1,
                    help="intra-op threads per variant (jobs x threads <= cores)")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="override a train.* or loss.* parameter in every variant (repeatable)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--keep", default=None, metavar="DIR",
                    help="train in DIR/<variant> and keep it (sample grids in "
                         "DIR/<variant>/eval/appearance/samples); default: a deleted scratch "
                         "folder")
    ap.add_argument("--one", nargs=2, metavar=("VARIANT", "ROOT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], Path(args.one[1]), args.iterations, args.threads,
                              args.set)))
        return
    names = [v for v in args.variants.split(",") if v]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variant(s) {unknown}; known: {', '.join(VARIANTS)}")
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="spt-schemes-"))
    if args.keep:
        clash = [v for v in names if (base / v.replace("+", "_")).exists()]
        if clash:
            sys.exit(f"--keep {base}: {', '.join(clash)} already there; choose an empty folder")
    results: dict[str, dict] = {}
    try:
        pending = list(names)
        running: dict[str, subprocess.Popen] = {}
        while pending or running:
            while pending and len(running) < args.jobs:
                v = pending.pop(0)
                cmd = [sys.executable, __file__, "--one", v, str(_scratch(base, v)),
                       "--threads", str(args.threads)]
                cmd += [f"--set={item}" for item in args.set]
                if args.iterations:
                    cmd += ["--iterations", str(args.iterations)]
                running[v] = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
                print(f"started {v}", file=sys.stderr)
            for v, proc in list(running.items()):
                if proc.poll() is not None:
                    out = proc.stdout.read() if proc.stdout else ""
                    if proc.returncode != 0:
                        sys.exit(f"variant {v} failed (exit {proc.returncode})")
                    results[v] = json.loads(out.strip().splitlines()[-1])
                    print(f"finished {v} in {results[v]['wall_seconds']} s", file=sys.stderr)
                    del running[v]
            time.sleep(1.0)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    _table(names, results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, sort_keys=True))


def _table(names: list[str], results: dict[str, dict]) -> None:
    print("| variant | style | steps | SSIM | mask-SSIM | L1 | minutes |")
    print("|---|---|---|---|---|---|---|")
    for v in names:
        r = results[v]
        m = r["test"]["model"]
        print(f"| {v} | {r['style']} | {r['iterations']} | {m['ssim']:.4f} | "
              f"{m['mask_ssim']:.4f} | {m['l1']:.4f} | {r['wall_seconds'] / 60:.1f} |")
    ref = results[names[0]]["test"]
    for k, label in (("source", "source image unchanged"), ("part_warp", "part warp")):
        print(f"| {label} | – | – | {ref[k]['ssim']:.4f} | {ref[k]['mask_ssim']:.4f} | "
              f"{ref[k]['l1']:.4f} | – |")


if __name__ == "__main__":
    main()
