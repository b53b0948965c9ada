"""The hard cases of the search tests: synthetic people in real DeepFashion poses, made harder
(missing keypoints, mirrored limbs, zero-length and collinear parts, missing heads)."""
from __future__ import annotations

import numpy as np

from pipeline.config.data import SyntheticParams
from pipeline.config.search import SearchParams
from pipeline.geometry import KP
from pipeline.search.inputs import SearchInputs, build_inputs
from pipeline.synthetic.dataset import generate
from tests.helpers import ANNOTATIONS

#: Working resolution of the tests (small: every source is searched against every candidate).
WORK = (32, 32)
#: The schema's default (params.yaml ``search.mismatch_cost``).
MISMATCH = SearchParams().mismatch_cost


def perturb(kp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Real poses made harder: dropped limbs (mirrored fallback), zero-length and collinear
    parts, points pushed off-frame."""
    kp = kp.copy()
    for i in range(len(kp)):
        r = rng.random()
        if r < 0.15:
            kp[i, [KP["Relb"], KP["Rwri"]]] = -1            # right arm gone: mirror fallback
        elif r < 0.25:
            kp[i, KP["Lkne"]] = kp[i, KP["Lhip"]]          # zero-length thigh
        elif r < 0.32:
            ys = kp[i, [KP["Rhip"], KP["Lhip"], KP["Lsho"], KP["Rsho"]], 0]
            if (ys >= 0).all():                             # collinear torso: singular fit
                kp[i, [KP["Rhip"], KP["Lhip"], KP["Lsho"], KP["Rsho"]], 1] = 128
        elif r < 0.38:
            kp[i, KP["nose"]] = [-1, -1]
            kp[i, [KP["Reye"], KP["Leye"], KP["Rear"], KP["Lear"]]] = -1  # no head points
        elif r < 0.45:
            kp[i, KP["Lhip"]] = -1                          # no complete torso
    return kp


def realistic(work: tuple[int, int] = WORK) -> tuple[SearchInputs, np.ndarray]:
    """Synthetic people rendered in real DeepFashion poses (with their missing points), made
    harder by :func:`perturb`, at working resolution ``work``; and their person ids (N,)."""
    ds = generate(SyntheticParams(identities=12, poses_per_identity=4, real_pose_fraction=1.0,
                                  real_poses=str(ANNOTATIONS / "fasion-annotation-sample.csv")),
                  128, 128)
    rng = np.random.default_rng(0)
    kp = perturb(ds.keypoints, rng)
    return build_inputs(kp, ds.labels, (128, 128), work), np.array(ds.person_id)
