"""The training-scheme template (CycleGAN-style): a scheme is four methods and its networks.

    scheme.set_input(batch)          # a collated dataset batch -> tensors on the device
    scheme.optimize_parameters()     # forward, losses, backward, optimiser steps -> losses
    scheme.predict(batch)            # inference (no gradients, eval mode)
    scheme.state_dict() / load_state_dict(state)   # networks, optimisers, scaler

The training loop (:mod:`pipeline.training.loop`) only calls these, so the semantic scheme and
the later appearance schemes (baseline, ts_pred, ts_gt, e2e) share one loop with device, AMP,
DDP, resume, logging and sample grids. Each scheme receives only its own typed params section.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from pipeline.torch_utils.distributed import DistInfo


class TrainingScheme:
    """Base of every scheme. Subclasses fill :attr:`networks` (name -> module, unwrapped),
    :attr:`optimizers` (name -> optimiser) and :attr:`scaler`, and implement the template.
    Networks are created after the caller seeded torch (identical initial weights on every
    rank; DDP also broadcasts rank 0's at wrap time)."""

    #: Registry-like name of the scheme (used in logs and model-file metadata).
    name = "scheme"

    def __init__(self, dist: DistInfo, params: Any, arch: Any) -> None:
        """params: the network's params section (its ``amp`` and ``channels_last`` apply);
        arch: the architecture of its networks."""
        self.dist, self.params, self.arch = dist, params, arch
        self.device = dist.device
        self.amp: str = params.amp
        self.channels_last: bool = params.channels_last
        self.networks: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.scaler: torch.amp.GradScaler | None = None

    # ---------------------------------------------------------------- the template
    def set_input(self, batch: dict[str, torch.Tensor]) -> None:
        """Unpack a collated batch onto the device."""
        raise NotImplementedError

    def forward(self) -> None:
        """Run the generator(s) on the current input."""
        raise NotImplementedError

    def optimize_parameters(self) -> dict[str, torch.Tensor]:
        """One training step on the current input; returns detached scalar losses by name."""
        raise NotImplementedError

    @torch.no_grad()
    def predict(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The generator's output for a batch (eval mode, no gradients)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- shared
    def place(self, net: nn.Module) -> nn.Module:
        """``net`` on the device, in channels-last memory format when asked."""
        net = net.to(self.device)
        return net.to(memory_format=torch.channels_last) if self.channels_last else net

    def wrap(self, net: nn.Module) -> nn.Module:
        """What training calls: ``net``'s DDP wrapper under torchrun, else ``net`` itself."""
        if not self.dist.distributed:
            return net
        return DDP(net, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def to_device(self, batch: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
        """The tensors of ``batch`` under ``keys`` (those present) on the device."""
        nb = self.device.type == "cuda"
        return {k: batch[k].to(self.device, non_blocking=nb) for k in keys if k in batch}

    @contextmanager
    def evaluating(self, *nets: nn.Module | None) -> Iterator[None]:
        """``nets`` in eval mode inside the block, their modes restored after."""
        live = [n for n in nets if n is not None]
        was = [n.training for n in live]
        for n in live:
            n.eval()
        try:
            yield
        finally:
            for n, w in zip(live, was):
                n.train(w)

    def train(self, mode: bool = True) -> None:
        for net in self.networks.values():
            net.train(mode)

    def state_dict(self) -> dict[str, Any]:
        """Networks (unwrapped), optimisers and scaler: plain tensors and values only."""
        return {"networks": {k: v.state_dict() for k, v in self.networks.items()},
                "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
                "scaler": self.scaler.state_dict() if self.scaler is not None else {}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k, net in self.networks.items():
            net.load_state_dict(state["networks"][k])
        for k, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][k])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])


def set_requires_grad(net: nn.Module, flag: bool) -> None:
    """Freeze (False) or unfreeze (True) every parameter of ``net``."""
    for p in net.parameters():
        p.requires_grad_(flag)
