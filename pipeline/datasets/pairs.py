"""Pair datasets over the prepared HDF5 artifacts: pseudo pairs for training, test pairs.

Files are read lazily through :class:`pipeline.artifacts.reader.Artifact`, which opens its
file on first use in each process, so every DataLoader worker holds one open file per
artifact. Small per-image arrays (keypoints, status, pair rows) are read once; maps and images
are read per item. Heatmaps, part affines and resizing are computed in the workers.

An item is a dict of tensors (H, W = ``map_hw``; h, w = ``image_hw``)::

    src_labels    (H, W) int64      S_Ps, source parsing (nearest-resized)
    src_heatmaps  (18, H, W) f32    P_s, pose heatmaps (sigma 6 px at 256 px)
    src_pose_mask (1, H, W) f32     M_Ps
    src_keypoints (18, 2) f32       (y, x) map pixels, -1 = missing
    src_parts     (10, H, W) f32    source part masks (masks.h5 /parts, nearest-resized)
    tgt_labels    (H, W) int64      S*_Pt (pseudo pairs) or the target's own parsing (test)
    tgt_heatmaps, tgt_pose_mask, tgt_keypoints   likewise for P*_t / P_t, M*_Pt / M_Pt
    theta         (10, 2, 3) f32    affine_grid thetas of the part affines src -> tgt
    affines       (10, 2, 3) f64    the same affines in map pixels (exact nearest warps)
    part_valid    (10,) bool
    src_image     (3, h, w) f32     in [-1, 1]           (only with image_hw)
    tgt_image     (3, h, w) f32     test pairs only       (only with image_hw)
    src_index, tgt_index  () int64  rows of images.h5

With ``cycle=True`` (the appearance network's way back, I~_Pt -> P_s) also::

    tgt_parts        (10, H, W) f32  part masks of the target pose (masks.h5 /parts of the
                                     target row: the candidate c* or the test target)
    back_theta       (10, 2, 3) f32  part affines tgt -> src (sample the target frame, write
    back_affines     (10, 2, 3) f64  the source frame): part_affines(P_t, P_s)
    back_part_valid  (10,) bool
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from pipeline.artifacts.codes import STATUS_OK
from pipeline.artifacts.paths import artifact_path
from pipeline.artifacts.reader import Artifact
from pipeline.datasets.transforms import flip_pair, image_to_tensor, pose_inputs, resize_nearest
from pipeline.geometry import bitfield_to_masks, part_affines, scale_keypoints
from pipeline.torch_utils.warp import affines_to_theta

#: Probability that a training item is flipped horizontally [choice: the usual 0.5].
FLIP_PROBABILITY: float = 0.5


class DatasetError(ValueError):
    """Artifacts that cannot give a dataset (empty, missing, misaligned); one line."""


def _open(prepared: Path, kinds: tuple[str, ...]) -> dict[str, Artifact]:
    """Artifacts ``kinds`` of ``prepared``, each checked to be aligned with images.h5."""
    images = Artifact(artifact_path("images", prepared))
    arts = {"images": images}
    for kind in kinds:
        art = Artifact(artifact_path(kind, prepared))
        art.check_aligned(images)
        arts[kind] = art
    return arts


def _hw(value: tuple[int, int] | None, name: str) -> tuple[int, int] | None:
    if value is None:
        return None
    h, w = (int(v) for v in value)
    if h < 1 or w < 1:
        raise ValueError(f"{name} must be two positive sizes, got {value}")
    return h, w


@dataclass
class PersonArrays:
    """One side of a pair as arrays in its stored frame (H, W) (one row of the artifacts).

    keypoints: (18, 2) float32 (y, x) frame pixels, -1 = missing. pose_mask: (H, W) bool
    (M_P, masks.h5 /pose_mask). labels: (H, W) uint8 0..9 parsing, or None when unknown (a
    target given by its pose only: the item has no ``tgt_labels``). parts: (H, W) uint16 part
    bit field (masks.h5 /parts); needed for the source, and for the target with ``cycle``.
    image: (H, W, 3) uint8 RGB; needed for the source with ``image_hw``.
    """

    keypoints: np.ndarray
    pose_mask: np.ndarray
    labels: np.ndarray | None = None
    parts: np.ndarray | None = None
    image: np.ndarray | None = None

    @property
    def frame_hw(self) -> tuple[int, int]:
        """(H, W) of the frame the keypoints are in pixels of."""
        return tuple(int(v) for v in np.shape(self.pose_mask)[:2])


def _side(prefix: str, person: PersonArrays, kp_map: np.ndarray, map_hw: tuple[int, int],
          sigma: float = 0.0) -> dict[str, torch.Tensor]:
    h, w = map_hw
    out = {}
    if person.labels is not None:
        out[f"{prefix}_labels"] = torch.from_numpy(
            resize_nearest(person.labels, map_hw).astype(np.int64))
    out[f"{prefix}_heatmaps"] = torch.from_numpy(pose_inputs(kp_map, h, w, sigma))
    out[f"{prefix}_pose_mask"] = torch.from_numpy(
        resize_nearest(person.pose_mask, map_hw).astype(np.float32))[None]
    out[f"{prefix}_keypoints"] = torch.from_numpy(kp_map.astype(np.float32))
    return out


def _parts(person: PersonArrays, map_hw: tuple[int, int], what: str) -> torch.Tensor:
    if person.parts is None:
        raise ValueError(f"pair_item: the {what} needs its part bit field (parts)")
    parts = resize_nearest(person.parts, map_hw)
    return torch.from_numpy(bitfield_to_masks(parts).astype(np.float32))


def pair_item(src: PersonArrays, tgt: PersonArrays, map_hw: tuple[int, int],
              image_hw: tuple[int, int] | None = None, cycle: bool = False,
              src_index: int = -1, tgt_index: int = -1, sigma: float = 0.0
              ) -> dict[str, torch.Tensor]:
    """The pair item (module docstring) of a source and a target given as arrays: what the
    datasets return for their rows, and what the applications build for any two persons.

    Each side's keypoints are scaled from its own frame to ``map_hw``; maps are nearest-resized;
    ``tgt_image`` is added when ``tgt.image`` and ``image_hw`` are given. src_index,
    tgt_index: rows of images.h5 (-1 = not a row). sigma: heatmap Gaussian sigma in px of
    ``map_hw`` (0 = 6 px x height / 256).
    """
    map_hw = _hw(map_hw, "map_hw")
    image_hw = _hw(image_hw, "image_hw")
    kp_src_map = scale_keypoints(np.asarray(src.keypoints, np.float32), src.frame_hw, map_hw)
    kp_tgt_map = scale_keypoints(np.asarray(tgt.keypoints, np.float32), tgt.frame_hw, map_hw)
    if src.labels is None:
        raise ValueError("pair_item: the source needs its parsing (labels)")
    item = _side("src", src, kp_src_map, map_hw, sigma)
    item["src_parts"] = _parts(src, map_hw, "source")
    item.update(_side("tgt", tgt, kp_tgt_map, map_hw, sigma))
    affines, valid = part_affines(kp_src_map, kp_tgt_map, *map_hw)
    item["theta"] = affines_to_theta(affines, map_hw).float()
    item["affines"] = torch.from_numpy(np.ascontiguousarray(affines, np.float64))
    item["part_valid"] = torch.from_numpy(np.asarray(valid, bool))
    if cycle:
        item["tgt_parts"] = _parts(tgt, map_hw, "target (cycle=True)")
        back, back_valid = part_affines(kp_tgt_map, kp_src_map, *map_hw)
        item["back_theta"] = affines_to_theta(back, map_hw).float()
        item["back_affines"] = torch.from_numpy(np.ascontiguousarray(back, np.float64))
        item["back_part_valid"] = torch.from_numpy(np.asarray(back_valid, bool))
    if image_hw is not None:
        if src.image is None:
            raise ValueError("pair_item: image_hw needs the source image")
        item["src_image"] = image_to_tensor(src.image, image_hw)
    item["src_index"] = torch.tensor(src_index, dtype=torch.int64)
    item["tgt_index"] = torch.tensor(tgt_index, dtype=torch.int64)
    if image_hw is not None and tgt.image is not None:
        item["tgt_image"] = image_to_tensor(tgt.image, image_hw)
    return item


class _PairBase(Dataset):
    """Shared reading of one side (source or target) of a pair."""

    def __init__(self, prepared: Path | str, map_hw: tuple[int, int],
                 image_hw: tuple[int, int] | None, kinds: tuple[str, ...],
                 cycle: bool = False, sigma: float = 0.0) -> None:
        self.prepared = Path(prepared)
        self.cycle = bool(cycle)
        self.sigma = float(sigma)
        self.map_hw = _hw(map_hw, "map_hw")
        self.image_hw = _hw(image_hw, "image_hw")
        self.arts = _open(self.prepared, kinds)
        self.frame_hw: tuple[int, int] = tuple(self.arts["images"]["images"].shape[1:3])
        self.keypoints = self.arts["poses"]["keypoints"][:].astype(np.float32)

    def _source(self, src: int) -> PersonArrays:
        """Row ``src`` as a source (image only with ``image_hw``)."""
        arts = self.arts
        return PersonArrays(self.keypoints[src], arts["masks"]["pose_mask"][src],
                            arts["parsing"]["labels"][src], arts["masks"]["parts"][src],
                            arts["images"]["images"][src] if self.image_hw is not None
                            else None)

    def _pair(self, src: int, tgt: int, target: PersonArrays) -> dict[str, torch.Tensor]:
        """The item of source row ``src`` and a target (row ``tgt``) given as arrays; the
        target's parts are read from row ``tgt`` with ``cycle``."""
        if self.cycle:
            target.parts = self.arts["masks"]["parts"][tgt]
        return pair_item(self._source(src), target, self.map_hw, self.image_hw, self.cycle,
                         src, tgt, self.sigma)


class PseudoPairDataset(_PairBase):
    """Training pairs: every pseudo.h5 row whose search status is ok (docs/method.md §4).

    prepared: folder of the artifacts (images, poses, parsing, masks, pseudo .h5). map_hw: map
    resolution ``(H, W)`` of the network (``semantic.height``, ``semantic.width``). image_hw:
    also return the source image at this size. flip: horizontal flip with probability 0.5,
    source and target together, decided by ``(seed, epoch, row)`` so an item is deterministic
    given its index and the epoch; the epoch is :meth:`set_epoch`'s, or comes with the key
    when the sampler yields ``(index, epoch)`` pairs (``ResumableSampler(with_epoch=True)``,
    which reaches every DataLoader worker; ``set_epoch`` in the main process does not reach
    persistent workers).

    Target side (pseudo.h5): ``tgt_labels`` = S*_Pt, ``tgt_keypoints`` = P*_t,
    ``tgt_pose_mask`` = M*_Pt of the chosen candidate c*; ``tgt_index`` = c*.
    """

    def __init__(self, prepared: Path | str, map_hw: tuple[int, int],
                 image_hw: tuple[int, int] | None = None, flip: bool = False,
                 seed: int = 0, cycle: bool = False, sigma: float = 0.0) -> None:
        super().__init__(prepared, map_hw, image_hw, ("poses", "parsing", "masks", "pseudo"),
                         cycle, sigma)
        pseudo = self.arts["pseudo"]
        status = pseudo["status"][:]
        self.rows = np.flatnonzero(status == STATUS_OK).astype(np.int64)
        if len(self.rows) == 0:
            raise DatasetError(
                f"{pseudo.path}: the search produced no pseudo targets (0 of {len(status)} "
                f"rows have status ok); add training images (data.synthetic.identities, "
                f"poses_per_identity) or relax the search (search.min_pose_distance, "
                f"search.same_identity) and rerun `dvc repro`")
        self.target_index = pseudo["target_index"][:].astype(np.int64)
        self.target_keypoints = pseudo["target_keypoints"][:].astype(np.float32)
        self.flip, self.seed, self.epoch = bool(flip), int(seed), 0

    def __len__(self) -> int:
        return len(self.rows)

    def set_epoch(self, epoch: int) -> None:
        """Epoch of the flip decisions for plain integer keys."""
        self.epoch = int(epoch)

    def flipped(self, index: int, epoch: int) -> bool:
        """Whether item ``index`` is flipped in ``epoch`` (always False without ``flip``)."""
        if not self.flip:
            return False
        rng = np.random.default_rng([self.seed, int(epoch), int(index)])
        return bool(rng.random() < FLIP_PROBABILITY)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        index, epoch = (key if isinstance(key, (tuple, list)) else (key, self.epoch))
        index = int(index)
        if not 0 <= index < len(self.rows):
            raise IndexError(f"item {index} out of range 0..{len(self.rows) - 1}")
        row = int(self.rows[index])
        pseudo = self.arts["pseudo"]
        target = PersonArrays(self.target_keypoints[row], pseudo["target_pose_mask"][row],
                              pseudo["target_labels"][row])
        item = self._pair(row, int(self.target_index[row]), target)
        return flip_pair(item) if self.flipped(index, epoch) else item


class TestPairDataset(_PairBase):
    """Test pairs ``(from, to)`` of images.h5 ``/pairs/test`` (same person, other pose).

    The target side is the target image's own parsing (its true map), pose and pose mask;
    with ``image_hw`` both images are returned (``src_image``, ``tgt_image``). Never flipped.
    """

    __test__ = False   # not a pytest test class

    def __init__(self, prepared: Path | str, map_hw: tuple[int, int],
                 image_hw: tuple[int, int] | None = None, cycle: bool = False,
                 sigma: float = 0.0) -> None:
        super().__init__(prepared, map_hw, image_hw, ("poses", "parsing", "masks"), cycle,
                         sigma)
        images = self.arts["images"]
        pairs = images["pairs/test"][:] if "pairs/test" in images else np.zeros((0, 2))
        self.pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
        if len(self.pairs) == 0:
            raise DatasetError(f"{images.path}: holds no test pairs (/pairs/test is empty); "
                               f"set data.pairs to a pairs file of the dataset and rerun "
                               f"`dvc repro`")

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, key: int | tuple[int, Any]) -> dict[str, torch.Tensor]:
        index = int(key[0] if isinstance(key, (tuple, list)) else key)
        if not 0 <= index < len(self.pairs):
            raise IndexError(f"item {index} out of range 0..{len(self.pairs) - 1}")
        src, tgt = (int(v) for v in self.pairs[index])
        arts = self.arts
        target = PersonArrays(self.keypoints[tgt], arts["masks"]["pose_mask"][tgt],
                              arts["parsing"]["labels"][tgt],
                              image=(arts["images"]["images"][tgt]
                                     if self.image_hw is not None else None))
        return self._pair(src, tgt, target)
