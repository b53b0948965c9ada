"""The exact cost of docs/method.md §4 in torch, batched over candidates, on CPU or CUDA.

Same cost as :mod:`pipeline.search.kernel`, bit for bit: for every output pixel (y, x) of
part j, the candidate's label if the pixel is in B^j_{P_c} (else 0) is compared with the
source's label at the nearest sample of f_j, taken only if that sample is inside the frame
and in B^j_{P_s} (else 0). The sample uses the numba kernel's float64 expressions in the
same order (each torch op rounds once; no fused multiply-add)::

    sx = (a00 * x + a01 * y) + a02;  fx = floor(sx + 0.5);  inside: 0 <= fx < w (same for y)

and the cost is ``float(n_single) + mismatch_cost * float(n_mismatch)`` from integer pixel
counts, as the kernel combines them. Unlike the kernel it visits every pixel of the frame
(fixed shapes batch well); pixels outside the kernel's boxes cost 0, so the sums agree.
Everything is float64 on every device so CPU and CUDA give the same bits.

Memory is linear in the number of candidates: they are processed ``chunk`` at a time, and a
chunk's temporaries are ``chunk x h x w`` per part (never N x N x H x W).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pipeline.geometry import NUM_PARTS
from pipeline.search.inputs import SearchInputs

#: Output pixels (candidates x h x w) per part and chunk [choice, not tuned]: 2**20 = 256
#: candidates at 64x64, 8 MB per float64 temporary on CPU; 2**24 = 4,096 candidates, 128 MB
#: per temporary on CUDA (about a dozen live temporaries: a few GB, far below a GPU's memory).
CHUNK_PIXELS = {"cpu": 2 ** 20, "cuda": 2 ** 24}


@dataclass
class DeviceInputs:
    """The maps of every image on one torch device (read by :func:`source_costs`).

    labels: (N, h, w) uint8; parts: (N, h, w) int16 part bitfield (bit j = part j; 10 bits
    fit int16, which torch's bitwise ops support); ys, xs: (h, 1), (1, w) float64 pixel rows
    and columns (the kernel's ``float(y)``, ``float(x)``).
    """

    labels: torch.Tensor
    parts: torch.Tensor
    ys: torch.Tensor
    xs: torch.Tensor
    device: torch.device

    @classmethod
    def from_inputs(cls, inputs: SearchInputs, device: torch.device) -> DeviceInputs:
        """Copy (CUDA) or wrap without copying (CPU) the maps of ``inputs``."""
        h, w = inputs.shape
        labels = torch.from_numpy(np.ascontiguousarray(inputs.labels)).to(device)
        parts = torch.from_numpy(np.ascontiguousarray(inputs.parts).view(np.int16)).to(device)
        ys = torch.arange(h, dtype=torch.float64, device=device)[:, None]
        xs = torch.arange(w, dtype=torch.float64, device=device)[None, :]
        return cls(labels, parts, ys, xs, device)


def chunk_size(device: torch.device, h: int, w: int) -> int:
    """Candidates per chunk on ``device`` (:data:`CHUNK_PIXELS` / pixels per map, >= 1)."""
    return max(1, CHUNK_PIXELS["cuda" if device.type == "cuda" else "cpu"] // (h * w))


def _source_tables(dev: DeviceInputs, source: int) -> torch.Tensor:
    """(10, h*w + 1) uint8: the source's label inside part j, 0 outside; the extra last
    column (index h*w) is the 0 read by samples outside the frame."""
    lab = dev.labels[source].reshape(-1)
    bits = dev.parts[source].reshape(-1)
    out = torch.zeros((NUM_PARTS, lab.numel() + 1), dtype=torch.uint8, device=dev.device)
    for j in range(NUM_PARTS):
        out[j, :-1] = torch.where((bits & (1 << j)) != 0, lab, 0)
    return out


def _chunk_counts(dev: DeviceInputs, table: torch.Tensor, cands: torch.Tensor,
                  affines: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer (n_single, n_mismatch) of a chunk of C candidates.

    table: (10, h*w + 1) from :func:`_source_tables`; cands: (C,) int64 rows; affines:
    (C, 10, 2, 3) float64 on the device. Returns two (C,) int64.
    """
    _, h, w = dev.labels.shape
    c_lab = dev.labels[cands]                                   # (C, h, w) uint8
    c_bits = dev.parts[cands]                                   # (C, h, w) int16
    n_single = torch.zeros(len(cands), dtype=torch.int64, device=dev.device)
    n_mismatch = torch.zeros_like(n_single)
    outside = h * w
    for j in range(NUM_PARTS):
        a = affines[:, j]                                       # (C, 2, 3)
        a00, a01, a02 = (a[:, 0, i, None, None] for i in range(3))
        a10, a11, a12 = (a[:, 1, i, None, None] for i in range(3))
        fx = torch.floor(((a00 * dev.xs + a01 * dev.ys) + a02) + 0.5)   # (C, h, w) float64
        fy = torch.floor(((a10 * dev.xs + a11 * dev.ys) + a12) + 0.5)
        inside = (fx >= 0) & (fx < w) & (fy >= 0) & (fy < h)
        # flat index of the sample (exact: small integers in float64), or the 0 column
        flat = torch.where(inside, fy * w + fx, float(outside)).to(torch.int64)
        lb = table[j][flat]                                     # (C, h, w) uint8
        la = torch.where((c_bits & (1 << j)) != 0, c_lab, 0)    # (C, h, w) uint8
        differ = la != lb
        both = (la != 0) & (lb != 0)
        n_mismatch += (differ & both).sum(dim=(1, 2))
        n_single += (differ & ~both).sum(dim=(1, 2))
    return n_single, n_mismatch


def source_costs(dev: DeviceInputs, source: int, cands: np.ndarray, affines: np.ndarray,
                 mismatch_cost: float) -> np.ndarray:
    """Costs of one source against K candidates; equal bit for bit to
    :func:`pipeline.search.kernel.source_costs`.

    dev: every image's maps on the device; source: row of the source; cands: (K,) int64 rows;
    affines: (K, 10, 2, 3) float64 f_j of each pair (candidate frame -> source frame).
    Returns (K,) float64 (numpy, on the host).
    """
    out = np.empty(len(cands), np.float64)
    if len(cands) == 0:
        return out
    _, h, w = dev.labels.shape
    table = _source_tables(dev, int(source))
    step = chunk_size(dev.device, h, w)
    for lo in range(0, len(cands), step):
        c = torch.from_numpy(np.ascontiguousarray(cands[lo:lo + step], np.int64)).to(dev.device)
        a = torch.from_numpy(np.ascontiguousarray(affines[lo:lo + step], np.float64)
                             ).to(dev.device)
        n_single, n_mismatch = _chunk_counts(dev, table, c, a)
        # the kernel's expression: float(n_single) + mismatch_cost * float(n_mismatch)
        cost = n_single.to(torch.float64) + float(mismatch_cost) * n_mismatch.to(torch.float64)
        out[lo:lo + len(c)] = cost.cpu().numpy()
    return out
