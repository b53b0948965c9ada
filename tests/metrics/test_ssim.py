"""SSIM and mask-SSIM with the docs/method.md §6 settings."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data
from skimage.metrics import structural_similarity

from pipeline.metrics.ssim import SSIM_SETTINGS, mask_ssim, ssim


def _pair() -> tuple[np.ndarray, np.ndarray]:
    """A real photograph at 64x64 and a blurred, noisy, shifted copy of it."""
    a = cv2.resize(data.astronaut(), (64, 64), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    b = cv2.GaussianBlur(np.roll(a, 2, axis=1), (3, 3), 0).astype(np.int16)
    b = np.clip(b + rng.integers(-12, 13, b.shape), 0, 255).astype(np.uint8)
    return a, b


def test_equals_scikit_image_with_the_explicit_settings():
    a, b = _pair()
    expected = structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=255,
                                     channel_axis=-1)
    value = ssim(a, b)
    assert value == expected
    assert 0.2 < value < 0.95                       # a real, imperfect match
    # other settings give another number: the settings matter and are the ones recorded
    assert structural_similarity(a, b, data_range=255, channel_axis=-1) != value
    assert SSIM_SETTINGS["sigma"] == 1.5 and SSIM_SETTINGS["data_range"] == 255
    assert SSIM_SETTINGS["gaussian_weights"] and not SSIM_SETTINGS["use_sample_covariance"]


def test_identical_images_give_one():
    a, b = _pair()
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    assert mask_ssim(b, b, np.random.default_rng(1).integers(0, 2, (64, 64))) == \
        pytest.approx(1.0, abs=1e-12)


def test_mask_ssim_multiplies_both_images_by_the_mask():
    a, b = _pair()
    assert mask_ssim(a, b, np.ones((64, 64), bool)) == ssim(a, b)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 20:44] = 1
    m = mask[..., None]
    assert mask_ssim(a, b, mask) == ssim(a * m, b * m)
    assert mask_ssim(a, b, mask) != ssim(a, b)
    # differences outside the mask do not count
    c = a.copy()
    c[mask == 0] = 255 - c[mask == 0]
    assert mask_ssim(a, c, mask.astype(np.float32)) == pytest.approx(1.0, abs=1e-12)
    assert ssim(a, c) < 0.5


def test_bad_inputs_are_refused():
    a, b = _pair()
    with pytest.raises(ValueError, match="uint8"):
        ssim(a.astype(np.float32), b)
    with pytest.raises(ValueError, match="differ in shape"):
        ssim(a, b[:32])
    with pytest.raises(ValueError, match="window"):
        ssim(a[:8, :8], b[:8, :8])
    with pytest.raises(ValueError, match="0 or 1"):
        mask_ssim(a, b, np.full((64, 64), 2))
    with pytest.raises(ValueError, match="mask must be"):
        mask_ssim(a, b, np.ones((32, 32)))
