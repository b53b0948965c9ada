"""The colour models of the coarse parser (docs/coarse-parser.md, steps 3 and 5): a Gaussian
skin model in CIE Lab with a generic YCrCb fallback, and per-class Lab colour histograms.

Colours are OpenCV 8-bit Lab (L in 0..255, a and b offset by 128) or YCrCb, one row per
person pixel: (N, 3).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fewest seed pixels for a face skin model; fewer -> generic rule [choice: ~ a 5x5 patch].
MIN_SEED_PIXELS: int = 25

# Skin model.
# Robust statistics: keep this share of the seed pixels nearest their median [choice].
SKIN_SEED_KEEP: float = 0.6
# Standard-deviation floors of the Lab model (OpenCV 8-bit Lab: L in 0..255, a/b offset 128):
# shading changes L much more than chroma [choice, tuned].
SKIN_SIGMA_FLOOR: tuple[float, float, float] = (10.0, 3.0, 3.0)
# Squared Mahalanobis threshold: chi-square, 3 degrees of freedom, 0.99 quantile [choice].
SKIN_MAHALANOBIS2: float = 11.34
# Generic skin rule in YCrCb [Chai & Ngan 1999, "Face segmentation using skin-color map"]:
# 133 <= Cr <= 173 and 77 <= Cb <= 127 (OpenCV 8-bit YCrCb).
GENERIC_CR: tuple[int, int] = (133, 173)
GENERIC_CB: tuple[int, int] = (77, 127)
# Seed pixels must pass the generic rule when at least this share of the inner ellipse does
# (it removes hair and glasses from the statistics) [choice].
GENERIC_SEED_SHARE: float = 0.3
# Colour histograms: bits dropped per Lab channel (L, a, b) -> 8 x 16 x 16 bins [choice:
# coarse in lightness, which shading changes most].
COLOUR_SHIFT: tuple[int, int, int] = (5, 4, 4)
COLOUR_BINS: int = int(np.prod(256 >> np.array(COLOUR_SHIFT)))
# Share of a uniform density mixed into every histogram (unseen colours stay possible)
# [choice].
COLOUR_UNIFORM_SHARE: float = 0.05
# Largest colour log-likelihood ratio between two classes, in nats: colour can overturn a
# geometric prior only this strong [choice, tuned].
COLOUR_CLAMP: float = 3.0


def generic_skin(ycrcb: np.ndarray) -> np.ndarray:
    """The generic skin rule on ``(N, 3)`` OpenCV YCrCb pixels -> (N,) bool."""
    cr, cb = ycrcb[:, 1], ycrcb[:, 2]
    return ((cr >= GENERIC_CR[0]) & (cr <= GENERIC_CR[1])
            & (cb >= GENERIC_CB[0]) & (cb <= GENERIC_CB[1]))


@dataclass(frozen=True)
class SkinModel:
    """A Gaussian skin colour model in OpenCV 8-bit Lab: mean (3,), inverse covariance (3, 3)."""

    mean: np.ndarray
    inv_cov: np.ndarray

    @classmethod
    def fit(cls, lab: np.ndarray) -> "SkinModel":
        """Robust fit on ``(M, 3)`` Lab seed pixels (M >= 2): the :data:`SKIN_SEED_KEEP`
        share nearest the median, covariance with :data:`SKIN_SIGMA_FLOOR` floors."""
        x = np.asarray(lab, dtype=np.float64)
        med = np.median(x, axis=0)
        d = np.sum(((x - med) / np.asarray(SKIN_SIGMA_FLOOR)) ** 2, axis=1)
        keep = x[d <= np.quantile(d, SKIN_SEED_KEEP)]
        mean = keep.mean(axis=0)
        cov = np.cov(keep, rowvar=False) if len(keep) > 1 else np.zeros((3, 3))
        cov = cov + np.diag(np.square(SKIN_SIGMA_FLOOR))
        return cls(mean, np.linalg.inv(cov))

    def mahalanobis2(self, lab: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance of ``(N, 3)`` Lab pixels, (N,) float64."""
        d = np.asarray(lab, dtype=np.float64) - self.mean
        return np.einsum("ni,ij,nj->n", d, self.inv_cov, d)

    def __call__(self, lab: np.ndarray) -> np.ndarray:
        """Skin test: ``(N, 3)`` Lab -> (N,) bool."""
        return self.mahalanobis2(lab) <= SKIN_MAHALANOBIS2


def skin_pixels(lab: np.ndarray, ycrcb: np.ndarray, face_seed: np.ndarray | None,
                hand_seed: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """Step 3: which person pixels are skin, ``(N,) bool``, and the model used.

    lab, ycrcb: (N, 3) colours of the person pixels; face_seed: (N,) bool, pixels of the inner
    face ellipse (None without a face); hand_seed: (N,) bool, pixels around the wrists (None
    without one). The seed pixels that pass the generic rule (all seed pixels when too few
    do) fit a :class:`SkinModel`: 'face' when the face seed has at least
    :data:`MIN_SEED_PIXELS` pixels, else 'hands' when the generic pixels of the hand seed do,
    else the generic rule itself ('generic').
    """
    generic = generic_skin(ycrcb)
    if face_seed is not None and int(face_seed.sum()) >= MIN_SEED_PIXELS:
        seed = face_seed & generic
        if seed.sum() < max(MIN_SEED_PIXELS, GENERIC_SEED_SHARE * face_seed.sum()):
            seed = face_seed
        return SkinModel.fit(lab[seed])(lab), "face"
    if hand_seed is not None and int((hand_seed & generic).sum()) >= MIN_SEED_PIXELS:
        return SkinModel.fit(lab[hand_seed & generic])(lab), "hands"
    return generic, "generic"



def colour_codes(lab: np.ndarray) -> np.ndarray:
    """Histogram bin of ``(N, 3)`` OpenCV Lab pixels: (N,) int, :data:`COLOUR_BINS` bins."""
    q = np.asarray(lab).astype(np.int64) >> np.array(COLOUR_SHIFT)
    nb = 256 >> np.array(COLOUR_SHIFT)
    return (q[:, 0] * nb[1] + q[:, 1]) * nb[2] + q[:, 2]


def _blur_bins(hist: np.ndarray) -> np.ndarray:
    """[1, 2, 1] / 4 blur of a colour histogram along each Lab axis (mass kept inside)."""
    nb = tuple(int(n) for n in (256 >> np.array(COLOUR_SHIFT)))
    h = hist.reshape(nb)
    for axis in range(3):
        pad = [(0, 0)] * 3
        pad[axis] = (1, 1)
        hp = np.pad(h, pad, mode="edge")
        sl = [slice(None)] * 3
        parts = []
        for k in range(3):
            sl[axis] = slice(k, k + nb[axis])
            parts.append(hp[tuple(sl)])
        h = 0.25 * parts[0] + 0.5 * parts[1] + 0.25 * parts[2]
    return h.ravel()


def colour_loglik(codes: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Log-likelihood (N,) of every pixel's colour under the histogram of the seed pixels.

    codes: (N,) from :func:`colour_codes`; seed: (N,) bool. The histogram is blurred by one
    bin and mixed with a uniform share :data:`COLOUR_UNIFORM_SHARE`; a seed smaller than
    :data:`MIN_SEED_PIXELS` gives the uniform density (no colour evidence).
    """
    bins = COLOUR_BINS
    n = int(seed.sum())
    if n < MIN_SEED_PIXELS:
        return np.full(len(codes), -np.log(bins))
    hist = _blur_bins(np.bincount(codes[seed], minlength=bins).astype(np.float64)) / n
    dens = (1.0 - COLOUR_UNIFORM_SHARE) * hist + COLOUR_UNIFORM_SHARE / bins
    return np.log(dens)[codes]
