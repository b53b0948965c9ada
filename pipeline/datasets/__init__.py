"""Torch datasets over the HDF5 artifacts (read lazily, one open file per DataLoader worker).

- :mod:`.transforms`: pose heatmaps, nearest resizing of maps, keypoint scaling, images to
  [-1, 1], and the horizontal flip of a pair with the mirror tables of :mod:`pipeline.labels`.
- :mod:`.pairs`: :class:`PseudoPairDataset` (training: pseudo.h5 rows with status ok) and
  :class:`TestPairDataset` (images.h5 ``/pairs/test``).
"""
from pipeline.datasets.pairs import DatasetError, PseudoPairDataset, TestPairDataset

__all__ = ["DatasetError", "PseudoPairDataset", "TestPairDataset"]
