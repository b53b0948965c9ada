"""PCKh@alpha of predicted keypoints, as the person-generation field computes it (NumPy only).

Definition [code, Pose-Transfer (Zhu et al. CVPR 2019) `tool/calPCKH_fashion.py` and
`tool/calPCKH_market.py`, the script used by the pose-transfer papers that report PCKh]:

- **Head size**, per image, from the TRUE pose: the bounding box of the present head points
  nose (0), neck (1), and the eyes and ears (14, 15, 16, 17); its width ``w = xmax - xmin``
  and height ``h = ymax - ymin`` in pixels. An image with fewer than two present head points
  has no head size and is left out entirely (neither counted nor correct).
- **Counted points**: every point present in the truth (of an image with a head size).
- **Correct**: a counted point whose prediction is present and lies within ``alpha`` head
  sizes *per axis*: ``|x_p - x_t| < alpha * w`` and ``|y_p - y_t| < alpha * h`` (strict). A
  missing prediction is wrong.
- **PCKh** = correct / counted, pooled over all images (not a mean of per-image scores).

Differences from the textbook PCKh (MPII: Euclidean distance below ``alpha`` times the
head-segment length) are the field's, kept on purpose so the numbers compare with published
ones: the box test per axis, a head box from six points, and images without two head points
dropped. One consequence: a head box of zero width or height (head points in a vertical or
horizontal line) makes every point of that image wrong, as in Pose-Transfer. The only
difference from Pose-Transfer's script: a point is missing when either coordinate is negative
(the project's -1 marks both), where the script tests ``== -1`` per coordinate and counts the
truth's present points from y alone.
"""
from __future__ import annotations

import numpy as np

from pipeline.labels import KEYPOINT_NAMES, NUM_KEYPOINTS

#: Head points of the head size [code, Pose-Transfer `PARTS_SEL = [0, 1, 14, 15, 16, 17]`]:
#: nose, neck, both eyes, both ears (docs/method.md §1 order).
HEAD_POINTS: tuple[int, ...] = (0, 1, 14, 15, 16, 17)
#: Head points an image needs to have a head size [code, Pose-Transfer: `component_count >= 2`].
MIN_HEAD_POINTS = 2
#: The field's threshold [code, Pose-Transfer `alpha = 0.5`].
DEFAULT_ALPHA = 0.5


def _check(name: str, kp: np.ndarray) -> np.ndarray:
    a = np.asarray(kp, dtype=np.float64)
    if a.ndim != 3 or a.shape[1:] != (NUM_KEYPOINTS, 2):
        raise ValueError(f"pckh: {name} must be (N, {NUM_KEYPOINTS}, 2) (y, x) keypoints, got "
                         f"shape {a.shape}")
    return a


def head_sizes(true: np.ndarray) -> np.ndarray:
    """(N, 18, 2) true keypoints -> (N, 2) float64 head size (h, w) in pixels: the extent of
    the present :data:`HEAD_POINTS` in y and x; NaN where fewer than two are present."""
    t = _check("true", true)
    head = t[:, HEAD_POINTS]                               # (N, 6, 2)
    present = (head >= 0).all(-1)                          # (N, 6)
    lo = np.where(present[..., None], head, np.inf).min(1)
    hi = np.where(present[..., None], head, -np.inf).max(1)
    size = hi - lo
    size[present.sum(1) < MIN_HEAD_POINTS] = np.nan
    return size


def pckh(pred: np.ndarray, true: np.ndarray, alpha: float = DEFAULT_ALPHA) -> dict:
    """PCKh@alpha of ``pred`` against ``true`` (see the module docstring).

    pred, true: (N, 18, 2) (y, x) pixels of the same frame, -1 = missing. alpha: share of the
    head size (0.5 = PCKh@0.5).
    Returns ``{"pckh": float | None (None when nothing is counted), "correct": int,
    "counted": int, "per_joint": [18 x (float | None)] (correct / counted per keypoint, in
    docs/method.md §1 order; None where that point is never counted), "images": int (images with a head
    size), "no_head_size": int (images left out)}``.
    """
    p, t = _check("pred", pred), _check("true", true)
    if p.shape != t.shape:
        raise ValueError(f"pckh: pred {p.shape} and true {t.shape} differ in shape")
    if not alpha > 0:
        raise ValueError(f"pckh: alpha must be > 0, got {alpha}")
    size = head_sizes(t)                                   # (N, 2) h, w
    has_head = np.isfinite(size).all(1)
    t_present = (t >= 0).all(-1) & has_head[:, None]       # (N, 18) counted
    p_present = (p >= 0).all(-1)
    with np.errstate(invalid="ignore"):
        close = (np.abs(p - t) < alpha * size[:, None, :]).all(-1)
    correct = t_present & p_present & close
    counted_j = t_present.sum(0)
    correct_j = correct.sum(0)
    counted, right = int(counted_j.sum()), int(correct_j.sum())
    return {
        "pckh": right / counted if counted else None,
        "correct": right,
        "counted": counted,
        "per_joint": [float(c) / n if n else None for c, n in zip(correct_j, counted_j)],
        "images": int(has_head.sum()),
        "no_head_size": int((~has_head).sum()),
    }


def per_joint_by_name(result: dict) -> dict[str, float | None]:
    """The ``per_joint`` list of a :func:`pckh` result keyed by keypoint name (metrics files)."""
    return dict(zip(KEYPOINT_NAMES, result["per_joint"]))


class PckhScores:
    """Accumulates keypoints over batches and scores them at the end (the ``update`` /
    ``result`` shape of every metric accumulator): ``result()`` is :func:`pckh` of everything
    added, so counts are pooled over batches as over images; ``len()`` is the number of
    batches added.

    >>> s = PckhScores(); s.update(pred, true); s.result()["pckh"]
    """

    def __init__(self, alpha: float = DEFAULT_ALPHA) -> None:
        self.alpha = float(alpha)
        self._pred: list[np.ndarray] = []
        self._true: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._true)

    def update(self, pred: np.ndarray, true: np.ndarray) -> None:
        """Add (B, 18, 2) predicted and true keypoints (y, x) of the same frame, -1 = missing."""
        p, t = _check("pred", pred), _check("true", true)
        if p.shape != t.shape:
            raise ValueError(f"pckh: pred {p.shape} and true {t.shape} differ in shape")
        self._pred.append(p)
        self._true.append(t)

    def result(self) -> dict:
        """:func:`pckh` of every keypoint added so far."""
        empty = np.zeros((0, NUM_KEYPOINTS, 2))
        pred = np.concatenate(self._pred) if self._pred else empty
        true = np.concatenate(self._true) if self._true else empty
        return pckh(pred, true, self.alpha)
