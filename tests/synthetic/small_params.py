"""The small synthetic set the generator tests share: 4 people x 3 poses, half real poses."""
from __future__ import annotations

from pipeline.config.data import SyntheticParams
from tests.helpers import REPO

FASHION = REPO / "data" / "annotations" / "fasion-annotation-sample.csv"
MARKET = REPO / "data" / "annotations" / "market-annotation-sample.csv"


def small_params(**kw) -> SyntheticParams:
    """SyntheticParams of the small test set (seed 7), with ``kw`` overriding any key."""
    base = dict(seed=7, identities=4, poses_per_identity=3, test_fraction=0.25,
                real_pose_fraction=0.5, real_poses=str(FASHION), real_poses_height=256,
                real_poses_width=256, pairs_per_identity=3)
    base.update(kw)
    return SyntheticParams(**base)
