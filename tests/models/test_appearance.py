"""The appearance networks G_A, D_A, D_F: shapes, map inputs, deformable skips, dropout, model
files, discriminator inputs and architecture errors."""
from __future__ import annotations

import pytest
import torch

from pipeline.models import registry
from pipeline.models.appearance import (WARPED_SKIPS, AppearanceArch, AppearanceGenerator,
                                        FaceDiscriminator, ImageDiscriminator)
from pipeline.models.blocks import ArchitectureError
from pipeline.inference.model_files import load_model_file, save_model_file


def _arch(**kw) -> AppearanceArch:
    base = dict(height=64, width=64, channels=4, depth=4, max_channels=16, disc_channels=4,
                disc_layers=3, face_size=16)
    base.update(kw)
    return AppearanceArch(**base)


def _inputs(arch: AppearanceArch, b: int = 2, seed: int = 0, maps: bool | None = None) -> dict:
    """Random G_A inputs; maps default to ``arch.use_maps``."""
    g = torch.Generator().manual_seed(seed)
    h, w = arch.height, arch.width
    x = {"src_image": torch.rand(b, 3, h, w, generator=g) * 2 - 1,
         "src_heatmaps": torch.rand(b, 18, h, w, generator=g),
         "tgt_heatmaps": torch.rand(b, 18, h, w, generator=g)}
    if arch.use_maps if maps is None else maps:
        x["src_maps"] = torch.rand(b, 10, h, w, generator=g).softmax(1)
        x["tgt_maps"] = torch.rand(b, 10, h, w, generator=g).softmax(1)
    return x


def _deform(arch: AppearanceArch, b: int = 2, valid: bool = True, shift: float = 0.0) -> dict:
    """Identity part affines (a pose onto itself) with one full-frame torso part; ``shift``
    moves every part (normalised units), ``valid=False`` marks every part invalid."""
    theta = torch.zeros(b, 10, 2, 3)
    theta[:, :, 0, 0] = theta[:, :, 1, 1] = 1.0
    theta[:, :, 0, 2] = shift
    parts = torch.zeros(b, 10, arch.height, arch.width)
    parts[:, 0] = 1.0
    return {"theta": theta, "src_parts": parts,
            "part_valid": torch.full((b, 10), valid, dtype=torch.bool)}


@pytest.mark.parametrize("hw", [(64, 64), (128, 64)])
@pytest.mark.parametrize("use_maps", [True, False])
def test_shapes(hw, use_maps):
    torch.manual_seed(0)
    arch = _arch(height=hw[0], width=hw[1], use_maps=use_maps)
    g, d, f = AppearanceGenerator(arch), ImageDiscriminator(arch), FaceDiscriminator(arch)
    out = g(**_inputs(arch), **_deform(arch))
    assert out.shape == (2, 3, *hw) and out.dtype == torch.float32
    cond = torch.rand(2, 10 if use_maps else 18, *hw)
    assert d(out, cond).shape == (2, 1, hw[0] // 8, hw[1] // 8)
    assert arch.face_layers == 3
    assert f(torch.rand(2, 3, 16, 16) * 2 - 1).shape == (2, 1, 2, 2)


def test_output_in_open_interval_and_tanh_bounds_it():
    torch.manual_seed(0)
    arch = _arch()
    g = AppearanceGenerator(arch)
    x = {**_inputs(arch), **_deform(arch)}
    out = g(**x)
    assert out.abs().max() < 1.0 and out.std() > 0
    with torch.no_grad():
        g.head.weight.mul_(1e4)                       # a huge pre-activation: tanh still bounds it
    assert g(**x).abs().max() <= 1.0


def test_maps_required_iff_use_maps():
    arch, base = _arch(use_maps=True), _arch(use_maps=False)
    g, gb = AppearanceGenerator(arch), AppearanceGenerator(base)
    assert g.appearance_encoder.c_in == 3 + 18 + 10 and g.target_encoder.c_in == 18 + 10
    assert gb.appearance_encoder.c_in == 3 + 18 and gb.target_encoder.c_in == 18
    with pytest.raises(ValueError, match="src_maps"):
        g(**_inputs(arch, maps=False), **_deform(arch))
    with pytest.raises(ValueError, match="baseline"):
        gb(**_inputs(base, maps=True), **_deform(base))
    assert gb(**_inputs(base), **_deform(base)).shape == (2, 3, 64, 64)
    bad = _inputs(arch)
    bad["tgt_maps"] = bad["tgt_maps"][:, :9]
    with pytest.raises(ValueError, match="tgt_maps"):
        g(**bad, **_deform(arch))


def test_identity_deformable_skips_equal_the_plain_path():
    """Part affines of a pose onto itself with one full-frame torso part: the deformable path
    gives the plain path's output (bilinear sampling at the pixel centres, float32 rounding)."""
    torch.manual_seed(0)
    deform = AppearanceGenerator(_arch(deformable_skips=True)).eval()
    plain = AppearanceGenerator(_arch(deformable_skips=False)).eval()
    plain.load_state_dict(deform.state_dict())
    x = _inputs(deform.arch)
    with torch.no_grad():
        ref = plain(**x)
        torch.testing.assert_close(deform(**x, **_deform(deform.arch)), ref,
                                   atol=1e-5, rtol=1e-5)
        moved = deform(**x, **_deform(deform.arch, shift=0.25))
        assert (moved - ref).abs().max() > 1e-3
    with pytest.raises(ValueError, match="theta"):
        deform(**x)


def test_only_the_finest_skips_are_warped():
    """No valid part zeroes the warped skips: at depth 4 (5 scales) the unwarped bottleneck still
    carries the source; at depth 3 (4 scales = WARPED_SKIPS) nothing of it is left."""
    assert WARPED_SKIPS == 4
    for depth, source_matters in ((4, True), (3, False)):
        torch.manual_seed(0)
        arch = _arch(depth=depth)
        g = AppearanceGenerator(arch).eval()
        x, y = _inputs(arch, seed=0), _inputs(arch, seed=1)
        for key in ("tgt_heatmaps", "tgt_maps"):
            y[key] = x[key]
        with torch.no_grad():
            a = g(**x, **_deform(arch, valid=False))
            b = g(**y, **_deform(arch, valid=False))
        assert (not torch.allclose(a, b, atol=1e-6)) == source_matters


def test_gradient_reaches_both_encoders():
    arch = _arch()
    g = AppearanceGenerator(arch)
    g(**_inputs(arch), **_deform(arch)).square().mean().backward()
    assert g.appearance_encoder.stem[0].weight.grad.abs().sum() > 0
    assert g.target_encoder.stem[0].weight.grad.abs().sum() > 0


def test_dropout_in_train_mode_only():
    torch.manual_seed(0)
    arch = _arch(dropout=0.5, dropout_blocks=3)
    g = AppearanceGenerator(arch)
    assert sum(isinstance(m, torch.nn.Dropout2d) for m in g.modules()) == 3
    x = {**_inputs(arch), **_deform(arch)}
    with torch.no_grad():
        g.train()
        assert not torch.allclose(g(**x), g(**x))
        g.eval()
        torch.testing.assert_close(g(**x), g(**x), atol=0, rtol=0)
    no_drop = AppearanceGenerator(_arch(dropout=0.0)).train()
    assert not any(isinstance(m, torch.nn.Dropout2d) for m in no_drop.modules())
    with torch.no_grad():
        torch.testing.assert_close(no_drop(**x), no_drop(**x), atol=0, rtol=0)
    assert sum(isinstance(m, torch.nn.Dropout2d)
               for m in AppearanceGenerator(_arch(depth=2, dropout_blocks=5)).modules()) == 2


@pytest.mark.parametrize("name", ["appearance_generator", "appearance_discriminator",
                                  "face_discriminator"])
def test_model_file_round_trip(tmp_path, name):
    torch.manual_seed(0)
    arch = _arch(use_maps=False, face_size=32)       # face_layers derived: min(3, 4) = 3
    net = registry.build(name, arch)
    for p in net.parameters():                       # move off the initial values
        p.data.add_(0.01 * torch.randn_like(p))
    path = tmp_path / f"{name}.safetensors"
    save_model_file(path, name, net, arch.to_dict())
    loaded = load_model_file(path)
    assert not loaded.training and type(loaded) is type(net) and loaded.arch == arch
    net.eval()
    if name == "appearance_generator":
        args, kwargs = (), {**_inputs(arch), **_deform(arch)}
    elif name == "appearance_discriminator":
        args, kwargs = (torch.rand(2, 3, 64, 64), torch.rand(2, 18, 64, 64)), {}
    else:
        args, kwargs = (torch.rand(2, 3, 32, 32),), {}
    with torch.no_grad():
        assert torch.equal(loaded(*args, **kwargs), net(*args, **kwargs))


def test_image_discriminator_condition_follows_use_maps():
    for use_maps, good, bad in ((True, 10, 18), (False, 18, 10)):
        d = ImageDiscriminator(_arch(use_maps=use_maps))
        assert d.net[0][0].in_channels == 3 + good
        img = torch.rand(2, 3, 64, 64)
        assert d(img, torch.rand(2, good, 64, 64)).shape == (2, 1, 8, 8)
        with pytest.raises(ValueError, match="cond"):
            d(img, torch.rand(2, bad, 64, 64))


def test_face_discriminator_rejects_wrong_crop_sizes():
    f = FaceDiscriminator(_arch(face_size=16))
    assert f(torch.rand(1, 3, 16, 16)).shape == (1, 1, 2, 2)
    for shape in ((1, 3, 32, 32), (1, 3, 16, 8), (1, 1, 16, 16)):
        with pytest.raises(ValueError, match="face"):
            f(torch.rand(*shape))


def test_face_layers_derived_or_explicit():
    assert _arch(face_size=8, disc_layers=3).face_layers == 2     # 8 -> 4 -> 2
    assert _arch(face_size=64, disc_layers=3).face_layers == 3
    assert _arch(face_size=64, face_layers=5).face_layers == 5    # 64 / 32 = 2 px
    assert FaceDiscriminator(_arch(face_size=64, face_layers=5))(
        torch.rand(1, 3, 64, 64)).shape == (1, 1, 2, 2)


@pytest.mark.parametrize("kw,keys", [
    (dict(height=60, width=64, depth=3), ("appearance.height", "appearance.width", "appearance.depth")),
    (dict(height=64, width=40, depth=4), ("appearance.height", "appearance.width", "appearance.depth")),
    (dict(height=32, width=32, depth=5), ("appearance.depth",)),
    (dict(disc_layers=6), ("appearance.disc_layers",)),
    (dict(face_size=3), ("appearance.face_size",)),
    (dict(face_size=16, face_layers=4), ("appearance.face_size", "face_layers")),
    (dict(dropout=1.0), ("appearance.dropout",)),
])
def test_bad_architectures_are_one_line_errors_naming_the_keys(kw, keys):
    with pytest.raises(ArchitectureError) as err:
        _arch(**kw)
    msg = str(err.value)
    assert "\n" not in msg
    for key in keys:
        assert key in msg


def test_registry_builds_by_name():
    names = set(registry.names())
    assert {"appearance_generator", "appearance_discriminator", "face_discriminator"} <= names
    assert isinstance(registry.build("appearance_generator", _arch()), AppearanceGenerator)


def test_channels_last_agrees():
    torch.manual_seed(0)
    arch = _arch()
    g = AppearanceGenerator(arch).eval()
    x = {**_inputs(arch), **_deform(arch, shift=0.1)}
    with torch.no_grad():
        ref = g(**x)
        g = g.to(memory_format=torch.channels_last)
        cl = {k: v.contiguous(memory_format=torch.channels_last) if v.ndim == 4 else v
              for k, v in x.items()}
        torch.testing.assert_close(g(**cl), ref, atol=1e-4, rtol=1e-4)


def test_image_skip_widens_only_the_head_and_is_off_by_default():
    """The image skip widens only the output convolution (3 warped colours + coverage); the
    architecture's default stays the authors' generator (no skip)."""
    torch.manual_seed(0)
    with_skip = AppearanceGenerator(_arch(image_skip=True))
    without = AppearanceGenerator(_arch())
    assert AppearanceArch().image_skip is False
    assert with_skip.head.in_channels == without.head.in_channels + 4
    assert with_skip(**_inputs(with_skip.arch), **_deform(with_skip.arch)).shape == (2, 3, 64, 64)


def test_blend_output_is_over_composition():
    """Hand-computed cases of the blended output: opaque (alpha 1) where the warp covers the
    pixel gives the warped colour; transparent (alpha 0) gives the rendered tanh colour; no
    coverage gives the rendered colour whatever alpha; a half coverage premultiplied colour
    at alpha 1 is laid over half of the rendered one."""
    big = 30.0                                             # sigmoid(30) = 1 in float32
    head = torch.zeros(1, 4, 1, 4)
    head[:, :3] = torch.atanh(torch.tensor(0.5))           # rendered colour 0.5
    head[:, 3] = torch.tensor([big, -big, big, big])
    skip = torch.zeros(1, 4, 1, 4)
    skip[:, :3] = torch.tensor([-0.8, -0.8, 0.0, -0.4])    # premultiplied warped colours
    skip[:, 3] = torch.tensor([1.0, 1.0, 0.0, 0.5])        # coverage
    out = AppearanceGenerator.blend_output(head, skip)
    torch.testing.assert_close(out[0, :, 0], torch.tensor([-0.8, 0.5, 0.5, -0.4 + 0.5 * 0.5])
                               .expand(3, 4))


def test_blend_starts_near_the_warped_source_and_is_off_by_default():
    """With ``blend`` the head has an opacity channel whose bias starts at BLEND_BIAS, so an
    untrained G_A's output is sigmoid(2) = 0.88 of the (here unwarped) source plus at most
    0.12 of a rendered image; the architecture's default is the authors' plain tanh output."""
    from pipeline.models.appearance import BLEND_BIAS
    torch.manual_seed(0)
    assert AppearanceArch().blend is False
    g = AppearanceGenerator(_arch(blend=True))
    assert g.head.out_channels == 4 and g.head.bias[3] == BLEND_BIAS
    assert AppearanceGenerator(_arch()).head.out_channels == 3
    x = _inputs(g.arch, b=1)
    out = g(**x, **_deform(g.arch, b=1))
    alpha = torch.sigmoid(torch.tensor(BLEND_BIAS))
    gap = (out - alpha * x["src_image"]).abs()
    assert out.shape == (1, 3, 64, 64)
    assert gap.max() <= 1 - alpha + 1e-6
    assert gap.max() > 0                                   # the rendered part is there


def test_image_skip_is_the_part_warp_reference():
    """What joins the last skip is the part-warp reference of the evaluation (source
    background where no part lands aside): a torso part shifted right by 16 px moves the
    image by 16 px, with 0 and coverage 0 in the 16 columns it leaves; without deformable
    skips it is the source image itself."""
    torch.manual_seed(0)
    g = AppearanceGenerator(_arch(image_skip=True))
    x = _inputs(g.arch, b=1)
    d = _deform(g.arch, b=1, shift=-0.5)             # target -> source: sample 16 px to the left
    skip = g.warped_image(x["src_image"], d["theta"], d["src_parts"], d["part_valid"])
    assert skip.shape == (1, 4, 64, 64)
    torch.testing.assert_close(skip[:, :3, :, 16:], x["src_image"][..., :48], atol=1e-5,
                               rtol=1e-5)
    assert skip[:, :, :, :16].abs().max() == 0            # nothing lands there, coverage 0
    torch.testing.assert_close(skip[:, 3, :, 16:], torch.ones(1, 64, 48))
    plain = AppearanceGenerator(_arch(image_skip=True, deformable_skips=False))
    out = plain.warped_image(x["src_image"], None, None, None)
    torch.testing.assert_close(out, torch.cat([x["src_image"], torch.ones(1, 1, 64, 64)], 1))
