"""Speed of the synthetic people generator (images per second on one core, no I/O) and how
predictable a person's background is, per background kind (data.synthetic.background).

    python bench/synthesize.py [--n 200] [--real-fraction 0.5] [--background studio street]

Runs plain sequential generation (pipeline.synthetic.generate, n_jobs=1, OpenCV limited to
one thread) for the two size profiles and each background kind, and prints a table. The
first identity is generated once beforehand so that imports and the real-pose file parsing
are not timed. Background columns: the mean absolute difference (levels in [0, 255], over
pixels that are background in both photos and all 3 channels) between two photos of one
person (all pairs) and between photos j of persons k and k + 1; a small first number means
the target's background is predictable from the source's.
"""
from __future__ import annotations

import argparse
import time
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

import cv2
import numpy as np

from pipeline.config.data import SyntheticParams
from pipeline.synthetic.dataset import SyntheticDataset, generate

POSES_PER_IDENTITY = 4
#: (profile, height, width, real pose file, its frame height, width)
PROFILES = (
    ("DeepFashion-like", 256, 256, "data/annotations/fasion-annotation-sample.csv", 256, 256),
    ("Market-1501-like", 128, 64, "data/annotations/market-annotation-sample.csv", 128, 64),
)
BACKGROUNDS = ("studio", "street")


def pair_background_mad(ds: SyntheticDataset, a: int, b: int) -> float:
    """Mean absolute difference (levels, [0, 255]) between rows a and b of `ds` over the
    pixels that are background (label 0) in both, all channels; NaN when there are none."""
    both = (ds.labels[a] == 0) & (ds.labels[b] == 0)
    if not both.any():
        return float("nan")
    diff = np.abs(ds.images[a][both].astype(np.int16) - ds.images[b][both].astype(np.int16))
    return float(diff.mean())


def background_mad(ds: SyntheticDataset) -> tuple[float, float]:
    """(within, between): mean background difference of all pairs of one identity's photos,
    and of photo j of identity k against photo j of identity k + 1 (levels, [0, 255])."""
    rows = [np.flatnonzero(ds.identity == k) for k in np.unique(ds.identity)]
    within = [pair_background_mad(ds, int(a), int(b)) for r in rows for a, b in combinations(r, 2)]
    between = [pair_background_mad(ds, int(a), int(b)) for r0, r1 in zip(rows, rows[1:])
               for a, b in zip(r0, r1)]
    return float(np.nanmean(within)), float(np.nanmean(between))


def bench(n: int, real_fraction: float, backgrounds: tuple[str, ...]
          ) -> list[tuple[str, str, str, int, float, float, float, float]]:
    """One row per (profile, background): name, size, background, images, seconds,
    images/s, background MAD within a person, between persons."""
    rows = []
    for name, h, w, real, rh, rw in PROFILES:
        for background in backgrounds:
            params = SyntheticParams(seed=0, identities=max(2, n // POSES_PER_IDENTITY),
                                     poses_per_identity=POSES_PER_IDENTITY,
                                     real_pose_fraction=real_fraction,
                                     real_poses=str(REPO / real), real_poses_height=rh,
                                     real_poses_width=rw, background=background)
            generate(params.model_copy(update={"identities": 2}), h, w)   # warm-up
            t0 = time.perf_counter()
            ds = generate(params, h, w)
            dt = time.perf_counter() - t0
            within, between = background_mad(ds)
            rows.append((name, f"{h}x{w}", background, len(ds.names), dt, len(ds.names) / dt,
                         within, between))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="images per profile (default 200)")
    ap.add_argument("--real-fraction", type=float, default=0.5,
                    help="share of real poses (default 0.5, the params default)")
    ap.add_argument("--background", nargs="+", choices=BACKGROUNDS, default=list(BACKGROUNDS),
                    help="background kinds to run (default both)")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    rows = bench(args.n, args.real_fraction, tuple(args.background))
    print(f"synthetic generator, single core, no I/O, real_pose_fraction={args.real_fraction}")
    print(f"{'profile':<18} {'size':>8} {'background':>10} {'images':>7} {'seconds':>8} "
          f"{'images/s':>9} {'bg MAD same person':>19} {'bg MAD other person':>20}")
    for name, size, bg, n, dt, rate, within, between in rows:
        print(f"{name:<18} {size:>8} {bg:>10} {n:>7} {dt:>8.2f} {rate:>9.1f} {within:>19.1f} "
              f"{between:>20.1f}")


if __name__ == "__main__":
    main()
