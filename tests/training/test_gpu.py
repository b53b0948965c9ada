"""CUDA paths of the semantic training (skipped without CUDA): AMP bf16 / fp16 with the grad
scaler, channels_last, and a whole stage run on the device."""
from __future__ import annotations

import json

import pytest
import torch

from pipeline.torch_utils.device import resolve_device
from pipeline.torch_utils.distributed import DistInfo
from pipeline.training.checkpoint import load_model_file
from pipeline.training.semantic import SemanticScheme
from tests.training.fakes import FakePairs, tiny_params

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("amp", ["off", "bf16", "fp16"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_cuda_steps_reduce_the_loss(amp, channels_last):
    dist = DistInfo(0, 1, 0, resolve_device("cuda"))
    torch.manual_seed(0)
    scheme = SemanticScheme(tiny_params(device="cuda", amp=amp, channels_last=channels_last,
                                        lr=0.01), dist)
    assert scheme.scaler.is_enabled() == (amp == "fp16")
    batch = torch.utils.data.default_collate([FakePairs(4)[i] for i in range(4)])
    scheme.set_input(batch)
    first = scheme.optimize_parameters()
    for _ in range(15):
        last = scheme.optimize_parameters()
    assert torch.isfinite(last["loss_ce"]) and last["loss_ce"] < first["loss_ce"]
    out = scheme.predict(batch)
    assert out.device.type == "cuda" and out.dtype == torch.float32


def test_stage_runs_on_cuda_and_the_model_loads_on_cpu(project_copy):
    from tests.training.test_stage import _params
    from pipeline.training.semantic_stage import eval_dir, model_path, run

    paths = project_copy("cuda")
    summary = run(_params(device="cuda", amp="bf16", channels_last=True), paths,
                  progress=False)
    assert summary["finished"] and summary["device"].startswith("cuda")
    net = load_model_file(model_path(paths), map_location="cpu")
    assert next(net.parameters()).device.type == "cpu"
    assert "model" in json.loads((eval_dir(paths) / "metrics.json").read_text())["test"]
