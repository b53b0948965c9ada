"""CUDA paths of the training stages (skipped without CUDA): AMP bf16 / fp16 with the grad
scaler, channels_last, and whole stage runs on the device (semantic and appearance)."""
from __future__ import annotations

import json

import pytest
import torch

from pipeline.torch_utils.device import resolve_device
from pipeline.torch_utils.distributed import DistInfo
from pipeline.inference.model_files import load_model_file
from pipeline.training.semantic.scheme import SemanticScheme
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
    from tests.training.test_semantic_stage import _params
    from pipeline.training.semantic.stage import SemanticStage, run

    paths = project_copy("cuda")
    summary = run(_params(device="cuda", amp="bf16", channels_last=True), paths,
                  progress=False)
    assert summary["finished"] and summary["device"].startswith("cuda")
    net = load_model_file(paths.semantic_model, map_location="cpu")
    assert next(net.parameters()).device.type == "cpu"
    assert "model" in json.loads((SemanticStage().eval_dir(paths) / "metrics.json").read_text())["test"]


def _vgg_loss(tmp_path) -> dict:
    """loss.* overrides: the offline default VGG when installed, else random weights in
    torchvision's layout (the losses' code path is the same)."""
    from pipeline.models.vgg import default_weights_path

    if default_weights_path() is not None:
        return {}
    g = torch.Generator().manual_seed(0)
    sd = {}
    for i, (cin, cout) in zip((0, 2, 5), ((3, 64), (64, 64), (64, 128))):
        sd[f"features.{i}.weight"] = torch.randn(cout, cin, 3, 3, generator=g) * 0.05
        sd[f"features.{i}.bias"] = torch.zeros(cout)
    torch.save(sd, tmp_path / "vgg.pth")
    return {"vgg_weights": str(tmp_path / "vgg.pth")}


@pytest.mark.parametrize("amp", ["off", "bf16", "fp16"])
def test_appearance_cuda_steps(project, tmp_path, amp):
    """The e2e scheme through its joint phase on CUDA with AMP and channels_last: every loss
    finite, the grad scaler on for fp16 only, float32 images out."""
    from pipeline.training.appearance.scheme import AppearanceScheme
    from pipeline.training.appearance.stage import load_frozen, pair_datasets, semantic_arch
    from tests.model_fixtures import appearance_params as app_params

    paths = project(f"cuda_{amp}")
    params = app_params({"device": "cuda", "amp": amp, "channels_last": True,
                         "iterations": 6, "joint_iterations": 3}, _vgg_loss(tmp_path))
    frozen = load_frozen(params, paths)
    ds = pair_datasets(params, paths, semantic_arch(frozen), True)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=2)))
    torch.manual_seed(0)
    scheme = AppearanceScheme(params.appearance, params.loss,
                              DistInfo(0, 1, 0, resolve_device("cuda")), frozen)
    assert scheme.scaler.is_enabled() == (amp == "fp16")
    for _ in range(6):
        scheme.set_input(batch)
        losses = scheme.optimize_parameters()
        assert all(torch.isfinite(v) for v in losses.values()), losses
    assert "loss_semantic_ce" in losses
    out = scheme.generate(batch, back=True)
    assert out.fake_t.device.type == "cuda" and out.fake_t.dtype == torch.float32


def test_appearance_stage_runs_on_cuda(project, tmp_path):
    """The whole stage on CUDA (bf16, channels_last); the generator loads on the CPU."""
    from pipeline.training.appearance.stage import AppearanceStage, run
    from tests.model_fixtures import appearance_params as app_params

    paths = project("cuda_stage")
    summary = run(app_params({"device": "cuda", "amp": "bf16", "channels_last": True},
                             _vgg_loss(tmp_path)), paths, progress=False)
    assert summary["finished"] and summary["device"].startswith("cuda")
    net = load_model_file(paths.appearance_generator, map_location="cpu")
    assert next(net.parameters()).device.type == "cpu"
    assert "model" in json.loads((AppearanceStage().eval_dir(paths) / "metrics.json").read_text())["test"]
