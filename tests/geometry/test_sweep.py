"""Sweep over EVERY row of both real annotation files: nothing may raise, counts are sane."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.annotations import read_keypoint_file
from pipeline.geometry import (
    NO_POINT, PART_NAMES, bitfield_to_masks, part_affines_batch, part_affines_lstsq, part_bitfield,
    part_masks, part_valid, pose_heatmaps, pose_mask, torso_size)
from tests.helpers import ANNOTATIONS

DATA = ANNOTATIONS
PARTNERS = 20


@pytest.mark.parametrize("name,hw", [("fasion", (256, 256)), ("market", (128, 64))])
def test_sweep_every_row(name: str, hw: tuple[int, int]) -> None:
    kps = read_keypoint_file(DATA / f"{name}-annotation-sample.csv").keypoints
    h, w = hw
    n = len(kps)
    rng = np.random.default_rng(0)
    mask_counts = np.zeros(10, int)
    affine_counts = np.zeros(10, int)
    empty_pose_masks = 0
    degenerate_torsos = 0
    for i, kp in enumerate(kps):
        masks = part_masks(kp, h, w)
        valid = part_valid(kp)
        assert np.array_equal(masks.any(axis=(1, 2)), valid)   # a valid part draws pixels
        assert np.array_equal(bitfield_to_masks(part_bitfield(kp, h, w)), masks)
        mask_counts += valid
        pm = pose_mask(kp, h, w)
        empty_pose_masks += not pm.any()
        assert pose_heatmaps(kp, h, w).shape == (18, h, w)
        partners = kps[rng.choice(n, PARTNERS, replace=False)]
        aff, val = part_affines_batch(kp, partners, h, w)
        assert np.isfinite(aff).all()
        assert np.array_equal(aff[~val], np.broadcast_to(NO_POINT, aff[~val].shape))
        affine_counts += val.sum(axis=0)
        for m in range(2):                               # the per-pair reference on 2 of them
            a1, v1 = part_affines_lstsq(kp, partners[m], h, w)
            assert np.array_equal(v1, val[m]) and np.abs(a1 - aff[m]).max() <= 1e-9
        # a limb valid in both poses always gets a transform (rectangles are never
        # degenerate); a torso may be rejected as (nearly) collinear: count those
        both = valid & part_valid(partners)
        assert not (both & ~val)[:, 2:].any()
        degenerate_torsos += int((both & ~val)[:, 0].sum())
    st = torso_size(kps)
    all_missing = int(np.all(kps < 0, axis=(1, 2)).sum())
    lines = [f"{name}: {n} rows, {all_missing} with all points missing, "
             f"{int(np.isfinite(st).sum())} with a torso, {empty_pose_masks} empty pose masks, "
             f"{degenerate_torsos} torso fits rejected as degenerate",
             f"  {'part':<16}{'mask valid':>11}{'affine valid':>14} (of {n * PARTNERS} pairs)"]
    lines += [f"  {p:<16}{mask_counts[j]:>11}{affine_counts[j]:>14}"
              for j, p in enumerate(PART_NAMES)]
    print("\n" + "\n".join(lines))
    assert mask_counts[0] == np.isfinite(st).sum()
    assert (mask_counts[1:] <= mask_counts[0]).all()
    assert (affine_counts > 0).all() and (mask_counts > 0).all()
    assert empty_pose_masks >= all_missing
    assert degenerate_torsos <= 0.01 * affine_counts[0]
