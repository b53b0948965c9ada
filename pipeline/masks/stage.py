"""Stage library of `masks`: the 10 body-part masks and the PG2 pose mask of every image.

masks.h5 layout: /names; /parts (N, H, W) uint16 bit field, bit j = part j (docs/method.md §3 order,
attribute ``part_names``); /pose_mask (N, H, W) bool (M_P, docs/method.md §3); /torso_size (N,)
float32 st in image pixels (NaN without a torso); /part_valid (N, 10) bool.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.artifacts.paths import Paths
from pipeline.artifacts.stage_writer import stage_output
from pipeline.artifacts.store import create_array, write_array
from pipeline.config.base import section_dict
from pipeline.geometry import (NUM_PARTS, PART_NAMES, TORSO, part_bitfield, part_valid, pose_mask,
                               torso_size)
from pipeline.parallel import map_chunks

if TYPE_CHECKING:
    from pipeline.config.params import Params

#: Poses per chunk (one joblib task).
CHUNK = 256


def masks_of_chunk(keypoints: np.ndarray, height: int, width: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Masks of a chunk of poses: keypoints (n, 18, 2) (y, x) image pixels, -1 missing.

    Returns (parts (n, H, W) uint16, pose_mask (n, H, W) bool, torso_size (n,) float32,
    part_valid (n, 10) bool).
    """
    n = len(keypoints)
    parts = np.zeros((n, height, width), np.uint16)
    pmask = np.zeros((n, height, width), bool)
    valid = np.zeros((n, NUM_PARTS), bool)
    for i, kp in enumerate(keypoints):
        parts[i] = part_bitfield(kp, height, width)
        pmask[i] = pose_mask(kp, height, width)
        valid[i] = part_valid(kp)
    st = np.asarray(torso_size(np.asarray(keypoints, np.float64)), np.float32).reshape(n)
    return parts, pmask, st, valid


def run(params: Params, paths: Paths, progress: bool = True) -> dict:
    """Compute masks.h5 from poses.h5 (aligned with images.h5); returns the summary."""
    with stage_output(paths, "masks", inputs=["poses"], params=section_dict(params.masks),
                      description="10 body-part masks and the PG2 pose mask of every "
                                  "image") as out:
        images, poses = out.inputs["images"], out.inputs["poses"]
        f = out.file
        n = len(images)
        _, height, width, _ = images["images"].shape
        keypoints = poses["keypoints"][:]
        valid_all = np.zeros((n, NUM_PARTS), bool)
        parts = create_array(f, "parts", (n, height, width), np.uint16,
                             "10 rigid body-part masks as a bit field: bit j set = pixel in "
                             "part j (docs/method.md §3; torso = whole image when the torso is valid)",
                             "(N, H, W)", "uint16 bit field", part_names=list(PART_NAMES))
        pmask = create_array(f, "pose_mask", (n, height, width), bool,
                             "PG2 pose mask M_P: discs along 23 limbs, closed with a 5x5 "
                             "square (docs/method.md §3)", "(N, H, W)", "bool")
        st_all = np.full(n, np.nan, np.float32)
        row = 0
        for p, m, st, v in map_chunks(masks_of_chunk, keypoints, params.masks.workers, "masks",
                                      chunk=CHUNK, progress=progress, height=height,
                                      width=width):
            parts[row:row + len(p)] = p
            pmask[row:row + len(p)] = m
            st_all[row:row + len(p)] = st
            valid_all[row:row + len(p)] = v
            row += len(p)
        write_array(f, "torso_size", st_all, "torso size st = sqrt((|Rhip-Rsho|^2 + "
                    "|Lhip-Lsho|^2) / 2) (docs/method.md §3); NaN without all four torso points",
                    "(N,)", "float32 image pixels")
        write_array(f, "part_valid", valid_all, "part j can be drawn on this pose",
                    "(N, 10)", "bool", part_names=list(PART_NAMES))
        out.summary.update({
            "images": n,
            "torso_valid": int(valid_all[:, TORSO].sum()),
            "without_torso": [nm for nm, v in zip(images.names, valid_all[:, TORSO]) if not v],
            "part_valid_fraction": {name: float(valid_all[:, j].mean())
                                    for j, name in enumerate(PART_NAMES)},
        })
    return out.summary


def summary_text(summary: dict) -> str:
    """One line for the stage's console output."""
    return (f"masks: {summary['images']} images, {summary['torso_valid']} with a valid torso, "
            f"{len(summary['without_torso'])} without")
