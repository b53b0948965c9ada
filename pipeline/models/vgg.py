"""Frozen VGG16 features for the content and style losses (docs/method.md §5), torch only (no torchvision).

The authors' perceptual network stops at relu2_1 and returns that one layer; their content loss
(MSE of features) and their style loss (Gram matrices per region) both read it [code, SPT demo
``models/VGG_multi.py``: ``slice1 = features[0:4]``, ``slice2 = features[4:7]``, ``forward``
returns ``h_relu2_1``]. :class:`VGGFeatures` computes any of VGG16's 13 ReLU outputs
(``relu1_1`` ... ``relu5_3``, :data:`LAYER_NAMES`); it builds only the layers up to the deepest
one asked for.

Two layer layouts, decided by the weights file:

- ``torchvision``: plain VGG16 (3x3 convs, padding 1, max pool 2x2 stride 2), a state dict of
  ``torchvision.models.vgg16`` (keys ``features.<i>.weight`` / ``.bias`` at torchvision's
  ``features`` indices, :data:`TORCHVISION_CONV_INDEX`). Keys of layers deeper than needed and
  ``classifier.*`` are ignored. A dict ``{"state_dict": <that state dict>}`` (the usual training
  checkpoint wrapper) is accepted too [choice].
- ``shift_tolerant``: the anti-aliased VGG16 of ST-LPIPS (Ghildyal & Liu, ECCV 2022), as
  ``stlpips-pytorch==0.0.2`` ships it in ``stlpips_pytorch/weights/vST0.0/vgg_shift_tolerant.pth``
  (keys ``net.slice<k>.<i>.weight`` / ``.bias`` and the blur filters ``net.slice<k>.<i>.filt``).
  Its code (``models_lpf/vgg.py`` ``make_layers(..., filter_size=3, pad_more=True)`` and
  ``models_lpf/downsample.py`` ``Downsample``) replaces each max pool by ``MaxPool2d(2,
  stride=1)`` followed by a depthwise blur with the stored 3x3 filter ([1, 2, 1] x [1, 2, 1] / 16),
  reflection padding of 2 px on every side, stride 2. So each "pool" adds one layer index, and
  the feature maps are one pixel larger than torchvision's: 33x33 at relu2_1 for a 64x64 input.
  The package feeds the trunk the LPIPS ``ScalingLayer`` output, which is exactly ImageNet
  normalisation of a [-1, 1] image (shift = 2 mean - 1, scale = 2 std), the same input as here.

Input: images (B, 3, H, W) float in [-1, 1]; converted inside to [0, 1] and normalised with the
ImageNet mean and std [torchvision's VGG16 convention] (``input_range="imagenet"``), or, as the
authors' demo does (``"authors"``, ``loss.vgg_input``), normalised with the ImageNet mean and
std straight from [-1, 1] [code, SPT demo ``models/Normalization.py``: ``(img - mean) / std``
on the [-1, 1] tensor], which doubles the input's contrast and shifts it by about -0.45 / std:
features larger than a correctly normalised VGG gives, on which the authors' content (0.03) and
style (1) weights were set. Output: ``{layer: (B, C, h, w)}``.

Frozen by construction: the weights are NON-PERSISTENT BUFFERS, so ``parameters()`` and
``state_dict()`` are empty (no optimiser and no checkpoint of a module that holds this one can
contain them), ``.to(device)`` moves them, and :meth:`VGGFeatures.train` keeps eval mode.
Gradients flow through the features to the input images.

Where the weights come from (``loss.vgg_weights``): a path loads that file with
``torch.load(weights_only=True)`` (either layout, recognised by its keys); ``''`` loads the
offline default, the ST-LPIPS file, located through ``importlib.util.find_spec`` without
importing the package (it imports torchvision and IPython). A bad file raises
:class:`VGGWeightsError`, one line naming the file, ``loss.vgg_weights`` and the problem.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.torch_utils.misc import assert_shape

#: The params key that names a local weights file (errors name it).
WEIGHTS_KEY = "loss.vgg_weights"
#: The layer the authors' content and style losses read [code, SPT demo VGG_multi.py].
DEFAULT_LAYERS: tuple[str, ...] = ("relu2_1",)
#: Input conventions (``loss.vgg_input``): see the module docstring.
VGG_INPUTS: tuple[str, ...] = ("imagenet", "authors")

#: VGG16 ("configuration D"): conv output channels per block [Simonyan & Zisserman 2015;
#: torchvision ``cfgs["D"]``]; every block ends with a 2x2 pool.
VGG16_BLOCKS: tuple[tuple[int, ...], ...] = (
    (64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
#: The 13 ReLU outputs, in order: relu<block>_<conv>.
LAYER_NAMES: tuple[str, ...] = tuple(
    f"relu{b + 1}_{k + 1}" for b, convs in enumerate(VGG16_BLOCKS) for k in range(len(convs)))

#: ImageNet statistics of [0, 1] RGB images [torchvision's VGG16 weights; equal to the LPIPS
#: ScalingLayer's shift -0.030, -0.088, -0.188 and scale 0.458, 0.448, 0.450 on [-1, 1]].
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

#: The offline default [docs/method.md §7]: ST-LPIPS's VGG16, inside the stlpips-pytorch wheel.
DEFAULT_PACKAGE = "stlpips_pytorch"
DEFAULT_DISTRIBUTION = "stlpips-pytorch"
DEFAULT_VERSION = "0.0.2"
DEFAULT_FILE = "weights/vST0.0/vgg_shift_tolerant.pth"
INSTALL_HINT = f"pip install --no-deps {DEFAULT_DISTRIBUTION}=={DEFAULT_VERSION}"

#: Shift-tolerant pooling [code, stlpips-pytorch 0.0.2 models_lpf/downsample.py, Downsample
#: with filt_size=3, stride=2, pad_type='reflect', pad_more=True]: max pool 2x2 stride 1, then
#: reflection pad (filt_size - 1) = 2 px on every side, then the depthwise blur with stride 2.
ST_BLUR_PAD = 2
ST_BLUR_STRIDE = 2
ST_BLUR_SIZE = 3

FORMATS = ("torchvision", "shift_tolerant")
#: Factor on the returned features per weights format, so that the authors' loss weights
#: (chosen for ImageNet VGG16) meet features of a comparable scale. torchvision (ImageNet): 1.
#: shift_tolerant (the offline default): 1 / 0.1172, the RMS of its relu2_1 activations over the
#: 288 default training images at 64x64 (0.089 at 256x256), so that its features have unit RMS
#: [choice; docs/losses.md ("Perceptual features") has the measurements behind it].
FEATURE_SCALE: dict[str, float] = {"torchvision": 1.0, "shift_tolerant": 8.53}


class VGGWeightsError(ValueError):
    """A VGG16 weights file that cannot be used (one line: file, params key, problem)."""


def _conv_layers() -> list[tuple[str, int, int, int, int]]:
    """(relu name, in channels, out channels, block index, conv index in block) per conv."""
    out, cin = [], 3
    for b, convs in enumerate(VGG16_BLOCKS):
        for k, cout in enumerate(convs):
            out.append((f"relu{b + 1}_{k + 1}", cin, cout, b, k))
            cin = cout
    return out


def _layer_indices(fmt: str) -> tuple[dict[str, int], dict[int, int]]:
    """Index of each conv (by relu name) and of each blur (by block) in ``features``.

    torchvision: conv, relu per conv and one max pool per block. shift_tolerant: one more
    layer per pool (max pool stride 1, then the blur ``Downsample``) [code, models_lpf/vgg.py].
    """
    conv, blur, i = {}, {}, 0
    for b, convs in enumerate(VGG16_BLOCKS):
        for k in range(len(convs)):
            conv[f"relu{b + 1}_{k + 1}"] = i
            i += 2
        if fmt == "shift_tolerant":
            blur[b] = i + 1
            i += 2
        else:
            i += 1
    return conv, blur


#: torchvision ``features`` index of every conv, by its relu name (0, 2, 5, 7, 10, ...).
TORCHVISION_CONV_INDEX: dict[str, int] = _layer_indices("torchvision")[0]
#: ST-LPIPS slices [code, stlpips-pytorch invariant_networks.vggnet]: slice k holds the
#: ``features`` indices [start, stop).
_ST_SLICES: tuple[tuple[int, int], ...] = ((0, 4), (4, 10), (10, 18), (18, 26), (26, 34))


def _st_prefix(index: int) -> str:
    for k, (lo, hi) in enumerate(_ST_SLICES):
        if lo <= index < hi:
            return f"net.slice{k + 1}.{index}"
    raise AssertionError(index)


def _key(fmt: str, index: int) -> str:
    return f"features.{index}" if fmt == "torchvision" else _st_prefix(index)


def _bad(path: Path | str, problem: str) -> VGGWeightsError:
    return VGGWeightsError(f"{WEIGHTS_KEY} = '{path}': {problem}")


def default_weights_path() -> Path | None:
    """The ST-LPIPS VGG16 file inside the installed stlpips-pytorch, or None when it is not
    installed (found with ``importlib.util.find_spec``: the package is never imported)."""
    try:
        spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / DEFAULT_FILE
        if path.is_file():
            return path
    return None


def resolve_weights(weights: str | Path = "") -> Path:
    """The file to load: ``weights`` when given, else the offline default.

    Raises :class:`VGGWeightsError` naming both options when neither is available.
    """
    if str(weights):
        path = Path(weights)
        if not path.is_file():
            raise _bad(weights, "no such file (give a torchvision VGG16 state dict, or '' for "
                                f"the offline default from {DEFAULT_DISTRIBUTION})")
        return path
    path = default_weights_path()
    if path is None:
        raise VGGWeightsError(
            f"{WEIGHTS_KEY} = '': no VGG16 weights: the offline default needs "
            f"{DEFAULT_DISTRIBUTION}=={DEFAULT_VERSION} ({INSTALL_HINT}; setup.sh installs it), "
            f"or set {WEIGHTS_KEY} to a local torchvision VGG16 state dict (docs/losses.md, "
            "'Perceptual features (VGG16)')")
    return path


def _read_state_dict(path: Path, shown: str | Path) -> Mapping[str, torch.Tensor]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise _bad(shown, f"not a weights file that torch.load(weights_only=True) reads "
                          f"({type(exc).__name__}: {first[:200]})") from None
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise _bad(shown, f"not a state dict (a mapping of names to tensors; got "
                          f"{type(obj).__name__})")
    return obj


def _detect_format(sd: Mapping[str, torch.Tensor]) -> str:
    return "shift_tolerant" if any(k.startswith("net.slice1.") for k in sd) else "torchvision"


def _needed(layers: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    unknown = [n for n in layers if n not in LAYER_NAMES]
    if unknown or not layers:
        raise ValueError(f"VGG16 layers {list(layers)}: each must be one of "
                         f"{', '.join(LAYER_NAMES)}")
    deepest = max(LAYER_NAMES.index(n) for n in layers)
    return _conv_layers()[:deepest + 1]


def _collect(sd: Mapping[str, torch.Tensor], fmt: str, layers: Sequence[str], shown: str | Path
             ) -> dict[str, torch.Tensor]:
    """Buffer name -> float32 tensor for every layer needed, checking keys and shapes."""
    conv_idx, blur_idx = _layer_indices(fmt)
    want: dict[str, tuple[str, tuple[int, ...]]] = {}
    for name, cin, cout, b, k in _needed(layers):
        if k == 0 and b > 0 and fmt == "shift_tolerant":
            want[f"blur{b}"] = (f"{_key(fmt, blur_idx[b - 1])}.filt",
                                (cin, 1, ST_BLUR_SIZE, ST_BLUR_SIZE))
        key = _key(fmt, conv_idx[name])
        want[f"w_{name}"] = (f"{key}.weight", (cout, cin, 3, 3))
        want[f"b_{name}"] = (f"{key}.bias", (cout,))
    missing = [key for key, _ in want.values() if key not in sd]
    if missing:
        what = ("a torchvision VGG16 state dict" if fmt == "torchvision"
                else "an ST-LPIPS VGG16 state dict")
        shown_keys = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more"
                                               if len(missing) > 4 else "")
        raise _bad(shown, f"missing keys {shown_keys} (expected {what}, keys like "
                          f"'{want['w_relu1_1'][0]}')")
    out = {}
    for buf, (key, shape) in want.items():
        t = sd[key]
        if tuple(t.shape) != shape:
            raise _bad(shown, f"{key} has shape {tuple(t.shape)}, expected {shape} (VGG16)")
        if not t.is_floating_point():
            raise _bad(shown, f"{key} has dtype {t.dtype}, expected a float tensor")
        out[buf] = t.detach().to(torch.float32).clone()
    return out


@functools.lru_cache(maxsize=8)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file (cached per path, size and modification time)."""
    st = path.stat()
    return _sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)


def vgg_source(weights: str | Path = "") -> str:
    """One line saying which VGG16 weights ``weights`` (``loss.vgg_weights``) resolves to, and
    their sha256, for model-file metadata. Raises :class:`VGGWeightsError` like the loader."""
    path = resolve_weights(weights)
    sha = file_sha256(path)
    if str(weights):
        return f"local VGG16 weights {path} (sha256 {sha})"
    try:
        version = importlib.metadata.version(DEFAULT_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown version"
    return (f"{DEFAULT_DISTRIBUTION} {version} {DEFAULT_FILE}: ST-LPIPS anti-aliased VGG16 "
            f"trained from scratch on BAPPS, not ImageNet (sha256 {sha})")


class VGGFeatures(nn.Module):
    """Frozen VGG16 features (module docstring): ``forward(images) -> {layer: features}``.

    weights: ``loss.vgg_weights`` (a file path, or '' for the offline default).
    layers: ReLU outputs to return, e.g. ``("relu2_1",)`` (the authors' content and style layer)
    or ``("relu1_2", "relu2_1")``.
    """

    def __init__(self, weights: str | Path = "", layers: Sequence[str] = DEFAULT_LAYERS,
                 scale: float = 0.0, input_range: str = "imagenet") -> None:
        super().__init__()
        if input_range not in VGG_INPUTS:
            raise ValueError(f"VGG input convention {input_range!r}: use one of "
                             f"{', '.join(VGG_INPUTS)}")
        #: "imagenet": [-1, 1] -> [0, 1] -> ImageNet mean/std; "authors": [-1, 1] straight
        #: into the mean/std normalisation (``loss.vgg_input``, module docstring)
        self.input_range = input_range
        self.layers = tuple(layers)
        _needed(self.layers)  # validates the names
        path = resolve_weights(weights)
        shown = weights if str(weights) else path
        sd = _read_state_dict(path, shown)
        self.format = _detect_format(sd)
        #: multiplies every returned feature map (``loss.vgg_scale``; 0 = FEATURE_SCALE of
        #: the weights' format)
        self.scale = float(scale) if scale > 0 else FEATURE_SCALE[self.format]
        self.weights_path = path
        tensors = _collect(sd, self.format, self.layers, shown)
        self._convs = [name for name, *_ in _needed(self.layers)]
        for name, t in tensors.items():
            self.register_buffer(name, t, persistent=False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1),
                             persistent=False)
        self.requires_grad_(False)
        self.train(False)

    def train(self, mode: bool = True) -> "VGGFeatures":
        """Always eval mode (frozen); ``mode`` is ignored."""
        return super().train(False)

    def _pool(self, x: torch.Tensor, block: int) -> torch.Tensor:
        if self.format == "torchvision":
            return F.max_pool2d(x, kernel_size=2, stride=2)
        x = F.max_pool2d(x, kernel_size=2, stride=1)
        x = F.pad(x, (ST_BLUR_PAD,) * 4, mode="reflect")
        filt = getattr(self, f"blur{block}").to(x.dtype)
        return F.conv2d(x, filt, stride=ST_BLUR_STRIDE, groups=x.shape[1])

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """images: (B, 3, H, W) float in [-1, 1] -> {layer: (B, C, h, w)} (module docstring).

        C = 64, 128, 256, 512, 512 for blocks 1..5; h = H / 2^(block-1) for torchvision
        weights, one more pixel per pool for the shift-tolerant default (64 -> 33 at relu2_1).
        """
        assert_shape(images, (None, 3, None, None), "images")
        x = images if self.input_range == "authors" else (images + 1.0) * 0.5
        x = (x - self.mean.to(images.dtype)) / self.std.to(images.dtype)
        # channels_last throughout [measured on CPU, torch 2.13, 64x64 batch 8, one thread:
        # the NCHW stride-1 max pool alone costs ~50 ms; the whole forward + backward to
        # relu2_1 falls from ~150 ms to ~90 ms]. Outputs are channels_last tensors.
        x = x.contiguous(memory_format=torch.channels_last)
        out: dict[str, torch.Tensor] = {}
        prev_block = 0
        for name in self._convs:
            block = int(name[4]) - 1
            if block != prev_block:
                x = self._pool(x, block)
                prev_block = block
            w = getattr(self, f"w_{name}")
            b = getattr(self, f"b_{name}")
            x = F.relu(F.conv2d(x, w.to(x.dtype), b.to(x.dtype), padding=1))
            if name in self.layers:
                out[name] = x * self.scale if self.scale != 1.0 else x
        return out

    def extra_repr(self) -> str:
        return (f"layers={self.layers}, format={self.format!r}, scale={self.scale}, "
                f"weights='{self.weights_path}'")

