"""uint8 conversion of network images, L1, and the per-pair image score accumulator."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.datasets.transforms import image_to_tensor
from pipeline.metrics.images import ImageScores, to_uint8
from pipeline.metrics.l1 import l1
from pipeline.metrics.ssim import mask_ssim, ssim


def test_to_uint8_edges_and_rounding():
    x = torch.tensor([-1.0, 1.0, -3.0, 2.5, 0.0, 127.49 / 127.5 - 1, 127.51 / 127.5 - 1,
                      -1 + 0.49 / 127.5, -1 + 0.51 / 127.5])
    u = to_uint8(x.view(1, 1, 1, -1).expand(1, 3, 1, -1))
    assert u.dtype == np.uint8 and u.shape == (1, 1, 9, 3)
    # 127.5 (x = 0, the one exact half step) rounds up; beyond [-1, 1] saturates
    assert u[0, 0, :, 0].tolist() == [0, 255, 0, 255, 128, 127, 128, 0, 1]
    assert (u[..., 0] == u[..., 2]).all()


def test_to_uint8_inverts_image_to_tensor_and_keeps_channel_order():
    img = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    img[..., 1] = 255 - img[..., 1]
    img[..., 2] = 7
    back = to_uint8(image_to_tensor(img)[None].double())[0]
    np.testing.assert_array_equal(back, img)
    np.testing.assert_array_equal(to_uint8(image_to_tensor(img)[None])[0], img)


def test_to_uint8_refuses_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        to_uint8(torch.full((1, 3, 2, 2), float("nan")))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        to_uint8(torch.zeros(3, 4, 4))


def test_l1_units():
    black = np.zeros((4, 4, 3), np.uint8)
    white = np.full((4, 4, 3), 255, np.uint8)
    assert l1(black, white) == 1.0 and l1(white, white) == 0.0
    a = black.copy()
    a[0, 0, 0] = 51                               # one of 48 values off by 0.2
    assert l1(a, black) == pytest.approx(0.2 / 48)
    with pytest.raises(ValueError, match="uint8"):
        l1(a.astype(np.float32), black)


def _images(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, 1, 1, 3))
    return np.clip(base + rng.integers(-40, 41, (n, 32, 32, 3)), 0, 255).astype(np.uint8)


def test_accumulator_means_over_pairs_and_batches():
    pred, true = _images(5, 0), _images(5, 1)
    masks = np.zeros((5, 32, 32), np.float32)
    masks[:, 8:24, 10:20] = 1
    s = ImageScores()
    s.update(torch.from_numpy(pred[:2]), torch.from_numpy(true[:2]), torch.from_numpy(masks[:2]))
    s.update(pred[2:], true[2:], masks[2:])
    expect = {"ssim": [ssim(p, t) for p, t in zip(pred, true)],
              "mask_ssim": [mask_ssim(p, t, m) for p, t, m in zip(pred, true, masks)],
              "l1": [l1(p, t) for p, t in zip(pred, true)]}
    assert s.ssim_values == expect["ssim"]
    assert s.mask_ssim_values == expect["mask_ssim"]
    r = s.result()
    assert r["pairs"] == 5 and len(s) == 5
    for key, values in expect.items():
        assert r[key] == round(float(np.mean(values)), 4)
    other = ImageScores()
    other.update(true[:1], true[:1], masks[:1])
    s.merge(other)
    assert s.result()["pairs"] == 6 and s.ssim_values[-1] == pytest.approx(1.0)
    assert s.l1_values[-1] == 0.0


def test_accumulator_empty_and_bad_shapes():
    s = ImageScores()
    assert s.result() == {"ssim": None, "mask_ssim": None, "l1": None, "pairs": 0}
    img = _images(2, 0)
    with pytest.raises(ValueError, match="must be equal"):
        s.update(img, img[:1], np.ones((2, 32, 32)))
    with pytest.raises(ValueError, match="masks must be"):
        s.update(img, img, np.ones((2, 1, 32, 32)))
    with pytest.raises(ValueError, match="0 or 1"):
        s.update(img, img, np.full((2, 32, 32), 0.5))
