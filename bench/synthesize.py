"""Speed of the synthetic people generator: images per second on one core, no I/O.

    python bench/synthesize.py [--n 200] [--real-fraction 0.5]

Runs plain sequential generation (pipeline.synthetic.generate, n_jobs=1, OpenCV limited to
one thread) for the two size profiles and prints a table. The first identity is generated
once beforehand so that imports and the real-pose file parsing are not timed.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

import cv2

from pipeline.config.data import SyntheticParams
from pipeline.synthetic.dataset import generate

POSES_PER_IDENTITY = 4
#: (profile, height, width, real pose file, its frame height, width)
PROFILES = (
    ("DeepFashion-like", 256, 256, "data/annotations/fasion-annotation-sample.csv", 256, 256),
    ("Market-1501-like", 128, 64, "data/annotations/market-annotation-sample.csv", 128, 64),
)


def bench(n: int, real_fraction: float) -> list[tuple[str, str, int, float, float]]:
    rows = []
    for name, h, w, real, rh, rw in PROFILES:
        params = SyntheticParams(seed=0, identities=max(2, n // POSES_PER_IDENTITY),
                                 poses_per_identity=POSES_PER_IDENTITY,
                                 real_pose_fraction=real_fraction, real_poses=str(REPO / real),
                                 real_poses_height=rh, real_poses_width=rw)
        generate(params.model_copy(update={"identities": 2}), h, w)   # warm-up
        t0 = time.perf_counter()
        ds = generate(params, h, w)
        dt = time.perf_counter() - t0
        rows.append((name, f"{h}x{w}", len(ds.names), dt, len(ds.names) / dt))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="images per profile (default 200)")
    ap.add_argument("--real-fraction", type=float, default=0.5,
                    help="share of real poses (default 0.5, the params default)")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    rows = bench(args.n, args.real_fraction)
    print(f"synthetic generator, single core, no I/O, real_pose_fraction={args.real_fraction}")
    print(f"{'profile':<18} {'size':>8} {'images':>7} {'seconds':>8} {'images/s':>9}")
    for name, size, n, dt, rate in rows:
        print(f"{name:<18} {size:>8} {n:>7} {dt:>8.2f} {rate:>9.1f}")


if __name__ == "__main__":
    main()
