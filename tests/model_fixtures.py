"""Fixtures and helpers of the tests that build networks (training, evaluation, applications):
a tiny prepared project with model files of random weights, the tiny appearance setting, and
one intra-op thread. Registered for every test folder by ``pytest_plugins`` in
tests/conftest.py."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from pipeline.config.params import validate
from pipeline.inference.model_files import save_model_file
from pipeline.models.posenet import PoseNet, PosenetArch
from pipeline.models.semantic import SemanticArch, SemanticDiscriminator, SemanticGenerator
from pipeline.torch_utils.device import resolve_device
from pipeline.torch_utils.distributed import DistInfo
from tests.helpers import TINY_RAW

#: Tiny appearance setting: 32x32 images, width 4, two scales.
TINY_APPEARANCE = dict(height=32, width=32, channels=4, depth=2, max_channels=8,
                       disc_channels=4, disc_layers=2, face_size=8, batch_size=2, iterations=4,
                       joint_iterations=2, log_every=2, sample_every=2, checkpoint_every=1,
                       sample_count=2, device="cpu", threads=1, workers=0)
#: G_S of the tests: 16x16 maps (not the image size: the maps are upsampled).
SEM_ARCH = SemanticArch(height=16, width=16, channels=4, depth=2, max_channels=8,
                        deformable_skips=True, disc_channels=4, disc_layers=2)
CPU = DistInfo(0, 1, 0, resolve_device("cpu"))
#: Test folders whose tests run networks: one intra-op thread there.
NETWORK_TEST_DIRS = ("training", "evaluation", "applications")


def appearance_params(appearance: dict | None = None, loss: dict | None = None):
    """The tiny project's params with the tiny appearance setting (and overrides)."""
    raw = json.loads(json.dumps(TINY_RAW))
    raw["appearance"] = dict(TINY_APPEARANCE, **(appearance or {}))
    raw["loss"] = dict(loss or {})
    return validate(raw)


def appearance_scheme(params, paths):
    """(an AppearanceScheme of ``params`` with seeded weights, a batch of 2 training pairs)."""
    from pipeline.training.appearance.scheme import AppearanceScheme
    from pipeline.training.appearance.stage import load_frozen, pair_datasets, semantic_arch

    frozen = load_frozen(params, paths)
    ds = pair_datasets(params, paths, semantic_arch(frozen), True)
    torch.manual_seed(0)
    scheme = AppearanceScheme(params.appearance, params.loss, CPU, frozen)
    batch = next(iter(DataLoader(ds, batch_size=2)))
    return scheme, batch


@pytest.fixture(autouse=True)
def _one_thread(request):
    """One intra-op thread in the network tests: tiny tensors gain nothing from two, and a
    busy 2-core machine makes a second thread's wake-ups cost more than the work (seen: 10x
    slower steps)."""
    if Path(str(request.node.path)).parent.name not in NETWORK_TEST_DIRS:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def project(project_copy):
    """``project(name) -> Paths``: a tiny project with model files of G_S, D_S and of the
    pose detector (random weights)."""
    def make(name: str):
        paths = project_copy(name)
        paths.models.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(0)
        g = SemanticGenerator(SEM_ARCH)
        save_model_file(paths.semantic_model, "semantic_generator", g, SEM_ARCH.to_dict())
        save_model_file(paths.semantic_discriminator, "semantic_discriminator",
                        SemanticDiscriminator(SEM_ARCH), SEM_ARCH.to_dict())
        arch = PosenetArch(height=32, width=32, channels=4, blocks=1, downsamplings=1)
        save_model_file(paths.posenet_model, "posenet", PoseNet(arch), arch.to_dict())
        return paths
    return make


@pytest.fixture
def trained(project):
    """``trained(name, scheme) -> Paths`` of a tiny project (64x64 frames, 12 images) whose
    models/ holds G_A (32x32) and, for ts_pred / e2e, G_S (16x16 maps), written the way the
    appearance stage writes them."""
    from pipeline.training.appearance.stage import write_models

    def make(name: str, scheme: str = "e2e", params=None):
        paths = project(name)
        params = params or appearance_params({"scheme": scheme})
        networks, _ = appearance_scheme(params, paths)
        write_models(paths, networks, params)
        return paths
    return make
