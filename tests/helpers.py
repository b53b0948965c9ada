"""Shared test helpers: repository paths and hand-made poses (import, don't copy)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.geometry import keypoints as K

REPO = Path(__file__).resolve().parents[1]
ANNOTATIONS = REPO / "data" / "annotations"


def hand_pose() -> np.ndarray:
    """A hand-made upright pose in a 256 x 256 frame, (y, x); person faces the viewer."""
    kp = np.full((K.NUM_KEYPOINTS, 2), -1.0, dtype=np.float32)
    pts = {
        "nose": (40, 128), "neck": (70, 128), "Rsho": (70, 100), "Relb": (110, 95),
        "Rwri": (150, 92), "Lsho": (70, 156), "Lelb": (110, 161), "Lwri": (150, 164),
        "Rhip": (150, 110), "Rkne": (195, 108), "Rank": (240, 107), "Lhip": (150, 146),
        "Lkne": (195, 148), "Lank": (240, 149), "Leye": (35, 135), "Reye": (35, 121),
        "Lear": (38, 142), "Rear": (38, 114)}
    for name, yx in pts.items():
        kp[K.KP[name]] = yx
    return kp


#: The tiny setting (synthetic, 64x64, 4 identities x 3 poses), one worker everywhere.
TINY_RAW = {"data": {"height": 64, "width": 64, "workers": 1,
                     "synthetic": {"identities": 4, "poses_per_identity": 3,
                                   "pairs_per_identity": 2,
                                   "real_poses": str(ANNOTATIONS / "fasion-annotation-sample.csv")}},
            "pose": {"workers": 1}, "parse": {"workers": 1}, "masks": {"workers": 1},
            "search": {"workers": 1}}
