"""VGG16 features: loading both weight layouts from files the tests write, equality with a
hand-built conv stack, one-line errors naming loss.vgg_weights, frozen-ness, the offline default."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.models import vgg
from pipeline.models.vgg import VGGFeatures, VGGWeightsError, vgg_source

#: torchvision vgg16 ``features`` layout (config D): conv indices and their channels.
TV_CONVS = [(0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256),
            (12, 256, 256), (14, 256, 256), (17, 256, 512), (19, 512, 512), (21, 512, 512),
            (24, 512, 512), (26, 512, 512), (28, 512, 512)]


def _tv_state_dict(seed: int = 0, upto: int = len(TV_CONVS)) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for i, cin, cout in TV_CONVS[:upto]:
        sd[f"features.{i}.weight"] = torch.randn(cout, cin, 3, 3, generator=g) * (2 / (9 * cin)) ** .5
        sd[f"features.{i}.bias"] = torch.randn(cout, generator=g) * 0.1
    sd["classifier.6.bias"] = torch.zeros(1000)        # ignored, as in a real file
    return sd


def _images(b: int = 2, h: int = 32, w: int = 32, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, h, w, generator=g) * 2 - 1


def _normalised(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return ((x + 1) / 2 - mean) / std


def _hand_stack(sd: dict[str, torch.Tensor], pool: nn.Module | None = None) -> nn.Sequential:
    """conv1_1 relu conv1_2 relu pool conv2_1 relu conv2_2 relu pool conv3_1 relu, from sd."""
    def conv(i, cin, cout):
        c = nn.Conv2d(cin, cout, 3, padding=1)
        c.weight.data.copy_(sd[f"features.{i}.weight"])
        c.bias.data.copy_(sd[f"features.{i}.bias"])
        return c
    (i0, a0, b0), (i1, a1, b1), (i2, a2, b2), (i3, a3, b3), (i4, a4, b4) = TV_CONVS[:5]
    return nn.Sequential(conv(i0, a0, b0), nn.ReLU(), conv(i1, a1, b1), nn.ReLU(),
                         nn.MaxPool2d(2, 2), conv(i2, a2, b2), nn.ReLU(), conv(i3, a3, b3),
                         nn.ReLU(), nn.MaxPool2d(2, 2), conv(i4, a4, b4), nn.ReLU())


def test_torchvision_file_matches_hand_built_stack(tmp_path: Path):
    sd = _tv_state_dict()
    path = tmp_path / "vgg16.pth"
    torch.save(sd, path)
    net = VGGFeatures(str(path), layers=("relu1_2", "relu2_1", "relu3_1"))
    assert net.format == "torchvision"
    x = _images()
    out = net(x)
    assert set(out) == {"relu1_2", "relu2_1", "relu3_1"}
    assert out["relu1_2"].shape == (2, 64, 32, 32)
    assert out["relu2_1"].shape == (2, 128, 16, 16)
    assert out["relu3_1"].shape == (2, 256, 8, 8)
    stack = _hand_stack(sd)
    with torch.no_grad():
        h = _normalised(x)
        ref = {}
        for k, layer in enumerate(stack):
            h = layer(h)
            ref[k] = h
    torch.testing.assert_close(out["relu1_2"], ref[3], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out["relu2_1"], ref[6], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out["relu3_1"], ref[11], rtol=1e-5, atol=1e-5)


def test_wrapped_state_dict_and_partial_file_load(tmp_path: Path):
    sd = _tv_state_dict(upto=3)                        # conv1_1 .. conv2_1 only: enough
    path = tmp_path / "ckpt.pth"
    torch.save({"state_dict": sd, "epoch": 3}, path)
    out = VGGFeatures(path)(_images())
    assert list(out) == ["relu2_1"] and out["relu2_1"].shape == (2, 128, 16, 16)


def _st_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """The ST-LPIPS layout up to relu2_1: net.slice1.{0,2}, net.slice2.{5.filt, 6}."""
    tv = _tv_state_dict(seed, upto=3)
    blur = torch.tensor([1., 2., 1.])
    filt = (blur[:, None] * blur[None, :] / 16).expand(64, 1, 3, 3).clone()
    return {"net.slice1.0.weight": tv["features.0.weight"], "net.slice1.0.bias": tv["features.0.bias"],
            "net.slice1.2.weight": tv["features.2.weight"], "net.slice1.2.bias": tv["features.2.bias"],
            "net.slice2.5.filt": filt,
            "net.slice2.6.weight": tv["features.5.weight"], "net.slice2.6.bias": tv["features.5.bias"],
            "lin0.model.1.weight": torch.ones(1, 64, 1, 1)}


def test_shift_tolerant_file_matches_hand_built_blur_pool(tmp_path: Path):
    sd = _st_state_dict()
    path = tmp_path / "st.pth"
    torch.save(sd, path)
    net = VGGFeatures(path, scale=1.0)                 # the raw features
    assert net.format == "shift_tolerant"
    x = _images(h=64, w=64)
    got = net(x)["relu2_1"]
    assert got.shape == (2, 128, 33, 33)               # one more pixel than torchvision's 32
    with torch.no_grad():
        h = _normalised(x)
        h = F.relu(F.conv2d(h, sd["net.slice1.0.weight"], sd["net.slice1.0.bias"], padding=1))
        h = F.relu(F.conv2d(h, sd["net.slice1.2.weight"], sd["net.slice1.2.bias"], padding=1))
        h = nn.MaxPool2d(2, stride=1)(h)
        h = nn.ReflectionPad2d(2)(h)
        h = F.conv2d(h, sd["net.slice2.5.filt"], stride=2, groups=64)
        h = F.relu(F.conv2d(h, sd["net.slice2.6.weight"], sd["net.slice2.6.bias"], padding=1))
    torch.testing.assert_close(got, h, rtol=1e-5, atol=1e-5)


def test_frozen_no_parameters_no_state_but_gradients_reach_images(tmp_path: Path):
    path = tmp_path / "vgg16.pth"
    torch.save(_tv_state_dict(upto=3), path)
    net = VGGFeatures(path)
    assert list(net.parameters()) == [] and net.state_dict() == {}
    net.train()
    assert not net.training
    x = _images().requires_grad_(True)
    net(x)["relu2_1"].square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(not b.requires_grad for b in net.buffers())


def _error(weights) -> str:
    with pytest.raises(VGGWeightsError) as err:
        VGGFeatures(weights)
    msg = str(err.value)
    assert "\n" not in msg and "loss.vgg_weights" in msg
    return msg


def test_bad_files_give_one_line_errors(tmp_path: Path):
    missing = tmp_path / "nope.pth"
    assert "no such file" in _error(str(missing)) and "nope.pth" in _error(str(missing))

    text = tmp_path / "weights.txt"
    text.write_text("these are not weights\n")
    msg = _error(str(text))
    assert "weights.txt" in msg and "torch.load(weights_only=True)" in msg

    listed = tmp_path / "list.pth"
    torch.save([torch.zeros(3)], listed)
    assert "not a state dict" in _error(str(listed))

    partial = tmp_path / "partial.pth"
    sd = _tv_state_dict(upto=3)
    del sd["features.5.weight"]
    torch.save(sd, partial)
    msg = _error(str(partial))
    assert "missing keys features.5.weight" in msg and "torchvision VGG16" in msg

    shaped = tmp_path / "shaped.pth"
    sd = _tv_state_dict(upto=3)
    sd["features.2.weight"] = torch.zeros(64, 32, 3, 3)
    torch.save(sd, shaped)
    msg = _error(str(shaped))
    assert "features.2.weight has shape (64, 32, 3, 3), expected (64, 64, 3, 3)" in msg


def test_neither_weights_nor_package_names_both_options(monkeypatch):
    monkeypatch.setattr(vgg, "default_weights_path", lambda: None)
    msg = _error("")
    assert "stlpips-pytorch==0.0.2" in msg and "torchvision VGG16 state dict" in msg


def test_unknown_layer_is_refused(tmp_path: Path):
    path = tmp_path / "vgg16.pth"
    torch.save(_tv_state_dict(upto=3), path)
    with pytest.raises(ValueError, match="relu2_3"):
        VGGFeatures(path, layers=("relu2_3",))


def test_vgg_source_names_file_and_sha256(tmp_path: Path):
    import hashlib
    path = tmp_path / "vgg16.pth"
    torch.save(_tv_state_dict(upto=3), path)
    text = vgg_source(str(path))
    assert str(path) in text and hashlib.sha256(path.read_bytes()).hexdigest() in text


@pytest.mark.skipif(vgg.default_weights_path() is None,
                    reason="stlpips-pytorch (the offline default weights) is not installed")
def test_offline_default_loads():
    net = VGGFeatures("")
    assert net.format == "shift_tolerant"
    out = net(_images(h=64, w=64))["relu2_1"]
    assert out.shape == (2, 128, 33, 33) and torch.isfinite(out).all() and out.abs().max() > 0
    text = vgg_source("")
    assert "stlpips-pytorch" in text and "sha256" in text
    # the stored blur is the [1, 2, 1] x [1, 2, 1] / 16 binomial filter the code assumes
    blur = torch.tensor([1., 2., 1.])
    torch.testing.assert_close(net.blur1[0, 0], blur[:, None] * blur[None, :] / 16)


def test_feature_scale_follows_the_format_or_the_param(tmp_path: Path):
    """loss.vgg_scale: 0 takes the weights format's own factor (1 for ImageNet weights);
    an explicit factor multiplies every returned feature map."""
    path = tmp_path / "vgg16.pth"
    torch.save(_tv_state_dict(upto=3), path)
    x = _images()
    plain = VGGFeatures(str(path))
    assert plain.scale == vgg.FEATURE_SCALE["torchvision"] == 1.0
    scaled = VGGFeatures(str(path), scale=2.5)
    torch.testing.assert_close(scaled(x)["relu2_1"], 2.5 * plain(x)["relu2_1"])
    st = tmp_path / "st.pth"
    torch.save(_st_state_dict(), st)
    assert VGGFeatures(str(st)).scale == vgg.FEATURE_SCALE["shift_tolerant"]
