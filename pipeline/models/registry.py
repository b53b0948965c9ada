"""Networks found by name (CycleGAN-style): one registry line per network class.

    @register("semantic_generator")
    class SemanticGenerator(nn.Module): ...

    net = build("semantic_generator", arch)

Model files (``*.safetensors``) store the registry name and the architecture in their metadata,
so :func:`pipeline.training.checkpoint.load_model_file` can rebuild a network from its file alone.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

_REGISTRY: dict[str, type[nn.Module]] = {}

T = TypeVar("T", bound=type[nn.Module])


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make ``cls`` buildable as ``build(name, ...)``."""
    def deco(cls: T) -> T:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered "
                             f"({_REGISTRY[name].__qualname__})")
        _REGISTRY[name] = cls
        return cls
    return deco


#: Modules that register the project's own networks, imported only when a name is not yet
#: registered (a stage imports its networks' modules itself, so a model file of another stage's
#: network never pulls that code into its dependencies).
BUILTIN_MODULES: tuple[str, ...] = ("pipeline.models.semantic", "pipeline.models.appearance",
                                    "pipeline.models.posenet")


def _load_builtin() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


def names() -> list[str]:
    """Registered network names."""
    _load_builtin()
    return sorted(_REGISTRY)


def get(name: str) -> type[nn.Module]:
    """The network class registered as ``name`` (KeyError naming the known ones)."""
    if name not in _REGISTRY:
        _load_builtin()
    if name not in _REGISTRY:
        raise KeyError(f"unknown network {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def build(name: str, *args: Any, **kwargs: Any) -> nn.Module:
    """Instantiate the network registered as ``name``."""
    return get(name)(*args, **kwargs)
