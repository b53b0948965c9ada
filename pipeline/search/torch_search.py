"""The torch exact search of one source (``search.implementation: torch``), CPU or CUDA.

Same contract as :func:`pipeline.search.fast.search_source`: the same admissible candidates
(:func:`pipeline.search.admissible.admissible`), the same affines
(:func:`pipeline.geometry.part_affines_batch`, float64 on the host) and the same costs bit
for bit (:mod:`pipeline.search.torch_kernel`); the argmin and top-k then come from
:func:`pipeline.search.fast.top_k` (cost, then lower index), as the numba path's early-exit
top-k gives (tested).
"""
from __future__ import annotations

import numpy as np
import torch

from pipeline.geometry import TargetLayout
from pipeline.search.admissible import admissible
from pipeline.search.fast import candidate_affines
from pipeline.search.inputs import SearchInputs
from pipeline.search.torch_kernel import DeviceInputs, source_costs
from pipeline.torch_utils.device import resolve_device


def device_inputs(inputs: SearchInputs, device: str) -> DeviceInputs:
    """Every image's maps on ``search.device`` (auto | cpu | cuda; see
    :func:`pipeline.torch_utils.device.resolve_device`)."""
    return DeviceInputs.from_inputs(inputs, resolve_device(device))


def candidate_costs(source: int, inputs: SearchInputs, dev: DeviceInputs, cands: np.ndarray,
                    mismatch_cost: float, layout: TargetLayout | None = None) -> np.ndarray:
    """Exact costs of ``source`` against the given candidates (K,) int64 -> (K,) float64.

    layout: every image's prepared targets (as in :func:`pipeline.search.fast.candidates_top_k`).
    """
    cands = np.asarray(cands, np.int64)
    if cands.size == 0:
        return np.zeros(0, np.float64)
    affines = candidate_affines(source, inputs, cands, layout)
    with torch.inference_mode():
        return source_costs(dev, source, cands, affines, mismatch_cost)


def search_source(source: int, inputs: SearchInputs, dev: DeviceInputs, pool: np.ndarray,
                  min_pose_distance: float, identity: np.ndarray | None, mismatch_cost: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """All admissible candidates of one source and their exact costs, in torch.

    dev: :func:`device_inputs` of ``inputs``. Returns (candidates (K,) int64 ascending,
    costs (K,) float64), equal to :func:`pipeline.search.fast.search_source`'s.
    """
    cands = admissible(source, inputs.keypoints, inputs.torso_ok, inputs.torso_size, pool,
                       min_pose_distance, identity).astype(np.int64)
    return cands, candidate_costs(source, inputs, dev, cands, mismatch_cost)
