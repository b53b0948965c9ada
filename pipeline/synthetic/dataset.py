"""Generate the whole synthetic dataset in memory: identities, poses, images, split, pairs.

Randomness: every draw comes from a NumPy Generator seeded by ``[params.seed, stream, ...]``
(stream 1 = identity k, 2 = pose (k, j), 3 = split, 4 = pairs of identity k), never from a
global RNG, so one identity can be generated alone, in any process, with the same result,
and the same params give byte-identical outputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.labels import NUM_KEYPOINTS
from pipeline.synthetic.identity import Identity, sample_identity
from pipeline.synthetic.prior import sample_skeleton
from pipeline.synthetic.realpose import (RealPosePool, complete_skeleton, empty_pool,
                                         load_real_poses)
from pipeline.synthetic.render import render_person
from pipeline.synthetic.skeleton import VIEW_NAMES

if TYPE_CHECKING:
    from pipeline.config.data import SyntheticParams

STREAM_IDENTITY, STREAM_POSE, STREAM_SPLIT, STREAM_PAIRS = 1, 2, 3, 4
SPLIT_TRAIN, SPLIT_TEST = 0, 1  # same codes as pipeline.artifacts.codes


@dataclass
class SyntheticDataset:
    """The generated dataset, rows ordered by identity then pose.

    names: N image names ``synth_id{k:05d}_{j:02d}{view}.png``;
    images: (N, H, W, 3) uint8 RGB; labels: (N, H, W) uint8 in 0..9 (pipeline.labels);
    keypoints: (N, 18, 2) float32 (y, x) px, -1 = outside the frame or hidden by the view;
    skeletons: (N, 18, 2) float32 (y, x) px, full skeleton (points may lie outside the frame);
    views: (N,) uint8 0 front, 1 back, 2 side; identity: (N,) int32 identity index;
    split: (N,) uint8 0 train, 1 test; person_id: N strings ``id{k:05d}``;
    real_pose: (N,) bool, pose taken from the real annotation file; pose_source: N strings,
    the real row's image name ('' for prior poses);
    test_pairs: (from, to) names of the same test identity; identities: one per person;
    real_pose_report: what the real pose file gave (file, rows, usable, skipped);
    background: ``street`` or ``studio`` (data.synthetic.background; the oracle needs it).
    """

    height: int
    width: int
    names: list[str]
    images: np.ndarray
    labels: np.ndarray
    keypoints: np.ndarray
    skeletons: np.ndarray
    views: np.ndarray
    identity: np.ndarray
    split: np.ndarray
    person_id: list[str]
    test_pairs: list[tuple[str, str]]
    identities: list[Identity]
    real_pose: np.ndarray
    pose_source: list[str]
    real_pose_report: dict = field(default_factory=dict)
    background: str = "street"

    def __len__(self) -> int:
        return len(self.names)


@dataclass
class IdentityImages:
    """The images of one identity (arrays stacked over its poses)."""

    identity: Identity
    names: list[str]
    images: np.ndarray
    labels: np.ndarray
    keypoints: np.ndarray
    skeletons: np.ndarray
    views: np.ndarray
    real_pose: np.ndarray
    pose_source: list[str]


def image_name(k: int, j: int, view: int) -> str:
    """``synth_id{k:05d}_{j:02d}{view}.png``."""
    return f"synth_id{k:05d}_{j:02d}{VIEW_NAMES[view]}.png"


def make_identity(seed: int, k: int) -> Identity:
    """Identity k of the dataset with this seed."""
    return sample_identity(np.random.default_rng([seed, STREAM_IDENTITY, k]), k)


def pose_skeleton(params: SyntheticParams, identity: Identity, j: int, height: int, width: int,
                  pool: RealPosePool) -> tuple[np.ndarray, str]:
    """Skeleton of pose j of an identity and its real source name ('' = prior): (18, 2)
    float32 (y, x) px. Real with probability real_pose_fraction when the pool is not empty."""
    rng = np.random.default_rng([params.seed, STREAM_POSE, identity.index, j])
    use_real = len(pool) > 0 and rng.uniform() < params.real_pose_fraction
    if use_real:
        row = int(rng.integers(len(pool)))
        kp = pool.keypoints[row]
        present = np.all(np.isfinite(kp), axis=1)
        return complete_skeleton(kp, identity.body, rng, present), pool.names[row]
    skeleton, _ = sample_skeleton(rng, identity.body, height, width)
    return skeleton, ""


def generate_identity(params: SyntheticParams, k: int, height: int, width: int,
                      pool: RealPosePool) -> IdentityImages:
    """All images of identity k (pure function of its arguments; safe to run in parallel)."""
    ident = make_identity(params.seed, k)
    n = params.poses_per_identity
    images = np.empty((n, height, width, 3), np.uint8)
    labels = np.empty((n, height, width), np.uint8)
    kps = np.empty((n, NUM_KEYPOINTS, 2), np.float32)
    sks = np.empty((n, NUM_KEYPOINTS, 2), np.float32)
    views = np.empty(n, np.uint8)
    real = np.zeros(n, bool)
    names, sources = [], []
    for j in range(n):
        sk, source = pose_skeleton(params, ident, j, height, width, pool)
        r = render_person(ident, sk, height, width, params.background)
        images[j], labels[j], kps[j], sks[j], views[j] = r.image, r.labels, r.keypoints, sk, r.view
        real[j] = bool(source)
        names.append(image_name(k, j, r.view))
        sources.append(source)
    return IdentityImages(ident, names, images, labels, kps, sks, views, real, sources)


def split_identities(seed: int, n_identities: int, test_fraction: float) -> np.ndarray:
    """(n_identities,) uint8 split code per identity; at least one identity in each split."""
    n_test = int(round(test_fraction * n_identities))
    n_test = min(max(n_test, 1), n_identities - 1)
    order = np.random.default_rng([seed, STREAM_SPLIT]).permutation(n_identities)
    split = np.full(n_identities, SPLIT_TRAIN, np.uint8)
    split[order[:n_test]] = SPLIT_TEST
    return split


def sample_test_pairs(seed: int, k: int, names: list[str], n_pairs: int
                      ) -> list[tuple[str, str]]:
    """Up to n_pairs distinct ordered pairs (from, to) of different images of identity k."""
    n = len(names)
    cand = [(a, b) for a in range(n) for b in range(n) if a != b]
    rng = np.random.default_rng([seed, STREAM_PAIRS, k])
    pick = rng.choice(len(cand), size=min(n_pairs, len(cand)), replace=False)
    return [(names[cand[i][0]], names[cand[i][1]]) for i in pick]


def real_pose_pool(params: SyntheticParams, height: int, width: int) -> RealPosePool:
    """Usable real poses of params.real_poses ('' or real_pose_fraction 0 = none).
    Raises FileNotFoundError when real poses are wanted but the file is missing."""
    if not params.real_poses or params.real_pose_fraction <= 0.0:
        return empty_pool(params.real_poses)
    path = Path(params.real_poses)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: real-pose file not found (data.synthetic.real_poses; "
                                f"set it to '' or data.synthetic.real_pose_fraction to 0 to "
                                f"sample every pose from the prior)")
    return load_real_poses(path, params.real_poses_height, params.real_poses_width,
                           height, width)


def generate(params: SyntheticParams, height: int, width: int, n_jobs: int = 1
             ) -> SyntheticDataset:
    """Generate the dataset: params.identities x params.poses_per_identity images of
    height x width px (any size >= 32 x 32). n_jobs > 1 renders identities in parallel
    processes (joblib); the result does not depend on n_jobs."""
    if height < 32 or width < 32:
        raise ValueError(f"frame {height}x{width} too small: at least 32x32")
    pool = real_pose_pool(params, height, width)
    ks = range(params.identities)
    if n_jobs == 1:
        parts = [generate_identity(params, k, height, width, pool) for k in ks]
    else:
        from joblib import Parallel, delayed
        parts = Parallel(n_jobs=n_jobs)(delayed(generate_identity)(params, k, height, width, pool)
                                        for k in ks)
    split_id = split_identities(params.seed, params.identities, params.test_fraction)
    names = [n for part in parts for n in part.names]
    identity = np.concatenate([np.full(len(p.names), p.identity.index, np.int32)
                               for p in parts])
    pairs: list[tuple[str, str]] = []
    for p in parts:
        if split_id[p.identity.index] == SPLIT_TEST:
            pairs += sample_test_pairs(params.seed, p.identity.index, p.names,
                                       params.pairs_per_identity)
    return SyntheticDataset(
        height=height, width=width, names=names,
        images=np.concatenate([p.images for p in parts]),
        labels=np.concatenate([p.labels for p in parts]),
        keypoints=np.concatenate([p.keypoints for p in parts]),
        skeletons=np.concatenate([p.skeletons for p in parts]),
        views=np.concatenate([p.views for p in parts]),
        identity=identity, split=split_id[identity].astype(np.uint8),
        person_id=[p.identity.person_id for p in parts for _ in p.names],
        test_pairs=pairs, identities=[p.identity for p in parts],
        real_pose=np.concatenate([p.real_pose for p in parts]),
        pose_source=[s for p in parts for s in p.pose_source],
        real_pose_report=pool.report(), background=params.background)
