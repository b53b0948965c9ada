"""E2E as in the paper: the mapped-back source map S~_Ps in the way back and in the second style
term, D_S's adversarial loss in the joint phase, and D_A conditioned on one-hot maps for real
and generated images alike (pipeline.appearance_schemes)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from pipeline.inference.semantic_inputs import one_hot_maps
from pipeline.losses.style import region_style_loss, semantic_regions
from tests.model_fixtures import appearance_params as _params, appearance_scheme as _scheme


class _Recorder(nn.Module):
    """A stand-in G_S: records its inputs, returns fixed logits that favour label 3."""

    def __init__(self, arch) -> None:
        super().__init__()
        self.arch = arch
        self.calls: list[tuple[list[torch.Tensor], dict]] = []

    def forward(self, *args, **kw):
        self.calls.append((list(args), kw))
        b, h, w = args[0].shape[0], args[0].shape[-2], args[0].shape[-1]
        out = torch.zeros(b, 10, h, w)
        out[:, 3] = 5.0
        return out


def test_mapped_back_map_is_g_s_of_its_own_prediction_taken_back_to_the_source_pose(project):
    """S~_Ps = G_S(softmax S~_Pt, P_t, M_Pt -> P_s, M_Ps) with the target -> source affines and
    the target's parts: each argument checked against the batch by hand."""
    paths = project("mapped")
    scheme, batch = _scheme(_params({"scheme": "e2e"}), paths)
    x = scheme._to_device(batch)
    rec = _Recorder(scheme.frozen.semantic.arch)
    logits = torch.randn(2, 10, 16, 16)
    maps, back = scheme.renderer.__class__(scheme.scheme, scheme.arch, rec).mapped_back(x, logits)
    (args, kw), = rec.calls
    sem = x["sem"]
    assert torch.allclose(args[0], logits.softmax(1))               # S~_Pt, soft
    for got, key in zip(args[1:], ("tgt_heatmaps", "tgt_pose_mask", "src_heatmaps",
                                   "src_pose_mask")):
        assert torch.equal(got, sem[key]), key
    assert torch.equal(kw["theta"], sem["back_theta"])              # target -> source
    assert torch.equal(kw["src_parts"], sem["tgt_parts"])           # parts of the target frame
    assert torch.equal(kw["part_valid"], sem["back_part_valid"])
    assert maps.shape == (2, 10, 32, 32)                             # upsampled to G_A's size
    assert torch.allclose(maps.sum(1), torch.ones(2, 32, 32))
    assert maps.argmax(1).eq(3).all() and back.shape == (2, 10, 16, 16)


@pytest.mark.parametrize("name", ["ts_pred", "e2e"])
def test_way_back_uses_s_tilde_ps_in_e2e_only(project, name):
    paths = project(f"back-{name}")
    scheme, batch = _scheme(_params({"scheme": name}), paths)
    out = scheme.generate(batch, back=True)
    parser = one_hot_maps(batch["src_labels"])
    if name == "e2e":
        assert out.back_logits is not None
        assert not torch.equal(out.src_maps, parser)
        assert torch.allclose(out.src_maps.sum(1), torch.ones_like(out.src_maps[:, 0]))
    else:
        assert out.back_logits is None and torch.equal(out.src_maps, parser)


def test_second_style_term_reads_the_mapped_back_regions(project, monkeypatch):
    """The style loss of e2e is style(I_s, S_Ps; I~_Pt, S~_Pt) + style(I~_Ps, S~_Ps; I~_Pt,
    S~_Pt): recomputed by hand from the scheme's own cycle output."""
    paths = project("style")
    params = _params({"scheme": "e2e"}, {"content": 0.0, "pose": 0.0, "adv": 0.0,
                                         "face": False, "cycle_l1": 0.0})
    scheme, batch = _scheme(params, paths)
    scheme.train(False)
    x = scheme._to_device(batch)
    with torch.no_grad():
        out = scheme.cycle(x, scheme.generator)
        assert out.back_logits is not None
        # maps that share regions (an untrained G_S predicts one label everywhere): the
        # parser's maps, and a shifted copy of S_Ps as the mapped-back S~_Ps
        out.tgt_maps = one_hot_maps(x["tgt_labels"])
        out.src_maps = one_hot_maps(x["src_labels"].roll(4, -1))
        src_maps = one_hot_maps(x["src_labels"])
        got = scheme.generator_losses(x, out, src_maps)["loss_style"]
        vgg = scheme.frozen.vgg
        f_src, f_t, f_s = vgg(x["src_image"]), vgg(out.fake_t), vgg(out.fake_s)
        want = (region_style_loss(f_src, semantic_regions(src_maps), f_t,
                                  semantic_regions(out.tgt_maps))
                + region_style_loss(f_s, semantic_regions(out.src_maps), f_t,
                                    semantic_regions(out.tgt_maps)))
        parser_second = (region_style_loss(f_src, semantic_regions(src_maps), f_t,
                                           semantic_regions(out.tgt_maps))
                         + region_style_loss(f_s, semantic_regions(src_maps), f_t,
                                             semantic_regions(out.tgt_maps)))
    assert torch.allclose(got, want, rtol=1e-4)
    assert got > 0 and not torch.allclose(got, parser_second, rtol=1e-4)  # not S_Ps


def test_d_a_condition_is_one_hot_for_real_and_generated_images(project):
    paths = project("cond")
    scheme, _ = _scheme(_params({"scheme": "ts_pred"}), paths)
    soft = torch.tensor([0.2, 0.5, 0.3] + [0.0] * 7).view(1, 10, 1, 1).expand(1, 10, 2, 2)
    cond = scheme._condition(soft.clone().requires_grad_(True), torch.zeros(1, 18, 2, 2))
    want = torch.zeros(1, 10, 2, 2)
    want[:, 1] = 1.0                                                 # argmax = label 1
    assert torch.equal(cond, want) and not cond.requires_grad       # no gradient to G_S
    onehot = one_hot_maps(torch.tensor([[[4, 0], [9, 2]]]))
    assert torch.equal(scheme._condition(onehot, torch.zeros(1, 18, 2, 2)), onehot)


def test_d_s_trains_in_the_joint_phase_only(project):
    """e2e, 4 steps, the last 2 joint: D_S's weights move only then, and G_S's loss carries
    its adversarial term; ``loss.semantic_adv: 0`` trains without D_S."""
    paths = project("d_s")
    scheme, batch = _scheme(_params({"scheme": "e2e"}), paths)
    d_s = scheme.networks["semantic_discriminator"]
    start = {k: v.clone() for k, v in d_s.state_dict().items()}
    seen = []
    for step in range(4):
        scheme.set_input(batch)
        losses = scheme.optimize_parameters()
        moved = any(not torch.equal(v, start[k]) for k, v in d_s.state_dict().items())
        seen.append((("loss_semantic_adv" in losses), ("loss_d_semantic" in losses), moved))
    assert seen[:2] == [(False, False, False)] * 2
    assert seen[2:] == [(True, True, True)] * 2
    off, _ = _scheme(_params({"scheme": "e2e"}, {"semantic_adv": 0.0}), paths)
    assert "semantic_discriminator" not in off.networks


def test_e2e_without_joint_steps_needs_no_d_s(project):
    paths = project("nojoint")
    (paths.models / "semantic_discriminator.safetensors").unlink()
    scheme, batch = _scheme(_params({"scheme": "e2e", "joint_iterations": 0}), paths)
    assert "semantic_discriminator" not in scheme.networks
    scheme.set_input(batch)
    assert "loss_semantic_adv" not in scheme.optimize_parameters()


def test_pose_loss_needs_one_heatmap_sigma():
    from pipeline.models.blocks import ArchitectureError
    from pipeline.training.appearance.stage import check_pose_targets

    params = _params({"heatmap_sigma": 6.0})
    with pytest.raises(ArchitectureError, match="posenet.heatmap_sigma = 0.0.*"
                                                "appearance.heatmap_sigma = 6.0"):
        check_pose_targets(params)
    check_pose_targets(_params({"heatmap_sigma": 6.0}, {"pose": 0.0}))   # no pose loss
    check_pose_targets(_params())
