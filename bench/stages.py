"""Throughput of every pipeline stage on a synthetic dataset of a chosen size.

    python bench/stages.py [--identities 500] [--poses 4] [--size 256]

Copies the project's tracked files to a temporary folder, sets the dataset size there, runs
each stage's entry point (``python -m stages.<name>``, process start-up included) in DVC's
order and prints a table of seconds and images per second. Nothing in this checkout changes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from pipeline.artifacts.paths import Paths

REPO = Path(__file__).resolve().parents[1]
STAGES = ("synthesize", "ingest", "pose", "parse", "masks", "search", "search_report")
#: The search stage's console line with its loop's speed (timings are no DVC output).
_PAIRS_PER_SECOND = re.compile(r"search: \d+ pairs in [\d.]+ s \((\d+) pairs/s\)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--identities", type=int, default=500)
    ap.add_argument("--poses", type=int, default=4)
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args()
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    env = dict(os.environ, DVC_NO_ANALYTICS="1",
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rel in files:
            (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, Path(tmp) / rel)
        params = yaml.safe_load((Path(tmp) / "params.yaml").read_text())
        params["data"].update(height=args.size, width=args.size)
        params["data"]["synthetic"].update(identities=args.identities,
                                           poses_per_identity=args.poses)
        (Path(tmp) / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        n = args.identities * args.poses
        for stage in STAGES:
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", f"stages.{stage}"], cwd=tmp, env=env,
                                  capture_output=True, text=True)
            seconds = time.perf_counter() - t
            if proc.returncode:
                sys.exit(f"stage {stage} failed:\n{proc.stderr[-2000:]}")
            rows.append((stage, seconds))
            print(f"{stage}: {seconds:.1f} s", flush=True)
            if stage == "search":
                match = _PAIRS_PER_SECOND.search(proc.stderr)
                loop_pps = float(match.group(1)) if match else float("nan")
        search = json.loads(Paths(Path(tmp)).summary("pseudo").read_text())
    print(f"\n{n} synthetic images at {args.size}x{args.size}, {os.cpu_count()} cores, "
          f"default params otherwise")
    print("| stage | seconds | images/s |\n|---|---|---|")
    for stage, seconds in rows:
        per = (f"{search['sources_searched'] / seconds:,.0f} sources/s "
               f"({loop_pps:,.0f} pairs/s in the search loop)" if stage == "search"
               else f"{search['sources_searched'] / seconds:,.0f} sources/s (oracle renders)"
               if stage == "search_report" else f"{n / seconds:,.0f}")
        print(f"| {stage} | {seconds:.1f} | {per} |")


if __name__ == "__main__":
    main()
