"""The fidelity switches that reproduce the authors' code (docs/reproduce.md "Fidelity"): their
normalisation and block order, the warped skip scales, the clipped face box, the VGG input
convention and the fixed heatmap sigma, each against a hand-computed case."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from pipeline.datasets.transforms import pose_inputs
from pipeline.models.appearance import AppearanceArch, AppearanceGenerator
from pipeline.models.blocks import ConvBlock, SampleNorm, UpBlock
from pipeline.models.semantic import Encoder
from pipeline.torch_utils.crop import head_boxes


def test_sample_norm_is_the_authors_instance_norm_3d_over_the_unsqueezed_map():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 4, 6) * 3 + torch.arange(5.0).view(1, 5, 1, 1)
    norm = SampleNorm()
    with torch.no_grad():
        norm.weight.fill_(1.7)
        norm.bias.fill_(-0.3)
    ref = nn.InstanceNorm3d(1, eps=1e-3, affine=True)
    with torch.no_grad():
        ref.weight.fill_(1.7)
        ref.bias.fill_(-0.3)
    assert torch.allclose(norm(x), ref(x.unsqueeze(1)).squeeze(1), atol=1e-5)
    # one mean over all channels: the channels' own means survive (per-channel norm removes them)
    y = SampleNorm()(x)
    assert y.mean(dim=(2, 3)).std(dim=1).min() > 0.1
    assert nn.InstanceNorm2d(5)(x).mean(dim=(2, 3)).abs().max() < 1e-5


def test_authors_blocks_run_activation_conv_norm():
    block = ConvBlock(2, 4, 4, 2, norm="authors")
    assert [type(m) for m in block] == [nn.LeakyReLU, nn.Conv2d, SampleNorm]
    assert [type(m) for m in ConvBlock(2, 4, 4, 2)] == [nn.Conv2d, nn.InstanceNorm2d,
                                                         nn.LeakyReLU]
    up = UpBlock(4, 2, norm="authors")
    assert [type(m) for m in up] == [nn.ReLU, nn.ConvTranspose2d, SampleNorm]
    enc = Encoder(3, [4, 8, 16], "authors")
    assert [type(m) for m in enc.stem] == [nn.Conv2d, nn.Identity]       # a bare first conv
    assert [type(m) for m in enc.downs[0]] == [nn.LeakyReLU, nn.Conv2d, SampleNorm]
    assert [type(m) for m in enc.downs[-1]] == [nn.LeakyReLU, nn.Conv2d, nn.Identity]
    x = torch.randn(2, 3, 16, 16)
    assert [tuple(f.shape) for f in enc(x)] == [(2, 4, 16, 16), (2, 8, 8, 8), (2, 16, 4, 4)]


def _generator(**kw) -> AppearanceGenerator:
    torch.manual_seed(0)
    return AppearanceGenerator(AppearanceArch(height=32, width=32, channels=4, depth=3,
                                              max_channels=8, **kw)).eval()


def _inputs(b: int = 2):
    g = torch.Generator().manual_seed(1)
    image = torch.rand(b, 3, 32, 32, generator=g) * 2 - 1
    heat = torch.rand(b, 18, 32, 32, generator=g)
    maps = torch.rand(b, 10, 32, 32, generator=g).softmax(1)
    theta = torch.eye(2, 3).expand(b, 10, 2, 3).clone()
    theta[:, :, :, 2] = 0.25                                     # every part shifted
    parts = torch.ones(b, 10, 32, 32)
    return image, heat, heat.flip(-1), maps, maps.flip(-1), theta, parts, torch.ones(b, 10,
                                                                                     dtype=torch.bool)


def test_warped_skips_counts_the_finest_scales():
    """Only the skips of the finest ``warped_skips`` scales depend on the affines: with 0
    warped the output ignores theta; warping one more scale changes it."""
    args = _inputs()
    moved = list(args)
    moved[5] = args[5].clone()
    moved[5][:, :, :, 2] = -0.25
    none = _generator(warped_skips=0)
    with torch.no_grad():
        assert torch.equal(none(*args[:3], args[3], args[4], *args[5:]),
                           none(*moved[:3], moved[3], moved[4], *moved[5:]))
        one, two = _generator(warped_skips=1), _generator(warped_skips=2)
        assert not torch.equal(one(*args), one(*moved))
        assert not torch.equal(one(*args), two(*args))
    authors = _generator(norm="authors", warped_skips=4)              # > depth + 1: all
    with torch.no_grad():
        out = authors(*args)
    assert out.shape == (2, 3, 32, 32) and out.abs().max() <= 1


def test_clipped_face_box_is_stretched_to_the_crop():
    """A head at the top-left corner: centre (2, 3), st = 10 -> r = 4; unclipped box rows
    [-2, 6), columns [-1, 7); clipped rows [0, 6), columns [0, 7) of a 20 x 20 frame."""
    kp = torch.full((1, 18, 2), -1.0)
    kp[0, 0] = torch.tensor([2.0, 3.0])                                # nose only
    kp[0, [2, 5]] = torch.tensor([[5.0, 3.0], [5.0, 13.0]])           # shoulders
    kp[0, [8, 11]] = torch.tensor([[15.0, 3.0], [15.0, 13.0]])        # hips: st = 10
    free, ok = head_boxes(kp, (20, 20))
    clipped, ok_c = head_boxes(kp, (20, 20), clip=True)
    assert ok.item() and ok_c.item()
    w = h = 20
    assert torch.allclose(free[0], torch.tensor([[8 / w, 0, 6 / w - 1], [0, 8 / h, 4 / h - 1]]))
    assert torch.allclose(clipped[0], torch.tensor([[7 / w, 0, 7 / w - 1],
                                                    [0, 6 / h, 6 / h - 1]]))


def test_vgg_input_conventions():
    """``authors`` puts [-1, 1] straight into the ImageNet mean/std: the same as the
    ``imagenet`` convention (which first maps [-1, 1] to [0, 1]) applied to 2x - 1."""
    from pipeline.models.vgg import VGGFeatures

    vgg_i, vgg_a = VGGFeatures(), VGGFeatures(input_range="authors")
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    assert torch.allclose(vgg_a(x)["relu2_1"], vgg_i(2 * x - 1)["relu2_1"], atol=1e-4)
    assert not torch.allclose(vgg_a(x)["relu2_1"], vgg_i(x)["relu2_1"], atol=1e-2)


def test_fixed_heatmap_sigma_is_pixels_at_every_size():
    kp = np.full((18, 2), -1.0, np.float32)
    kp[0] = (10.0, 10.0)
    scaled = pose_inputs(kp, 64, 64)                           # 6 * 64 / 256 = 1.5 px
    fixed = pose_inputs(kp, 64, 64, 6.0)
    for heat, sigma in ((scaled, 1.5), (fixed, 6.0)):
        assert np.isclose(heat[0, 10, 13], np.exp(-9 / (2 * sigma ** 2)), rtol=1e-4)


def test_authors_norm_leaves_the_discriminators_pix2pix():
    """D_A and D_F are the authors' pix2pix PatchGANs (conv -> instance norm -> LeakyReLU)
    whatever G_A's norm: no SampleNorm, no two activations in a row."""
    from pipeline.models.appearance import FaceDiscriminator, ImageDiscriminator

    arch = AppearanceArch(height=32, width=32, channels=4, depth=3, max_channels=8,
                          norm="authors", disc_layers=2, face_size=16)
    for net in (ImageDiscriminator(arch), FaceDiscriminator(arch)):
        kinds = [type(m) for m in net.net.modules() if not isinstance(m, nn.Sequential)]
        assert SampleNorm not in kinds and nn.InstanceNorm2d in kinds
        assert all(not (a is b is nn.LeakyReLU) for a, b in zip(kinds, kinds[1:]))


def test_authors_head_relu_leaves_the_image_skip_colours_alone():
    """With the authors' norm the head's ReLU acts on the decoder features only: the image
    skip's warped colours (negative in [-1, 1]) reach the head conv unclamped."""
    g = _generator(norm="authors", image_skip=True)
    seen = []
    g.head.register_forward_hook(lambda m, i, o: seen.append(i[0]))
    args = list(_inputs())
    args[0] = -torch.ones_like(args[0])                       # a black source: colours -1
    args[5] = torch.eye(2, 3).expand(2, 10, 2, 3).clone()     # identity warps: all covered
    with torch.no_grad():
        g(*args)
    skip = seen[0][:, -4:-1]                                  # the warped colours
    assert skip.min() < -0.5
