"""The semantic networks: shapes, resolution errors, deformable skips, registry, layouts."""
from __future__ import annotations

import pytest
import torch

from pipeline.config.base import ParamsError
from pipeline.config.params import validate
from pipeline.models import registry
from pipeline.models.semantic import (ArchitectureError, SemanticArch, SemanticDiscriminator,
                                      SemanticGenerator, deform_features)
from pipeline.torch_utils.device import autocast

H = W = 32


def _inputs(b: int = 2, seed: int = 0, h: int = H, w: int = W) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (b, h, w), generator=g)
    onehot = torch.nn.functional.one_hot(labels, 10).permute(0, 3, 1, 2).float()
    return [onehot, torch.rand(b, 18, h, w, generator=g), (torch.rand(b, 1, h, w, generator=g)
            > 0.5).float(), torch.rand(b, 18, h, w, generator=g),
            (torch.rand(b, 1, h, w, generator=g) > 0.5).float()]


def _deform_args(b: int = 2, valid: bool = True, shift: float = 0.0) -> dict:
    theta = torch.zeros(b, 10, 2, 3)
    theta[:, :, 0, 0] = theta[:, :, 1, 1] = 1.0
    theta[:, :, 0, 2] = shift
    parts = torch.zeros(b, 10, H, W)
    parts[:, 0] = 1.0                                  # torso: the whole frame
    return {"theta": theta, "src_parts": parts,
            "part_valid": torch.full((b, 10), valid, dtype=torch.bool)}


def _arch(**kw) -> SemanticArch:
    base = dict(height=H, width=W, channels=8, depth=3, max_channels=32, disc_channels=8,
                disc_layers=2)
    base.update(kw)
    return SemanticArch(**base)


def test_generator_and_discriminator_shapes():
    torch.manual_seed(0)
    g, d = SemanticGenerator(_arch()), SemanticDiscriminator(_arch())
    logits = g(*_inputs())
    assert logits.shape == (2, 10, H, W) and logits.dtype == torch.float32
    scores = d(logits.softmax(1), _inputs()[3])
    assert scores.shape[:2] == (2, 1) and scores.shape[2] >= 2


def test_non_square_resolution_market_like():
    g = SemanticGenerator(_arch(height=64, width=32, depth=3))
    assert g(*_inputs(1, h=64, w=32)).shape == (1, 10, 64, 32)


def test_wrong_input_shape_names_the_tensor():
    g = SemanticGenerator(_arch())
    x = _inputs()
    x[1] = x[1][:, :17]
    with pytest.raises(ValueError, match="src_heatmaps"):
        g(*x)


@pytest.mark.parametrize("hw,depth", [((60, 64), 3), ((32, 48), 5)])
def test_indivisible_resolution_is_one_line_naming_the_keys(hw, depth):
    with pytest.raises(ArchitectureError) as err:
        _arch(height=hw[0], width=hw[1], depth=depth)
    msg = str(err.value)
    assert "\n" not in msg and "semantic." in msg
    with pytest.raises(ParamsError, match="semantic"):
        validate({"semantic": {"height": hw[0], "width": hw[1], "depth": depth}})


def test_deformable_skips_use_the_part_warp():
    torch.manual_seed(0)
    g = SemanticGenerator(_arch(deformable_skips=True)).eval()
    x = _inputs()
    with torch.no_grad():
        base = g(*x, **_deform_args())
        moved = g(*x, **_deform_args(shift=0.25))
        assert not torch.allclose(base, moved)
        # no valid part: every E_S feature is warped to zeros, so the source no longer matters
        y = _inputs(seed=1)
        y[3], y[4] = x[3], x[4]
        a = g(*x, **_deform_args(valid=False))
        b = g(*y, **_deform_args(valid=False))
        torch.testing.assert_close(a, b)
        assert not torch.allclose(g(*x, **_deform_args()), g(*y, **_deform_args()))
    with pytest.raises(ValueError, match="theta"):
        g(*x)


def test_deform_features_identity_theta_on_nonnegative_features():
    """Identity affines with a whole-frame part mask leave non-negative features unchanged at
    every scale (the theta is valid at every resolution; masks are max-pooled)."""
    feats = [torch.rand(2, 4, H // 2 ** i, W // 2 ** i) for i in range(3)]
    out = deform_features(feats, **_deform_args())
    for f, o in zip(feats, out):
        torch.testing.assert_close(o, f, atol=1e-5, rtol=1e-5)


def test_gradient_reaches_both_encoders():
    g = SemanticGenerator(_arch(deformable_skips=True))
    g(*_inputs(), **_deform_args()).logsumexp(1).mean().backward()
    assert g.source_encoder.stem[0].weight.grad.abs().sum() > 0
    assert g.pose_encoder.stem[0].weight.grad.abs().sum() > 0


def test_registry_builds_by_name():
    assert {"semantic_generator", "semantic_discriminator"} <= set(registry.names())
    net = registry.build("semantic_generator", _arch())
    assert isinstance(net, SemanticGenerator)
    with pytest.raises(KeyError, match="known"):
        registry.get("no_such_network")


def test_channels_last_and_bf16_paths_agree():
    torch.manual_seed(0)
    g = SemanticGenerator(_arch()).eval()
    x = _inputs()
    with torch.no_grad():
        ref = g(*x)
        g_cl = g.to(memory_format=torch.channels_last)
        out_cl = g_cl(*[t.contiguous(memory_format=torch.channels_last) for t in x])
        torch.testing.assert_close(out_cl, ref, atol=1e-4, rtol=1e-4)
        with autocast(torch.device("cpu"), "bf16"):
            out_bf = g(*x)
        assert out_bf.dtype == torch.bfloat16
        agree = (out_bf.float().argmax(1) == ref.argmax(1)).float().mean()
        assert agree > 0.9
