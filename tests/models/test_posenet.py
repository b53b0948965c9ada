"""The pose detector: shapes at any valid size, architecture errors, registry, heatmap decoding."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.geometry import pose_heatmaps
from pipeline.models.posenet import PoseNet, PosenetArch, heatmaps_to_keypoints
from pipeline.models.registry import build, names
from pipeline.models.blocks import ArchitectureError


def _tiny(**kw) -> PosenetArch:
    return PosenetArch(**{"height": 32, "width": 32, "channels": 4, "blocks": 2, **kw})


@pytest.mark.parametrize("hw", [(32, 32), (16, 24), (64, 32)])
def test_output_has_the_input_size_and_18_channels(hw):
    net = PoseNet(_tiny())
    out = net(torch.rand(2, 3, *hw) * 2 - 1)
    assert out.shape == (2, 18, *hw) and out.dtype == torch.float32


def test_layers_follow_the_resnet_generator():
    net = PoseNet(_tiny(blocks=3, downsamplings=2))
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    ups = [m for m in net.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    # 7x7 stem, 2 stride-2 convs, 3 blocks x 2 convs, 7x7 head
    assert len(convs) == 1 + 2 + 6 + 1 and len(ups) == 2
    assert convs[0].kernel_size == (7, 7) and convs[-1].kernel_size == (7, 7)
    assert [c.stride for c in convs[1:3]] == [(2, 2), (2, 2)]
    assert convs[3].in_channels == 4 * 4                     # channels doubled twice
    assert not isinstance(list(net.model)[-1], (torch.nn.Tanh, torch.nn.Sigmoid))


def test_residual_blocks_are_identity_plus_body():
    net = PoseNet(_tiny(blocks=1))
    block = [m for m in net.modules() if type(m).__name__ == "ResnetBlock"][0]
    x = torch.rand(1, 16, 8, 8)
    assert torch.allclose(block(x), x + block.body(x))


def test_bad_sizes_are_one_line_errors():
    with pytest.raises(ArchitectureError, match="posenet.downsamplings = 5 leaves"):
        PosenetArch(height=32, width=32, downsamplings=5)
    with pytest.raises(ArchitectureError, match="not divisible by 2\\*\\*posenet"):
        PosenetArch(height=34)
    net = PoseNet(_tiny())
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.zeros(1, 3, 30, 32))
    with pytest.raises(ValueError, match="posenet images: expected shape"):
        net(torch.zeros(1, 1, 32, 32))


def test_registered_by_name():
    assert "posenet" in names()
    net = build("posenet", _tiny())
    assert isinstance(net, PoseNet) and net.arch.to_dict()["channels"] == 4


def test_decoding_recovers_gaussian_peaks_within_half_a_pixel():
    """Gaussians (the training targets, sigma 1.5 px at 64 px) at random sub-pixel points,
    and at points on the frame border, are decoded within 0.5 px; the quarter-pixel
    refinement beats the plain argmax on average."""
    rng = np.random.default_rng(0)
    h, w = 64, 48
    kp = np.stack([rng.uniform(0, h - 1, (8, 18)), rng.uniform(0, w - 1, (8, 18))], -1)
    kp[0, :4] = [[0, 0], [h - 1, w - 1], [0, 20.3], [31.6, w - 1]]
    kp = kp.astype(np.float32)
    heat = torch.from_numpy(pose_heatmaps(kp, h, w, sigma=1.5))
    found = heatmaps_to_keypoints(heat, 0.1).numpy()
    assert found.shape == (8, 18, 2) and found.dtype == np.float32
    err = np.linalg.norm(found - kp, axis=-1)
    assert err.max() < 0.5
    argmax = np.stack(np.unravel_index(heat.reshape(8, 18, -1).argmax(-1).numpy(), (h, w)), -1)
    assert err.mean() < np.linalg.norm(argmax - kp, axis=-1).mean()


def test_low_peaks_are_missing():
    heat = torch.zeros(2, 18, 16, 16)
    heat[0, 3, 5, 7] = 0.5
    heat[1, 4, 2, 2] = 0.05
    kp = heatmaps_to_keypoints(heat, 0.1)
    assert kp[0, 3].tolist() == [5.0, 7.0]
    assert (kp[1, 4] == -1).all() and (kp[0, 0] == -1).all()
    assert int((kp >= 0).all(-1).sum()) == 1


def test_shift_goes_toward_the_higher_neighbour():
    heat = torch.zeros(1, 18, 8, 8)
    heat[0, 0, 4, 4], heat[0, 0, 5, 4], heat[0, 0, 4, 3] = 1.0, 0.6, 0.4
    assert heatmaps_to_keypoints(heat, 0.1)[0, 0].tolist() == [4.25, 3.75]
