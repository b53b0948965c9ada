"""Kernel Inception Distance between generated images and their targets (docs/method.md §6).

KID [Bińkowski et al. 2018, "Demystifying MMD GANs"] is the squared maximum mean discrepancy
between the Inception-v3 pool3 features (2048-d) of the two sets, with the cubic polynomial
kernel ``k(x, y) = (x . y / d + 1)^3``, estimated without bias. Unlike FID it needs no
covariance, so its estimate is unbiased at any number of images, which makes KIDs on few images
comparable with each other and (roughly) with KIDs on many. As in the reference implementations
[code, torch-fidelity ``kid_subsets``/``kid_subset_size``, torchmetrics
``KernelInceptionDistance`` (subsets=100, subset_size=1000)], the estimate is averaged over
random subsets of ``min(N, 1000)`` pairs; its standard deviation over the subsets is reported
beside it (0 when one subset holds every image). The features are FID's
(:class:`pipeline.metrics.fid.FrechetInceptionDistance` computes both from one pass).
"""
from __future__ import annotations

import numpy as np

#: Subsets and their size [code, torchmetrics KernelInceptionDistance defaults].
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
#: Seed of the subset draws (fixed: the same features always give the same KID) [choice].
KID_SEED = 0


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(m, n) kernel matrix ``(x . y / d + 1)^3`` of features x (m, d) and y (n, d), float64."""
    d = x.shape[1]
    return (np.asarray(x, np.float64) @ np.asarray(y, np.float64).T / d + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased squared MMD of two equal-size samples x, y (m, d), m >= 2: the mean kernel
    value within each set over distinct pairs (diagonals left out), minus twice the mean
    kernel value across the sets."""
    m = len(x)
    if m < 2 or len(y) != m:
        raise ValueError(f"KID needs two samples of equal size >= 2, got {len(x)} and {len(y)}")
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within - 2.0 * kxy.mean())


def kernel_inception_distance(pred: np.ndarray, true: np.ndarray,
                              subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE,
                              seed: int = KID_SEED) -> tuple[float, float]:
    """(mean, standard deviation) of the unbiased MMD^2 over ``subsets`` random subsets of
    ``min(N, subset_size)`` rows drawn without replacement from each set (one subset, sd 0,
    when that is every row). pred, true: (N, d) and (M, d) features, N, M >= 2."""
    n = min(len(pred), len(true))
    size = min(n, subset_size)
    if size == len(pred) == len(true):
        return mmd2_unbiased(pred, true), 0.0
    rng = np.random.default_rng(seed)
    values = [mmd2_unbiased(pred[rng.choice(len(pred), size, replace=False)],
                            true[rng.choice(len(true), size, replace=False)])
              for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))
