"""Model files: the trained networks as safetensors, with the metadata that rebuilds them.

A model file (``*.safetensors``, the DVC output of a training stage) holds the weights as
safetensors (a format that holds only tensors, so loading one runs no code) plus metadata in
one key, :data:`META_KEY`, holding JSON with sorted keys (safetensors writes its metadata map
in no fixed order): ``network`` (the name in :mod:`pipeline.models.registry`), ``arch`` (the
architecture, enough to rebuild the network) and any extra keys (the params, the scheme).
Tensors are written contiguous on CPU; the file bytes depend only on names, values and
metadata (no timestamps), so identical weights give identical files.

    save_model_file(path, "semantic_generator", net, net.arch.to_dict(), extra={...})
    net = load_model_file(path)            # rebuilt, weights loaded, eval mode
    net = load_network(path, SemanticGenerator, "train_semantic")   # checked, stage named
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from pipeline.artifacts.atomic import atomic_path

#: The one safetensors metadata key of a model file: JSON of {network, arch, ...extra}.
META_KEY = "spt"


class ModelFileError(RuntimeError):
    """A model file that is missing, invalid, or holds another network than expected."""


def save_model_file(path: Path | str, network: str, module: nn.Module, arch: dict[str, Any],
                    extra: dict[str, str] | None = None) -> None:
    """Write ``module``'s state dict as safetensors, atomically, with rebuild metadata."""
    path = Path(path)
    tensors = {k: v.detach().to("cpu").contiguous().clone()
               for k, v in module.state_dict().items()}
    meta = {"network": network, "arch": json.dumps(arch, sort_keys=True)}
    meta.update(extra or {})
    # one metadata key: safetensors writes its metadata map in no fixed order
    header = {META_KEY: json.dumps(meta, sort_keys=True)}
    with atomic_path(path, suffix=".safetensors.tmp") as tmp:
        save_file(tensors, str(tmp), metadata=header)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)          # safetensors creates its file 0600


def read_model_file(path: Path | str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors, metadata) of a model file; :class:`ModelFileError` when missing or invalid."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: model file not found; train it first "
                              f"(`dvc repro train_semantic`) or fix the path")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            header = dict(f.metadata() or {})
        tensors = load_file(str(path))
        meta = json.loads(header.get(META_KEY, "{}"))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFileError(f"{path}: not a valid safetensors model file ({err})") from None
    if "network" not in meta or "arch" not in meta:
        raise ModelFileError(f"{path}: model file lacks the 'network'/'arch' metadata needed "
                              f"to rebuild it")
    return tensors, meta


def load_model_file(path: Path | str, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the network stored in ``path`` (registry name + architecture) with its weights,
    in eval mode on ``map_location``."""
    from pipeline.models.registry import get

    tensors, meta = read_model_file(path)
    cls = get(meta["network"])
    arch_cls = getattr(cls, "ARCH", None)
    arch_kwargs = json.loads(meta["arch"])
    net = cls(arch_cls(**arch_kwargs)) if arch_cls is not None else cls(**arch_kwargs)
    missing, unexpected = net.load_state_dict(tensors, strict=False)
    if missing or unexpected:
        raise ModelFileError(f"{path}: weights do not fit network {meta['network']!r} "
                              f"(missing {len(missing)}, unexpected {len(unexpected)} tensors)")
    return net.to(map_location).eval()


#: The networks a model file may hold, as messages name them.
NETWORK_NAMES = {"AppearanceGenerator": "the appearance generator",
                 "SemanticGenerator": "the semantic generator", "PoseNet": "the pose detector",
                 "SemanticDiscriminator": "the semantic discriminator D_S"}


def load_network(path: Path, cls: type, stage: str, device: str | torch.device = "cpu",
                 why: str = "") -> nn.Module:
    """The network of model file ``path``, checked to be a ``cls``; :class:`ModelFileError`
    naming the file and the stage that writes it when it is missing or holds another network.
    why: what needs it, added to the message of a missing file."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: missing{f' ({why})' if why else ''}; run "
                             f"`dvc repro {stage}` first")
    net = load_model_file(path, device)
    if not isinstance(net, cls):
        raise ModelFileError(f"{path}: holds a {type(net).__name__}, not "
                             f"{NETWORK_NAMES.get(cls.__name__, cls.__name__)}")
    return net
