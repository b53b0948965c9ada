"""Device selection and mixed precision: ``auto | cpu | cuda`` and ``amp = off | bf16 | fp16``."""
from __future__ import annotations

import contextlib
from typing import Iterator, Literal

import torch

DeviceName = Literal["auto", "cpu", "cuda"]
AmpMode = Literal["off", "bf16", "fp16"]
DEVICE_NAMES: tuple[str, ...] = ("auto", "cpu", "cuda")
AMP_MODES: tuple[str, ...] = ("off", "bf16", "fp16")
_AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """The torch device for a params ``device`` value.

    name: "auto" (CUDA when available, else CPU), "cpu" or "cuda". local_rank: the process's
    GPU index on its node (torchrun's LOCAL_RANK); ignored on CPU. Raises ValueError for an
    unknown name, or for "cuda" on a machine without CUDA (one line saying what to use instead).
    """
    if name not in DEVICE_NAMES:
        raise ValueError(f"device must be one of {', '.join(DEVICE_NAMES)}, got {name!r}")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError("device=cuda but CUDA is not available on this machine; "
                         "use device=cpu or device=auto")
    count = torch.cuda.device_count()
    if not 0 <= local_rank < count:
        raise ValueError(f"local rank {local_rank} has no GPU (this node has {count}); "
                         f"start at most {count} processes per node")
    return torch.device("cuda", local_rank)


def _check_amp(amp: str) -> None:
    if amp not in AMP_MODES:
        raise ValueError(f"amp must be one of {', '.join(AMP_MODES)}, got {amp!r}")


def amp_dtype(device: torch.device, amp: str) -> torch.dtype | None:
    """The autocast dtype of ``amp`` on ``device``, or None when autocast is off.

    bf16 runs on CUDA and CPU; fp16 only on CUDA: on CPU it is ignored (autocast off), as CPU
    float16 kernels are slow and fp16 needs a grad scaler, which is CUDA-only [choice].
    """
    _check_amp(amp)
    if amp == "off" or (amp == "fp16" and device.type != "cuda"):
        return None
    return _AMP_DTYPES[amp]


@contextlib.contextmanager
def autocast(device: torch.device, amp: str) -> Iterator[None]:
    """Autocast context for the forward pass (see :func:`amp_dtype`); a no-op when off."""
    dtype = amp_dtype(device, amp)
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def grad_scaler(device: torch.device, amp: str) -> torch.amp.GradScaler:
    """A GradScaler, enabled only for fp16 on CUDA (bf16 has fp32's range and needs none).

    A disabled scaler passes ``scale(loss)`` through and ``step(opt)`` calls ``opt.step()``, so
    the training loop uses the same calls for every setting; its ``state_dict`` is checkpointed.
    """
    _check_amp(amp)
    enabled = amp == "fp16" and device.type == "cuda"
    return torch.amp.GradScaler(device.type, enabled=enabled)
