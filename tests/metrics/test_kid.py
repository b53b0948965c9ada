"""Kernel Inception Distance (pipeline.metrics.kid): hand-computed MMD, subsets, FID's pass."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.metrics import kid as K


def test_kernel_is_the_cubic_polynomial_of_the_scaled_dot_product():
    x = np.array([[1.0, 2.0]])
    y = np.array([[3.0, -1.0], [0.0, 0.0]])
    # d = 2: (1*3 + 2*(-1)) / 2 + 1 = 1.5 -> 3.375; x . 0 = 0 -> 1
    np.testing.assert_allclose(K.polynomial_kernel(x, y), [[3.375, 1.0]])


def test_unbiased_mmd_by_hand():
    # d = 1: k(a, b) = (a b + 1)^3. x = (0, 1), y = (1, 2)
    x, y = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])
    kxx_off = 2 * (0 * 1 + 1) ** 3                         # k(0,1) twice
    kyy_off = 2 * (1 * 2 + 1) ** 3                         # k(1,2) twice = 54
    kxy = (0 + 1) ** 3 + (0 + 1) ** 3 + (1 + 1) ** 3 + (2 + 1) ** 3   # 1 + 1 + 8 + 27
    expected = (kxx_off + kyy_off) / 2 - 2 * kxy / 4
    assert K.mmd2_unbiased(x, y) == pytest.approx(expected)
    assert K.kernel_inception_distance(x, y) == (pytest.approx(expected), 0.0)


def test_the_same_distribution_scores_near_zero_and_a_shift_scores_more():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 16)), rng.normal(size=(200, 16))
    same, _ = K.kernel_inception_distance(a, b)
    shifted, _ = K.kernel_inception_distance(a, b + 0.5)
    assert abs(same) < 0.02 < shifted


def test_subsets_when_there_are_more_images_than_a_subset_holds():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(60, 8)), rng.normal(size=(60, 8)) + 0.3
    mean, sd = K.kernel_inception_distance(a, b, subsets=20, subset_size=30, seed=3)
    assert sd > 0
    assert (mean, sd) == K.kernel_inception_distance(a, b, subsets=20, subset_size=30, seed=3)
    full = K.mmd2_unbiased(a, b)
    assert abs(mean - full) < 3 * sd                      # both estimate the same MMD^2


def test_too_few_images_is_an_error():
    with pytest.raises(ValueError, match="equal size >= 2"):
        K.mmd2_unbiased(np.zeros((1, 3)), np.zeros((1, 3)))
