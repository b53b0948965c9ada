"""Low-level torch helpers shared by every training and evaluation stage.

- :mod:`.device`: device resolution (``auto | cpu | cuda``), autocast and grad scaler for AMP.
- :mod:`.distributed`: torchrun environment, process group, ``print0``, barrier, reductions.
- :mod:`.misc`: seeding, determinism, shape assertions, the resumable distributed sampler.
- :mod:`.warp`: the torch twin of :mod:`pipeline.geometry.warp` (part affines as
  ``affine_grid`` thetas, part-masked ``grid_sample``, aggregation over parts).
- :mod:`.crop`: the head-box face crop of D_F (affine_grid thetas from the keypoints).

``pipeline.geometry`` stays NumPy-only; torch code that needs geometry lives here.
"""
