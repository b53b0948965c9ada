"""The affine-warp nearest-pose search for pseudo target maps (docs/method.md §4).

cost(s, c) = sum_j || B^j_{P_c} (x) S_c - f_j(B^j_{P_s} (x) S_s) ||^2, c* = argmin_c cost.

Modules: :mod:`.inputs` (working-resolution maps of every image), :mod:`.admissible`
(the pose-similarity exclusion), :mod:`.reference` (the literal pair-by-pair formula),
:mod:`.kernel` (the compiled exact kernel) and :mod:`.fast` (the batched search over
candidates), :mod:`.torch_kernel` and :mod:`.torch_search` (the same costs in torch, CPU or
CUDA), :mod:`.shortlist` and :mod:`.first_pass` (the optional shortlist: a cheap first pass
keeps M candidates per source), :mod:`.recall` (what the shortlist misses, measured),
:mod:`.blocks` (resumable, parallel search over blocks of sources) and :mod:`.stage` (the
stage library: pseudo.h5). The searching error against the synthetic
oracle is measured by :mod:`pipeline.evaluation.search_report`, a stage of its own.
"""
from pipeline import numba_cache

numba_cache.install()      # before the compiled modules below are imported and decorated
