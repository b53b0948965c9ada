"""Benchmark: per-image body geometry (part bitfield + pose mask + torso size + part_valid).

Tiles the real annotation rows to 2,000 images, times each step in a single process and
projects the time for 10,000 images on 2 cores (goal: under one minute, i.e. >= ~90 images/s
per core). Also reports the throughput of the batched part affines (pairs/s).

    .venv/bin/python bench/masks.py [--images 2000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from pipeline.annotations import read_keypoint_file
from pipeline.geometry import (
    part_affines_batch, part_bitfield, part_valid, pose_mask, scale_keypoints, torso_size)
from pipeline.geometry.affine import prepare_targets

FASION = REPO / "data" / "annotations" / "fasion-annotation-sample.csv"   # 256 x 256 frame
MARKET = REPO / "data" / "annotations" / "market-annotation-sample.csv"   # 128 x 64 frame


def per_image(kps: np.ndarray, h: int, w: int) -> dict[str, Callable[[], None]]:
    """The timed steps, each over every pose of ``kps``."""
    def bitfield() -> None:
        for kp in kps:
            part_bitfield(kp, h, w)

    def posemask() -> None:
        for kp in kps:
            pose_mask(kp, h, w)

    def torso() -> None:
        for kp in kps:
            torso_size(kp)

    def valid() -> None:
        for kp in kps:
            part_valid(kp)

    def everything() -> None:
        for kp in kps:
            part_bitfield(kp, h, w)
            pose_mask(kp, h, w)
            torso_size(kp)
            part_valid(kp)

    return {"part_bitfield": bitfield, "pose_mask": posemask, "torso_size": torso,
            "part_valid": valid, "all four": everything}


def best_time(fn: Callable[[], None], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    fasion = read_keypoint_file(FASION).keypoints
    market = read_keypoint_file(MARKET).keypoints
    reps = -(-args.images // len(fasion))
    tiled = np.tile(fasion, (reps, 1, 1))[:args.images]
    cases = [
        ("fasion 256x256", tiled, 256, 256),
        ("fasion  64x64 ", scale_keypoints(tiled, (256, 256), (64, 64)), 64, 64),
        ("market 128x64 ", np.tile(market, (-(-args.images // len(market)), 1, 1))
         [:args.images], 128, 64),
    ]
    print(f"single process, {args.images} images per case (real rows tiled), best of "
          f"{args.repeats}")
    print(f"{'case':<16}{'step':<15}{'images/s':>11}{'ms/image':>10}{'10k on 2 cores':>16}")
    for label, kps, h, w in cases:
        for step, fn in per_image(kps, h, w).items():
            dt = best_time(fn, args.repeats)
            rate = len(kps) / dt
            proj = 10_000 / (2 * rate)
            print(f"{label:<16}{step:<15}{rate:>11,.0f}{1000 / rate:>10.3f}{proj:>14.1f} s")
    print()
    layout = prepare_targets(tiled)
    for label, tgts in (("from keypoints", tiled), ("prepared targets", layout)):
        dt = best_time(lambda: part_affines_batch(fasion[0], tgts), args.repeats)
        print(f"part_affines_batch ({label}): {len(tiled) / dt:,.0f} pairs/s (one core, "
              f"{len(tiled)} targets)")
    big = np.tile(fasion, (50, 1, 1))
    big_layout = prepare_targets(big)
    dt = best_time(lambda: part_affines_batch(fasion[0], big_layout), args.repeats)
    print(f"part_affines_batch (prepared, {len(big)} targets): {len(big) / dt:,.0f} pairs/s")


if __name__ == "__main__":
    main()
