"""IS / mask-IS: the formula against NumPy, the not-computed case, a local TorchScript file."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.metrics.inception import InceptionWeightsError
from pipeline.metrics.inception_score import InceptionScore, inception_score

# the tests write TorchScript files, the format the IS weights are documented in
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*torch.jit.script.* is deprecated:DeprecationWarning")


def _numpy_is(logits: np.ndarray, splits: int) -> tuple[float, float]:
    """OpenAI's formula written out independently: softmax, KL to the split's marginal."""
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    n, scores = len(p), []
    for k in range(splits):
        part = p[k * n // splits:(k + 1) * n // splits]
        py = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part) - np.log(py)), axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def test_formula_equals_an_independent_numpy_computation():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (50, 10))
    for splits in (1, 3, 7):
        mean, std = inception_score(logits, splits)
        ref_mean, ref_std = _numpy_is(logits, splits)
        assert mean == pytest.approx(ref_mean, rel=1e-12)
        assert std == pytest.approx(ref_std, rel=1e-9, abs=1e-12)
    assert inception_score(logits, 1)[1] == 0.0
    assert inception_score(logits, 3)[1] > 0.0


def test_formula_limits():
    # the same distribution for every image: IS = 1
    same = np.tile(np.array([[1.0, 2.0, 0.5, -1.0]]), (12, 1))
    assert inception_score(same)[0] == pytest.approx(1.0, abs=1e-12)
    # confident and spread evenly over C = 4 classes: IS = C
    confident = np.full((12, 4), -50.0)
    confident[np.arange(12), np.arange(12) % 4] = 50.0
    assert inception_score(confident)[0] == pytest.approx(4.0, rel=1e-9)
    with pytest.raises(ValueError, match="splits"):
        inception_score(same, splits=13)
    with pytest.raises(ValueError, match="C >= 2"):
        inception_score(np.zeros((3, 1)))


def _pairs(n: int = 6, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    colour = rng.integers(0, 256, (n, 1, 1, 3))          # one colour per image, plus noise
    pred = np.clip(colour + rng.integers(-40, 41, (n, 40, 32, 3)), 0, 255).astype(np.uint8)
    true = rng.integers(0, 256, (n, 40, 32, 3), dtype=np.uint8)
    masks = np.zeros((n, 40, 32), np.uint8)
    masks[:, 8:32, 6:26] = 1
    return pred, true, masks


def test_without_weights_nothing_is_computed_and_no_number_is_reported():
    pred, true, masks = _pairs()
    for masked in (False, True):
        acc = InceptionScore(masked=masked)
        acc.update(pred, true, masks)
        res = acc.result()
        assert res["is"] is None and res["computed"] is False and res["is_std"] is None
        assert "no offline package" in res["reason"] and res["images"] == len(pred)
        assert res["settings"]["masked"] is masked and res["settings"]["sha256"] is None
        assert acc.logits == []
    with pytest.raises(ValueError, match="masks"):
        InceptionScore(masked=True).update(pred, true)


class _TinyLogits(nn.Module):
    """A stand-in logits network: pooled colour statistics -> 5 classes."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.linear = nn.Linear(6, 5)
        with torch.no_grad():
            self.linear.weight.copy_(torch.randn(5, 6, generator=gen) * 4)
            self.linear.bias.copy_(torch.randn(5, generator=gen))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stats = torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], dim=1)
        return self.linear(stats)


def _plain_input(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    return F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) * 2 - 1


def test_a_local_torchscript_file_is_loaded_and_scored(tmp_path):
    net = _TinyLogits().eval()
    path = tmp_path / "logits.pt"
    torch.jit.script(net).save(str(path))
    pred, true, masks = _pairs(7)
    with torch.no_grad():
        logits = net(_plain_input(pred)).double().numpy()
        masked_logits = net(_plain_input(pred * masks[..., None])).double().numpy()

    acc = InceptionScore(weights=str(path), batch_size=3, splits=2)
    acc.update(pred[:4], true[:4], masks[:4])
    acc.update(pred[4:], true[4:], masks[4:])
    res = acc.result()
    assert res["computed"] and res["images"] == 7
    mean, std = _numpy_is(logits, 2)
    assert res["is"] == pytest.approx(mean, rel=1e-5) and res["is_std"] == pytest.approx(
        std, rel=1e-4, abs=1e-6)
    assert 1.0 < res["is"] < 5.0
    assert res["settings"]["weights"] == str(path) and len(res["settings"]["sha256"]) == 64
    assert res["settings"]["splits"] == 2 and res["settings"]["input_size"] == [299, 299]

    macc = InceptionScore(weights=str(path), masked=True)
    macc.update(pred, true, masks)
    mres = macc.result()
    assert mres["is"] == pytest.approx(_numpy_is(masked_logits, 1)[0], rel=1e-5)
    assert mres["is"] != pytest.approx(_numpy_is(logits, 1)[0], rel=1e-3)
    assert mres["settings"]["masked"] is True

    few = InceptionScore(weights=str(path), splits=10)
    few.update(pred, true)
    assert few.result()["is"] is None and "fewer than splits" in few.result()["reason"]


def test_bad_weights_files_are_one_line_errors(tmp_path):
    with pytest.raises(InceptionWeightsError, match="no such file"):
        InceptionScore(weights=str(tmp_path / "absent.pt"))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not torchscript")
    with pytest.raises(InceptionWeightsError, match="not a TorchScript file") as err:
        InceptionScore(weights=str(bad))
    assert "\n" not in str(err.value)

    class OneLogit(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.mean(dim=(1, 2, 3)).unsqueeze(1)

    one = tmp_path / "one.pt"
    torch.jit.script(OneLogit()).save(str(one))
    pred, true, _ = _pairs(2)
    acc = InceptionScore(weights=str(one))
    with pytest.raises(InceptionWeightsError, match="C >= 2"):
        acc.update(pred, true)
