"""The oracle: render any synthetic identity in any skeleton (ground truth for evaluation).

Rendering identity k with its own stored skeleton re-creates the stored image and labels
exactly: the renderer is a pure function of (identity, skeleton, frame size, background
kind); the view comes from the skeleton (pipeline.synthetic.skeleton.derive_view) and the
background from the dataset's kind (truth.h5's ``background`` attribute: ``street`` or
``studio``), the identity's seed and the skeleton's bytes. Later stages use it to render a
source person in another image's pose and measure how good a pseudo target map is::

    oracle = Oracle.from_dir("data/raw/synthetic")
    truth = oracle.render(identity=3, skeleton=oracle.skeleton("synth_id00007_02side.png"))
    truth.labels   # (H, W) uint8, what identity 3 looks like in that pose
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.labels import NUM_KEYPOINTS
from pipeline.synthetic.identity import Identity
from pipeline.synthetic.materials import BACKGROUNDS
from pipeline.synthetic.realpose import complete_skeleton
from pipeline.synthetic.render import Rendering, render_person
from pipeline.synthetic.skeleton import View, derive_view
from pipeline.synthetic.truth import SyntheticTruth, read_truth

if TYPE_CHECKING:  # annotation only: the oracle needs no generator code
    from pipeline.synthetic.dataset import SyntheticDataset


class Oracle:
    """Renders identities in arbitrary skeletons at a fixed frame size.

    identities: the dataset's identities (index = identity index); height, width: frame px;
    names/skeletons (optional): the stored rows, for :meth:`skeleton`; background: the
    dataset's background kind, ``street`` or ``studio`` (renderings sit on the same
    background as the dataset's images).
    """

    def __init__(self, identities: list[Identity], height: int, width: int,
                 names: list[str] | None = None, skeletons: np.ndarray | None = None,
                 background: str = "street") -> None:
        if background not in BACKGROUNDS:
            raise ValueError(f"background {background!r}: expected one of {BACKGROUNDS}")
        self.identities = list(identities)
        self.height, self.width = int(height), int(width)
        self.background = background
        self.names = list(names) if names is not None else []
        self.skeletons = (np.asarray(skeletons, np.float32) if skeletons is not None
                          else np.zeros((0, NUM_KEYPOINTS, 2), np.float32))
        if len(self.names) != len(self.skeletons):
            raise ValueError(f"{len(self.names)} names but {len(self.skeletons)} skeletons")
        self._row = {n: i for i, n in enumerate(self.names)}

    @classmethod
    def from_dir(cls, out_dir: Path | str) -> "Oracle":
        """Oracle of a written dataset folder (reads its truth.h5)."""
        return cls.from_truth(read_truth(out_dir))

    @classmethod
    def from_truth(cls, truth: SyntheticTruth) -> "Oracle":
        """Oracle of ground truth already read with :func:`read_truth`."""
        return cls([Identity.from_dict(d) for d in truth.identities], truth.height,
                   truth.width, truth.names, truth.skeletons, truth.background)

    @classmethod
    def from_dataset(cls, ds: SyntheticDataset) -> "Oracle":
        """Oracle of an in-memory SyntheticDataset."""
        return cls(ds.identities, ds.height, ds.width, ds.names, ds.skeletons, ds.background)

    def identity(self, index: int) -> Identity:
        if not 0 <= index < len(self.identities):
            raise IndexError(f"identity {index} out of range 0..{len(self.identities) - 1}")
        return self.identities[index]

    def render(self, identity: int, skeleton: np.ndarray) -> Rendering:
        """Render identity `identity` in `skeleton` ((18, 2) (y, x) px, full: every point
        placed, as stored in truth.h5 /skeleton) on the dataset's background kind. Returns
        image (H, W, 3) uint8, labels (H, W) uint8, keypoints (18, 2) float32
        (-1 = invisible), view."""
        return render_person(self.identity(identity), skeleton, self.height, self.width,
                             self.background)

    def complete(self, identity: int, keypoints: np.ndarray, seed: int = 0) -> np.ndarray:
        """Full skeleton from partial keypoints ((18, 2) (y, x), -1 = missing; both
        shoulders and hips required), completed with this identity's proportions."""
        rng = np.random.default_rng([self.identity(identity).seed, seed])
        return complete_skeleton(keypoints, self.identity(identity).body, rng)

    def skeleton(self, name_or_index: str | int) -> np.ndarray:
        """The stored full skeleton of a row (by image name or row index): (18, 2) float32."""
        if isinstance(name_or_index, str):
            if name_or_index not in self._row:
                raise KeyError(f"{name_or_index!r}: no such image in the oracle's dataset")
            return self.skeletons[self._row[name_or_index]].copy()
        return self.skeletons[int(name_or_index)].copy()

    @staticmethod
    def view(skeleton: np.ndarray) -> View:
        """View (front/back/side and facing) the renderer derives from a skeleton."""
        return derive_view(skeleton)


class PoseSwap:
    """Renders the person of one artifact row in the stored full skeleton of another.

    This is the ground truth that no real dataset has: what source s looks like in the pose
    of candidate (or target) c. Rows index ``names`` (an artifact's ``/names``, e.g.
    images.h5's); each name must be an image of the synthetic dataset.

    >>> swap = PoseSwap.from_dir("data/raw/synthetic", images.names)
    >>> swap.labels(s, c)   # (H, W) uint8 at the dataset's frame size
    """

    def __init__(self, truth: SyntheticTruth, names: list[str]) -> None:
        self.oracle = Oracle.from_truth(truth)
        self.names = list(names)
        self.identity = truth.identity[truth.rows(self.names)]

    @classmethod
    def from_dir(cls, root: Path | str, names: list[str]) -> "PoseSwap":
        """From a synthetic dataset folder (reads its truth.h5 once)."""
        return cls(read_truth(root), names)

    def render(self, source_row: int, pose_row: int) -> Rendering:
        """The rendering (image, labels, keypoints, view) of row s's person in row c's pose."""
        return self.oracle.render(int(self.identity[source_row]),
                                  self.oracle.skeleton(self.names[pose_row]))

    def labels(self, source_row: int, pose_row: int) -> np.ndarray:
        """(H, W) uint8: the true parsing of row s's person in row c's pose."""
        return self.render(source_row, pose_row).labels
