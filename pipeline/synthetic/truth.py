"""The one reader of the synthetic dataset's ground truth, ``<data.root>/truth.h5``.

truth.h5 is written by :func:`pipeline.synthetic.writer.write_truth`; everything that reads it
(the `pose` stage's synthetic backend, the oracle, the evaluation) goes through
:func:`read_truth`. Layout: /names; /keypoints (N, 18, 2) float32 (y, x) px, -1 missing;
/skeleton (N, 18, 2) float32 full skeletons; /view (N,) uint8; /identity (N,) int32;
/split (N,) uint8; /person_id (N,) str; /real_pose (N,) uint8; /pose_source (N,) str;
root attributes ``identities`` (JSON list of Identity dicts), ``height``, ``width``,
``background`` (``street`` or ``studio``; a file without it was written before studios existed
and is ``street``).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.artifacts.reader import Artifact, ArtifactError

#: File name of the ground truth inside the synthetic dataset folder.
TRUTH_FILE = "truth.h5"
#: Background kind of a truth.h5 without the ``background`` attribute (written before the
#: studio kind existed, when every photo had its own street background).
LEGACY_BACKGROUND = "street"


def truth_path(root: Path | str) -> Path:
    """``<root>/truth.h5``."""
    return Path(root) / TRUTH_FILE


@dataclass(frozen=True)
class SyntheticTruth:
    """The ground truth of a written synthetic dataset (rows in the file's order).

    names: N image names; keypoints: (N, 18, 2) float32 (y, x) px, -1 = missing;
    skeletons: (N, 18, 2) float32 full skeletons (every point placed); identity: (N,) int32
    identity index; identities: the identities' JSON dicts (Identity.from_dict rebuilds
    them); height, width: frame size in px; background: ``street`` or ``studio``, the
    background kind the images were rendered with (the oracle renders with it).
    """

    path: Path
    names: list[str]
    keypoints: np.ndarray
    skeletons: np.ndarray
    identity: np.ndarray
    identities: list[dict]
    height: int
    width: int
    background: str = LEGACY_BACKGROUND

    def rows(self, names: Sequence[str]) -> np.ndarray:
        """(len(names),) int64 rows of ``names``; ArtifactError naming the first missing one."""
        index = {n: i for i, n in enumerate(self.names)}
        missing = [n for n in names if n not in index]
        if missing:
            raise ArtifactError(f"{self.path}: no ground truth for {len(missing)} images, "
                                f"e.g. {missing[0]!r}")
        return np.asarray([index[n] for n in names], np.int64)


def read_truth(root: Path | str) -> SyntheticTruth:
    """Read ``<root>/truth.h5``; ArtifactError naming the file when it is missing."""
    path = truth_path(root)
    if not path.is_file():
        raise ArtifactError(f"{path}: synthetic ground truth not found (the synthesize stage "
                            f"writes it; data.root must be its output folder)")
    with Artifact(path) as art:
        return SyntheticTruth(
            path=path, names=list(art.names),
            keypoints=art["keypoints"][()].astype(np.float32),
            skeletons=art["skeleton"][()].astype(np.float32),
            identity=art["identity"][()].astype(np.int32),
            identities=json.loads(art.attrs["identities"]),
            height=int(art.attrs["height"]), width=int(art.attrs["width"]),
            background=str(art.attrs.get("background", LEGACY_BACKGROUND)))
