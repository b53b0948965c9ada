"""Shift-tolerant LPIPS distance of generated images to their true targets (docs/method.md §6).

ST-LPIPS [Ghildyal & Liu, ECCV 2022] is LPIPS [Zhang et al. 2018] over an anti-aliased trunk
trained from scratch on BAPPS (not ImageNet), so a shift of a pixel or two barely counts. The
weights are those of the installed ``stlpips-pytorch==0.0.2`` wheel
(``stlpips_pytorch/weights/vST0.0/{vgg,alex}_shift_tolerant.pth``), read directly: the package
itself imports torchvision and IPython, which are not installed. The forward pass follows the
package's ``LPIPS(net=..., variant="shift_tolerant", version="0.1").forward(in0, in1)``
[code, stlpips-pytorch 0.0.2 ``stlpips.py``, ``invariant_networks.py``, ``utils.py``]:

1. input: uint8 RGB ``u`` -> ``u / 127.5 - 1`` in [-1, 1] (the package's ``im2tensor``), at the
   images' own size (no resize);
2. ``ScalingLayer``: ``(x - shift) / scale`` with the shift and scale stored in the weights file
   (-0.030, -0.088, -0.188 and 0.458, 0.448, 0.450: ImageNet normalisation of a [-1, 1] image);
3. the trunk's five outputs: ``vgg`` = relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 of the
   anti-aliased VGG16 (:class:`pipeline.models.vgg.VGGFeatures`, which implements its max pool
   2x2 stride 1 + reflect-padded 3x3 binomial blur of stride 2); ``alex`` = the five ReLU
   outputs of the anti-aliased AlexNet (:func:`_alex_features`: conv 11x11 stride 1 then blur,
   max pools 3x3 stride 1 each followed by the blur);
4. per layer: features divided by their channel-wise L2 norm (+1e-10), squared difference,
   the layer's 1x1 ``lin`` conv (no bias; dropout is off in eval mode), spatial mean;
5. the sum over the five layers: one distance per pair (0 for identical images).

The module keeps the per-pair distances in :attr:`LPIPS.values` (update order), e.g. to pick
the worst, median and best pairs.
"""
from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.models.vgg import (DEFAULT_DISTRIBUTION, DEFAULT_PACKAGE, IMAGENET_MEAN, IMAGENET_STD,
                                 INSTALL_HINT, ST_BLUR_PAD, ST_BLUR_STRIDE)
from pipeline.models.vgg import WEIGHTS_KEY as VGG_WEIGHTS_KEY
from pipeline.models.vgg import (VGGFeatures, VGGWeightsError, _read_state_dict,
                                 default_weights_path, file_sha256)

#: Trunk outputs of ST-LPIPS per network [code, stlpips ``invariant_networks.vggnet`` /
#: ``alexnet`` (variant shift_tolerant) and ``LPIPS.chns``].
VGG_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
CHANNELS: dict[str, tuple[int, ...]] = {"vgg": (64, 128, 256, 512, 512),
                                        "alex": (64, 192, 384, 256, 256)}
#: Weights file per network inside the wheel's ``weights/vST0.0`` folder [code, stlpips
#: ``LPIPS.__init__``: ``weights/v%s/%s_%s.pth % ("ST0.0", net, variant)``].
FILES: dict[str, str] = {"vgg": "vgg_shift_tolerant.pth", "alex": "alex_shift_tolerant.pth"}
#: Feature normalisation epsilon [code, stlpips ``utils.normalize_tensor(eps=1e-10)``].
NORM_EPS = 1e-10

#: ST-AlexNet: (state-dict key prefix, kernel, padding) per conv, and the key of the blur
#: that follows conv 1 and the two max pools [code, invariant_networks.alexnet,
#: variant "shift_tolerant": Sequential indices 0 (conv), 1 (blur), 3 (pool), 4 (blur),
#: 5 (conv), 7 (pool), 8 (blur), 9, 11, 13 (convs)].
_ALEX_CONVS = (("net.slice1.0", 2), ("net.slice2.5", 2), ("net.slice3.9", 1),
               ("net.slice4.11", 1), ("net.slice5.13", 1))
_ALEX_BLURS = ("net.slice1.1.filt", "net.slice2.4.filt", "net.slice3.8.filt")


class LPIPSWeightsError(ValueError):
    """An ST-LPIPS weights file that cannot be used (one line: file and problem)."""


def weights_path(net: str = "vgg") -> Path:
    """The wheel's ST-LPIPS file for ``net`` ('vgg' or 'alex'); LPIPSWeightsError naming the
    pip command when stlpips-pytorch is not installed."""
    if net not in FILES:
        raise ValueError(f"LPIPS: net must be one of {', '.join(FILES)}, got {net!r}")
    vgg = default_weights_path()
    path = None if vgg is None else vgg.parent / FILES[net]
    if path is None or not path.is_file():
        raise LPIPSWeightsError(f"LPIPS: the ST-LPIPS weights {DEFAULT_PACKAGE}/weights/vST0.0/"
                                f"{FILES[net]} are not installed; run '.venv/bin/{INSTALL_HINT}'"
                                " (setup.sh does)")
    return path


def _tensor(sd: Mapping[str, torch.Tensor], key: str, shape: tuple[int, ...], path: Path
            ) -> torch.Tensor:
    if key not in sd:
        raise LPIPSWeightsError(f"LPIPS weights '{path}': missing key {key} (expected an "
                                "stlpips-pytorch 0.0.2 shift-tolerant file)")
    t = sd[key]
    if tuple(t.shape) != shape:
        raise LPIPSWeightsError(f"LPIPS weights '{path}': {key} has shape {tuple(t.shape)}, "
                                f"expected {shape}")
    return t.detach().to(torch.float32).clone()


def _blur_down(x: torch.Tensor, filt: torch.Tensor) -> torch.Tensor:
    """stlpips ``Downsample(filt_size=3, stride=2, pad_more=True)``: reflect-pad 2 px, then the
    stored depthwise 3x3 blur with stride 2."""
    x = F.pad(x, (ST_BLUR_PAD,) * 4, mode="reflect")
    return F.conv2d(x, filt.to(x.dtype), stride=ST_BLUR_STRIDE, groups=x.shape[1])


class STLPIPSDistance(nn.Module):
    """ST-LPIPS distance (module docstring): ``forward(x0, x1) -> (B,)`` for images
    ``(B, 3, H, W)`` float in [-1, 1]. net: 'vgg' or 'alex'. weights: '' = the wheel's file
    for ``net``, or a local file of the same format. Frozen: non-persistent buffers, eval mode.
    """

    def __init__(self, net: str = "vgg", weights: str | Path = "") -> None:
        super().__init__()
        if net not in FILES:
            raise ValueError(f"LPIPS: net must be one of {', '.join(FILES)}, got {net!r}")
        path = Path(weights) if str(weights) else weights_path(net)
        if not path.is_file():
            raise LPIPSWeightsError(f"LPIPS weights '{path}': no such file")
        self.net, self.weights_path = net, path
        try:
            sd = _read_state_dict(path, path)
            self.vgg = VGGFeatures(path, layers=VGG_LAYERS, scale=1.0) if net == "vgg" else None
        except VGGWeightsError as exc:
            # the VGG loader names its own params key; here the file is LPIPS's
            problem = str(exc).removeprefix(f"{VGG_WEIGHTS_KEY} = '{path}': ")
            raise LPIPSWeightsError(f"LPIPS weights '{path}': {problem}") from None
        shift = _tensor(sd, "scaling_layer.shift", (1, 3, 1, 1), path)
        scale = _tensor(sd, "scaling_layer.scale", (1, 3, 1, 1), path)
        # the VGG trunk normalises with the ImageNet statistics; they must be the stored ones
        mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
        if not (torch.allclose(shift.flatten(), 2 * mean - 1, atol=1e-6)
                and torch.allclose(scale.flatten(), 2 * std, atol=1e-6)):
            raise LPIPSWeightsError(f"LPIPS weights '{path}': the scaling layer "
                                    f"{shift.flatten().tolist()} / {scale.flatten().tolist()} "
                                    "is not ImageNet normalisation of [-1, 1] images")
        self.register_buffer("shift", shift, persistent=False)
        self.register_buffer("scale", scale, persistent=False)
        chans = CHANNELS[net]
        for k, c in enumerate(chans):
            self.register_buffer(f"lin{k}", _tensor(sd, f"lin{k}.model.1.weight", (1, c, 1, 1),
                                                    path), persistent=False)
        if net == "alex":
            shapes = ((64, 3, 11), (192, 64, 5), (384, 192, 3), (256, 384, 3), (256, 256, 3))
            for k, ((key, _), (cout, cin, ks)) in enumerate(zip(_ALEX_CONVS, shapes)):
                self.register_buffer(f"w{k}", _tensor(sd, f"{key}.weight", (cout, cin, ks, ks),
                                                      path), persistent=False)
                self.register_buffer(f"b{k}", _tensor(sd, f"{key}.bias", (cout,), path),
                                     persistent=False)
            for k, (key, c) in enumerate(zip(_ALEX_BLURS, (64, 64, 192))):
                self.register_buffer(f"blur{k}", _tensor(sd, key, (c, 1, 3, 3), path),
                                     persistent=False)
        self.requires_grad_(False)
        self.train(False)

    def train(self, mode: bool = True) -> "STLPIPSDistance":
        """Always eval mode (frozen); ``mode`` is ignored."""
        return super().train(False)

    def _alex_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five ReLU outputs of ST-AlexNet for scaled inputs (module docstring, step 3)."""
        pads = [p for _, p in _ALEX_CONVS]
        x = F.relu(_blur_down(F.conv2d(x, self.w0, self.b0, padding=pads[0]), self.blur0))
        out = [x]
        x = _blur_down(F.max_pool2d(x, kernel_size=3, stride=1), self.blur1)
        x = F.relu(F.conv2d(x, self.w1, self.b1, padding=pads[1]))
        out.append(x)
        x = _blur_down(F.max_pool2d(x, kernel_size=3, stride=1), self.blur2)
        for k in (2, 3, 4):
            x = F.relu(F.conv2d(x, getattr(self, f"w{k}"), getattr(self, f"b{k}"),
                                padding=pads[k]))
            out.append(x)
        return out

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The five trunk outputs ``(B, C_k, h_k, w_k)`` of images in [-1, 1]."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"LPIPS: images must be (B, 3, H, W), got {tuple(images.shape)}")
        if self.vgg is not None:
            # VGGFeatures normalises [-1, 1] input with the ImageNet statistics, which equal
            # the stored scaling layer (checked in __init__)
            feats = self.vgg(images)
            return [feats[name] for name in VGG_LAYERS]
        return self._alex_features((images - self.shift) / self.scale)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        """Distances ``(B,)`` of two batches ``(B, 3, H, W)`` in [-1, 1]."""
        if x0.shape != x1.shape:
            raise ValueError(f"LPIPS: batches differ in shape, {tuple(x0.shape)} and "
                             f"{tuple(x1.shape)}")
        try:
            feats = self.features(torch.cat([x0, x1]))
        except RuntimeError as exc:
            first = (str(exc).strip().splitlines() or [""])[0][:160]
            raise ValueError(f"LPIPS: {x0.shape[2]}x{x0.shape[3]} images are too small for the "
                             f"ST-{self.net} trunk ({first})") from None
        total = torch.zeros(len(x0), dtype=x0.dtype, device=x0.device)
        for k, f in enumerate(feats):
            f = f / (torch.sqrt((f * f).sum(dim=1, keepdim=True)) + NORM_EPS)
            diff = (f[:len(x0)] - f[len(x0):]) ** 2
            total = total + F.conv2d(diff, getattr(self, f"lin{k}").to(diff.dtype)).mean(
                dim=(1, 2, 3))
        return total


def _uint8_to_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """``(B, H, W, 3)`` uint8 -> ``(B, 3, H, W)`` float32 ``u / 127.5 - 1`` (stlpips im2tensor)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    return x.permute(0, 3, 1, 2).to(torch.float32) / 127.5 - 1.0


def _check(x: np.ndarray | torch.Tensor, name: str) -> np.ndarray:
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if a.ndim != 4 or a.shape[3] != 3 or a.dtype != np.uint8:
        raise ValueError(f"LPIPS: {name} must be (B, H, W, 3) uint8 RGB, got {a.shape} {a.dtype}")
    return a


class LPIPS:
    """Per-pair ST-LPIPS of generated images to their true targets, accumulated over batches.

    device, batch_size: where and in how large batches of pairs the trunk runs. net: 'vgg'
    (default) or 'alex'. weights: '' = the stlpips-pytorch wheel's file for ``net``. Lower is
    closer; 0 for identical images.
    """

    def __init__(self, device: str = "cpu", net: str = "vgg", batch_size: int = 16,
                 weights: str | Path = "") -> None:
        if int(batch_size) < 1:
            raise ValueError(f"LPIPS: batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        self.default_weights = not str(weights)
        self.distance = STLPIPSDistance(net, weights).to(self.device)
        self.sha256 = file_sha256(self.distance.weights_path)
        self.values: list[float] = []

    def __len__(self) -> int:
        return len(self.values)

    @torch.inference_mode()
    def update(self, pred: np.ndarray | torch.Tensor, true: np.ndarray | torch.Tensor,
               masks: np.ndarray | torch.Tensor | None = None) -> None:
        """Score a batch. pred, true: ``(B, H, W, 3)`` uint8 RGB of equal shape. masks:
        ignored (whole images are compared)."""
        p, t = _check(pred, "pred"), _check(true, "true")
        if p.shape != t.shape:
            raise ValueError(f"LPIPS: pred {p.shape} and true {t.shape} must have equal shapes")
        for i in range(0, len(p), self.batch_size):
            d = self.distance(_uint8_to_tensor(p[i:i + self.batch_size], self.device),
                              _uint8_to_tensor(t[i:i + self.batch_size], self.device))
            self.values += [float(v) for v in d.cpu()]

    def merge(self, other: "LPIPS") -> None:
        """Append another accumulator's pairs (e.g. from another process)."""
        self.values += other.values

    def settings(self) -> dict:
        path = self.distance.weights_path
        if self.default_weights:
            try:
                version = importlib.metadata.version(DEFAULT_DISTRIBUTION)
            except importlib.metadata.PackageNotFoundError:
                version = "unknown"
            weights = (f"{DEFAULT_DISTRIBUTION}=={version}:{DEFAULT_PACKAGE}/weights/vST0.0/"
                       f"{path.name}")
        else:
            weights = str(path)
        return {
            "function": ("ST-LPIPS (Ghildyal & Liu 2022): stlpips-pytorch LPIPS(net="
                         f"'{self.distance.net}', variant='shift_tolerant', version='0.1') "
                         "forward, re-implemented in torch (pipeline.metrics.lpips)"),
            "net": self.distance.net,
            "weights": weights,
            "sha256": self.sha256,
            "input": "uint8 RGB at its own size, u / 127.5 - 1, then the stored scaling layer",
            "layers": list(VGG_LAYERS) if self.distance.net == "vgg" else
                      ["relu1", "relu2", "relu3", "relu4", "relu5"],
            "trained_on": "BAPPS (trunk and heads), not ImageNet",
            "pairs": len(self),
            "order": "lower is closer",
        }

    def result(self) -> dict:
        """{"lpips": mean over pairs (None when none), "pairs": N, "settings"}."""
        mean = float(np.mean(self.values)) if self.values else None
        return {"lpips": mean, "pairs": len(self), "settings": self.settings()}
