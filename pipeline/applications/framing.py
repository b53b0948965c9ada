"""Framing a person of any photo size into the applications' working frame.

The networks were trained on frames in which the person stands centred and fills most of the
height (the synthetic data, like DeepFashion). A photo or a pose of another size is brought
into that layout by one crop: a box of the working frame's aspect ratio, centred on the
person's box and :data:`FILL` times taller than it (or wider, for a wide person), cut out of
the photo, padded where it leaves the photo (edge pixels repeated; label maps and masks: 0),
then resized to the working frame (``cv2.INTER_AREA`` shrinking, ``INTER_LINEAR`` enlarging).
Keypoints undergo the same crop and scale, edges to edges with pixel centres at integer
coordinates (the convention of :func:`pipeline.geometry.scale_keypoints`).

The working frame is :data:`WORK_HEIGHT` px high with the models' aspect ratio; the pair item
then resizes it to the networks' resolutions exactly as the datasets resize the stored frames.
NumPy / OpenCV only.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.geometry import visible

#: Height (px) of the working frame of photos and poses [docs/method.md §1: the field's 256 px frames,
#: in which the heatmap sigma is defined].
WORK_HEIGHT: int = 256
#: Share of the frame height (or width) the person's box fills [choice: the synthetic people's
#: silhouettes span 231 of 256 rows on average (0.90), measured on the default data].
FILL: float = 0.9
#: A pose given by keypoints only gets a box this share of its keypoint height larger on every
#: side [choice: on the default data the silhouette reaches 19 px above the nose and 21 px
#: below the ankles for a 191 px nose-to-ankle span, about 0.1 each].
POSE_MARGIN: float = 0.1


def work_frame(image_hw: tuple[int, int]) -> tuple[int, int]:
    """The working frame (H, W): :data:`WORK_HEIGHT` high, with the aspect of ``image_hw``."""
    h, w = (int(v) for v in image_hw)
    return WORK_HEIGHT, max(1, int(round(WORK_HEIGHT * w / h)))


@dataclass(frozen=True)
class Framing:
    """A crop box of a picture and the frame it is resized to.

    y0, x0: top-left pixel of the box in the picture (may be negative: padding); height,
    width: the box size in picture pixels (integers); frame_hw: the output frame (H, W).
    """

    y0: int
    x0: int
    height: int
    width: int
    frame_hw: tuple[int, int]

    @classmethod
    def around(cls, box: tuple[float, float, float, float], frame_hw: tuple[int, int],
               fill: float = FILL) -> "Framing":
        """The framing that centres ``box`` = (top, left, bottom, right) in picture pixels
        (inclusive pixel centres) and makes it fill ``fill`` of the frame's height, or of its
        width when the box is wider than the frame's aspect allows."""
        top, left, bottom, right = (float(v) for v in box)
        bh, bw = bottom - top + 1.0, right - left + 1.0
        fh, fw = (int(v) for v in frame_hw)
        h = max(bh / fill, bw / fill * fh / fw, 2.0)
        height = int(round(h))
        width = max(1, int(round(height * fw / fh)))
        cy, cx = (top + bottom) / 2.0, (left + right) / 2.0
        y0 = int(round(cy - (height - 1) / 2.0))
        x0 = int(round(cx - (width - 1) / 2.0))
        return cls(y0, x0, height, width, (fh, fw))

    @classmethod
    def letterbox(cls, picture_hw: tuple[int, int], frame_hw: tuple[int, int]) -> "Framing":
        """The whole picture, centred in the frame at the largest scale that fits."""
        ph, pw = (int(v) for v in picture_hw)
        return cls.around((0, 0, ph - 1, pw - 1), frame_hw, fill=1.0)

    @property
    def scale(self) -> float:
        """Frame pixels per picture pixel."""
        return self.frame_hw[0] / self.height

    def keypoints(self, kp: np.ndarray) -> np.ndarray:
        """(18, 2) (y, x) picture pixels -> frame pixels, float32; missing stay -1. A point
        within half a pixel left of / above the frame is clipped to 0 (it stays present)."""
        kp = np.asarray(kp, np.float64)
        fh, fw = self.frame_hw
        s = np.array([fh / self.height, fw / self.width])
        out = (kp - np.array([self.y0, self.x0]) + 0.5) * s - 0.5
        out = np.where((out < 0) & (out >= -0.5), 0.0, out)
        return np.where(visible(kp)[:, None], out, -1.0).astype(np.float32)

    def _crop(self, arr: np.ndarray, border: int, value: float = 0) -> np.ndarray:
        ph, pw = arr.shape[:2]
        top, left = max(0, -self.y0), max(0, -self.x0)
        bottom = max(0, self.y0 + self.height - ph)
        right = max(0, self.x0 + self.width - pw)
        ys, xs = max(0, self.y0), max(0, self.x0)
        inner = arr[ys:min(ph, self.y0 + self.height), xs:min(pw, self.x0 + self.width)]
        if inner.size == 0:                       # the box misses the picture entirely
            shape = (self.height, self.width) + arr.shape[2:]
            return np.full(shape, value, arr.dtype)
        if top or left or bottom or right:
            inner = cv2.copyMakeBorder(np.ascontiguousarray(inner), top, bottom, left, right,
                                       border, value=value)
        return inner

    def image(self, image: np.ndarray) -> np.ndarray:
        """(h, w, 3) uint8 picture -> (H, W, 3) uint8 frame (edge pixels repeated outside)."""
        crop = self._crop(np.asarray(image), cv2.BORDER_REPLICATE)
        fh, fw = self.frame_hw
        shrink = fh < self.height
        return cv2.resize(crop, (fw, fh),
                          interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)

    def soft_map(self, values: np.ndarray) -> np.ndarray:
        """(h, w) float map (e.g. a person probability) -> (H, W) float32, 0 outside."""
        crop = self._crop(np.asarray(values, np.float32), cv2.BORDER_CONSTANT, 0.0)
        fh, fw = self.frame_hw
        return cv2.resize(crop, (fw, fh), interpolation=cv2.INTER_LINEAR)

    def to_dict(self) -> dict:
        """The box (picture pixels) and the frame, for info.json."""
        return {"box_top": self.y0, "box_left": self.x0, "box_height": self.height,
                "box_width": self.width, "frame_hw": list(self.frame_hw)}


def keypoint_box(kp: np.ndarray, margin: float = 0.0) -> tuple[float, float, float, float]:
    """(top, left, bottom, right) of the present points, widened by ``margin`` x the box
    height on every side. Needs at least one present point."""
    kp = np.asarray(kp, np.float64)
    pts = kp[visible(kp)]
    top, left = pts.min(axis=0)
    bottom, right = pts.max(axis=0)
    pad = margin * (bottom - top)
    return top - pad, left - pad, bottom + pad, right + pad


def person_box(mask: np.ndarray, kp: np.ndarray) -> tuple[float, float, float, float]:
    """Box of a photo's person: the union of the person mask's pixels ((h, w) bool; may be
    empty) and the present keypoints (at least one)."""
    top, left, bottom, right = keypoint_box(kp)
    ys, xs = np.nonzero(np.asarray(mask, bool))
    if len(ys):
        top, bottom = min(top, ys.min()), max(bottom, ys.max())
        left, right = min(left, xs.min()), max(right, xs.max())
    return float(top), float(left), float(bottom), float(right)
