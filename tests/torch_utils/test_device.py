"""Device resolution and mixed precision (CPU paths; the CUDA paths are marked gpu)."""
from __future__ import annotations

import pytest
import torch

from pipeline.torch_utils.device import amp_dtype, autocast, grad_scaler, resolve_device


def test_cpu_and_auto_without_cuda(monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match="use device=cpu or device=auto") as err:
        resolve_device("cuda")
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("gpu")


def test_autocast_on_cpu_only_for_bf16():
    cpu = torch.device("cpu")
    a = torch.randn(4, 4)
    with autocast(cpu, "bf16"):
        assert (a @ a).dtype == torch.bfloat16
    for amp in ("off", "fp16"):
        with autocast(cpu, amp):
            assert (a @ a).dtype == torch.float32
    assert amp_dtype(cpu, "fp16") is None and amp_dtype(cpu, "bf16") == torch.bfloat16
    with pytest.raises(ValueError, match="amp must be one of"):
        amp_dtype(cpu, "fp8")


def test_grad_scaler_enabled_only_for_fp16_on_cuda():
    cpu = torch.device("cpu")
    for amp in ("off", "bf16", "fp16"):
        scaler = grad_scaler(cpu, amp)
        assert isinstance(scaler, torch.amp.GradScaler) and not scaler.is_enabled()
    loss = torch.tensor(2.0, requires_grad=True)
    assert grad_scaler(cpu, "fp16").scale(loss) is loss   # disabled: passes through


@pytest.mark.gpu
def test_cuda_device_autocast_and_scaler():
    dev = resolve_device("cuda")
    assert dev.type == "cuda" and resolve_device("auto").type == "cuda"
    a = torch.randn(8, 8, device=dev)
    with autocast(dev, "fp16"):
        assert (a @ a).dtype == torch.float16
    with autocast(dev, "bf16"):
        assert (a @ a).dtype == torch.bfloat16
    assert grad_scaler(dev, "fp16").is_enabled() and not grad_scaler(dev, "bf16").is_enabled()
