"""Throughput of the semantic network's training step at the default and the paper's settings.

    python bench/train_semantic.py                         # CPU, params.yaml's execution keys
    python bench/train_semantic.py --device cuda --amp bf16 --channels-last --iters 200

Runs the stage's own code (dataset, resumable sampler, DataLoader, SemanticScheme, loop) on
data/prepared (run `dvc repro` first) for each profile of
:data:`pipeline.profiles.PROFILES` (their ``semantic`` section), and prints a Markdown table: iterations/s,
images/s (pairs/s), seconds per step, and the share of step time spent waiting for the next
batch (target: < 10 %). Warm-up steps are not timed. Nothing is written.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from pipeline.artifacts.paths import Paths
from pipeline.config.params import load_params
from pipeline.torch_utils.distributed import init_distributed
from pipeline.torch_utils.misc import set_deterministic
from pipeline.training.loop import LoopConfig, train
from pipeline.profiles import PROFILES
from pipeline.training.semantic.stage import SemanticStage


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_profile(name: str, args: argparse.Namespace) -> dict:
    params = load_params(args.params)
    over = dict(PROFILES[name].get("semantic", {}))
    over.update(device=args.device, amp=args.amp, channels_last=args.channels_last)
    if args.workers is not None:
        over["workers"] = args.workers
    if args.threads is not None:
        over["threads"] = args.threads
    sp = params.semantic.model_copy(update=over)
    torch.set_num_threads(sp.threads)
    dist = init_distributed(sp.device)
    set_deterministic(dist.device.type == "cpu" and args.deterministic)
    params = params.model_copy(update={"semantic": sp})
    stage = SemanticStage()
    tr = stage.build(params, dist, stage.dataset(params, Paths(Path(args.root))))
    iters = args.iters if name == "default" or args.paper_iters is None else args.paper_iters
    warm = LoopConfig(iterations=args.warmup, progress=False, log_every=10 ** 9)
    train(tr.scheme, tr.loader, tr.sampler, warm)
    _sync(dist.device)
    t0 = time.perf_counter()
    res = train(tr.scheme, tr.loader, tr.sampler,
                LoopConfig(iterations=iters, progress=False, log_every=10 ** 9))
    _sync(dist.device)
    wall = time.perf_counter() - t0
    params_g = sum(p.numel() for p in tr.scheme.generator.parameters())
    return {"profile": name, "maps": f"{sp.height}x{sp.width}", "channels": sp.channels,
            "depth": sp.depth, "deformable": sp.deformable_skips, "batch": sp.batch_size,
            "G params (M)": round(params_g / 1e6, 2), "it/s": round(iters / wall, 2),
            "pairs/s": round(iters * sp.batch_size / wall, 1),
            "ms/step": round(1000 * wall / iters, 1),
            "data wait": f"{100 * res.data_seconds / max(res.step_seconds, 1e-9):.1f}%",
            "device": str(dist.device), "amp": sp.amp, "workers": sp.workers,
            "threads": sp.threads}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--amp", default="off", choices=("off", "bf16", "fp16"))
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--iters", type=int, default=40, help="timed steps (default profile)")
    ap.add_argument("--paper-iters", type=int, default=None,
                    help="timed steps of the paper profiles (default: --iters)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers")
    ap.add_argument("--threads", type=int, default=None, help="CPU intra-op threads")
    ap.add_argument("--profiles", default=",".join(PROFILES),
                    help=f"comma-separated, of: {', '.join(PROFILES)}")
    ap.add_argument("--no-deterministic", dest="deterministic", action="store_false",
                    help="CPU: allow non-deterministic kernels (the stage never does)")
    ap.add_argument("--root", default=".", help="project root holding data/prepared")
    ap.add_argument("--params", default="params.yaml")
    args = ap.parse_args()
    rows = [bench_profile(name.strip(), args) for name in args.profiles.split(",")]
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
