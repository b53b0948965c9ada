"""Checkpoints of a training run in progress: written atomically, loaded without running code.

Checkpoint (``*.pt``, intermediate, for resuming): a ``torch.save`` dict of tensors and plain
Python values only (model, optimiser and scaler state, RNG states, sampler cursor, loss history,
iteration, params digest). It is loaded with ``torch.load(weights_only=True)``, whose unpickler
accepts only tensors and primitive containers: a file that would construct any other object (and
so could run code, e.g. through ``__reduce__``) is refused with :class:`CheckpointError` before
anything in it runs.

Model files (the trained networks, the DVC outputs) are :mod:`pipeline.inference.model_files`.
"""
from __future__ import annotations

import pickle
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.artifacts.atomic import atomic_path

#: Bump when the checkpoint layout changes (an older file is then not resumed).
CHECKPOINT_FORMAT = 1


class CheckpointError(RuntimeError):
    """A checkpoint that is unsafe, corrupt or of another run."""


# --------------------------------------------------------------------------- checkpoints
def save_checkpoint(path: Path | str, state: dict[str, Any]) -> None:
    """``torch.save`` ``state`` atomically (temporary file + rename) with the format tag."""
    path = Path(path)
    with atomic_path(path, suffix=".pt.tmp") as tmp:
        torch.save({"format": CHECKPOINT_FORMAT, **state}, tmp)


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu"
                    ) -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``); one-line :class:`CheckpointError` for a
    missing file, a file that would run code, a corrupt file or another format."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    if not zipfile.is_zipfile(path):          # torch.save's format; legacy pickles are refused
        raise CheckpointError(f"{path}: not a readable checkpoint (not a torch zip file); "
                              f"delete it")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
        why = next((ln for ln in lines if "GLOBAL" in ln or "Unsupported" in ln),
                   lines[-1] if lines else type(err).__name__)
        raise CheckpointError(f"{path}: refused: the file holds objects other than tensors and "
                              f"plain values, so loading it could run code ({why[:160]}); "
                              f"delete it") from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({first[:160]}); "
                              f"delete it") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a checkpoint of format {CHECKPOINT_FORMAT}; "
                              f"delete it")
    return state


# --------------------------------------------------------------------------- RNG states
def rng_state() -> dict[str, Any]:
    """This process's RNG states (torch CPU, CUDA, NumPy, Python) as checkpoint-safe values."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"name": str(np_state[0]), "keys": torch.from_numpy(np_state[1].astype(np.int64)),
                  "pos": int(np_state[2]), "has_gauss": int(np_state[3]),
                  "cached_gaussian": float(np_state[4])},
        "python": [int(py_state[0]), [int(v) for v in py_state[1]], py_state[2]],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore states saved by :func:`rng_state` (CUDA only where devices exist)."""
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][:torch.cuda.device_count()])
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached_gaussian"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
