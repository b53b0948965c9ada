"""Peer-compatible SSIM: scikit-image with the peers' settings, and their DeepFashion padding."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from skimage import data
from skimage.metrics import structural_similarity

from pipeline.metrics.peer_ssim import PEER_SSIM_SETTINGS, PeerSSIM, pad_width, peer_ssim
from pipeline.metrics.ssim import ssim


def _pair(h: int = 64, w: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A generated-looking image of low contrast (range well below 255) and its target."""
    target = cv2.resize(data.astronaut(), (w, h), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    gen = cv2.GaussianBlur(np.roll(target, 2, axis=1), (3, 3), 0).astype(np.float64)
    gen = 40 + 0.6 * gen + rng.integers(-10, 11, gen.shape)
    return np.clip(gen, 0, 255).astype(np.uint8), target


def _by_hand(generated: np.ndarray, target: np.ndarray) -> float:
    """Pose-Transfer's ssim_score for one pair, with today's spelling of multichannel=True."""
    return structural_similarity(target, generated, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, channel_axis=-1,
                                 data_range=generated.max() - generated.min())


def test_equals_scikit_image_called_by_hand_with_the_peer_settings():
    gen, target = _pair()
    value = peer_ssim(gen, target)
    assert value == _by_hand(gen, target)
    assert gen.max() - gen.min() < 230                   # a per-image data range below 255
    assert value != ssim(gen, target)                    # so it is not the pipeline's SSIM
    assert 0.2 < value < 0.95
    assert PEER_SSIM_SETTINGS["sigma"] == 1.5 and PEER_SSIM_SETTINGS["gaussian_weights"]
    assert not PEER_SSIM_SETTINGS["use_sample_covariance"]


def test_deepfashion_padding_is_white_centred_and_changes_the_number():
    gen, target = _pair(64, 44)                          # narrower than it is tall
    padded = pad_width(gen, 64)
    assert padded.shape == (64, 64, 3)
    assert (padded[:, :10] == 255).all() and (padded[:, 54:] == 255).all()
    np.testing.assert_array_equal(padded[:, 10:54], gen)
    value = peer_ssim(gen, target, pad_to=64)
    assert value == _by_hand(padded, pad_width(target, 64))
    assert value != peer_ssim(gen, target)               # padding changes the number
    # Pose-Transfer's addBounding(bound=40) on a 256x176 image: 40 + 176 + 40 = 256
    wide = np.zeros((256, 176, 3), np.uint8)
    out = pad_width(wide, 256)
    assert out.shape == (256, 256, 3)
    assert (out[:, :40] == 255).all() and (out[:, 216:] == 255).all()
    assert (out[:, 40:216] == 0).all()
    # odd difference: the extra column goes to the right
    odd = pad_width(np.zeros((20, 17, 3), np.uint8), 20)
    assert (odd[:, :1] == 255).all() and (odd[:, 1:18] == 0).all() and (odd[:, 18:] == 255).all()
    # images at least pad_to wide are left alone
    assert peer_ssim(gen, target, pad_to=44) == peer_ssim(gen, target)
    assert pad_width(gen, 30) is gen


def test_accumulator_scores_pairs_masks_and_records_the_settings():
    gen, target = _pair(64, 44)
    masks = np.zeros((2, 64, 44), np.uint8)
    masks[:, 10:50, 8:36] = 1
    acc = PeerSSIM(pad_to=64)
    acc.update(np.stack([gen, target]), np.stack([target, target]), masks)
    res = acc.result()
    assert acc.values[0] == peer_ssim(gen, target, 64)
    assert acc.values[1] == pytest.approx(1.0, abs=1e-12)
    m = masks[0][..., None]
    assert acc.mask_values[0] == peer_ssim(gen * m, target * m, 64)
    assert res["peer_ssim"] == pytest.approx(np.mean(acc.values))
    assert res["peer_mask_ssim"] == pytest.approx(np.mean(acc.mask_values))
    assert res["pairs"] == 2 and res["undefined"] == 0
    s = res["settings"]
    assert s["pad_to"] == 64 and s["padded_pairs"] == 2 and "peer-compatible" in s["label"]
    assert "generated.max() - generated.min()" in s["data_range"]
    # without masks: no mask variant; masks then refused for consistency
    plain = PeerSSIM()
    plain.update(gen[None], target[None])
    assert plain.result()["peer_mask_ssim"] is None
    assert plain.result()["settings"]["pad_to"] is None
    with pytest.raises(ValueError, match="masks were not given before"):
        plain.update(gen[None], target[None], masks[:1])
    with pytest.raises(ValueError, match="masks must be"):
        PeerSSIM().update(gen[None], target[None], masks)


def test_a_constant_generated_image_is_undefined_not_a_number_in_the_mean():
    gen, target = _pair()
    flat = np.full_like(gen, 128)
    acc = PeerSSIM()
    acc.update(np.stack([flat, gen]), np.stack([flat, target]))
    assert math.isnan(acc.values[0])                     # 0/0 with data range 0
    res = acc.result()
    assert res["undefined"] == 1 and res["peer_ssim"] == pytest.approx(acc.values[1])


def test_bad_inputs_are_refused():
    gen, target = _pair()
    with pytest.raises(ValueError, match="uint8"):
        peer_ssim(gen.astype(np.float32), target)
    with pytest.raises(ValueError, match="differ in shape"):
        peer_ssim(gen, target[:, :32])
    with pytest.raises(ValueError, match="pad_to"):
        PeerSSIM(pad_to=0)
    with pytest.raises(ValueError, match="equal"):
        PeerSSIM().update(gen[None], target[None, :32])
