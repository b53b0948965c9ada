"""Profiles: one command writes a named setting into params.yaml, comments kept, validated."""
from __future__ import annotations

import shutil

import pytest

from pipeline.config.params import Params, load_params, validate
from pipeline.profiles import IMPROVEMENTS, PAPER_METHOD, PROFILES, apply_profile, list_text, main
from tests.helpers import REPO


def test_repository_params_are_the_default_profile(tmp_path):
    p = tmp_path / "params.yaml"
    shutil.copy(REPO / "params.yaml", p)
    assert apply_profile("default", p) == []
    assert p.read_bytes() == (REPO / "params.yaml").read_bytes()


@pytest.mark.parametrize("name", [n for n in PROFILES if n != "default"])
def test_a_profile_applies_and_reverts_byte_for_byte(tmp_path, name):
    p = tmp_path / "params.yaml"
    shutil.copy(REPO / "params.yaml", p)
    changed = apply_profile(name, p)
    params = load_params(p)
    for section, values in PROFILES[name].items():
        block = params
        for part in section.split("."):                 # "data.synthetic": a nested section
            block = getattr(block, part)
        for key, value in values.items():
            assert getattr(block, key) == value, f"{section}.{key}"
    assert changed and "# the pipeline's single configuration source" in p.read_text().lower()
    apply_profile("default", p)
    assert p.read_bytes() == (REPO / "params.yaml").read_bytes()


@pytest.mark.parametrize("name", list(PROFILES))
def test_profiles_validate(name):
    """Each profile, laid over the schema's defaults, validates and holds every value it
    claims; the ``default`` profile is the schema's defaults themselves."""
    raw: dict = {}
    for section, values in PROFILES[name].items():
        block = raw
        for part in section.split("."):                 # "data.synthetic": a nested section
            block = block.setdefault(part, {})
        block.update(values)
    params, defaults = validate(raw), Params()
    for section, values in PROFILES[name].items():
        block, default = params, defaults
        for part in section.split("."):
            block, default = getattr(block, part), getattr(default, part)
        for key, value in values.items():
            assert getattr(block, key) == value, f"{name}: {section}.{key}"
            if name == "default":
                assert value == getattr(default, key), f"{section}.{key}"
    assert set(PROFILES[name]) <= {"semantic", "posenet", "appearance", "loss",
                                   "data.synthetic"}


def test_paper_profiles_follow_the_paper():
    df, market = PROFILES["deepfashion"], PROFILES["market"]
    appearance = df["appearance"]
    assert (appearance["height"], appearance["width"], appearance["batch_size"]) == (256, 256, 4)
    assert (df["semantic"]["height"], df["semantic"]["width"]) == (128, 128)
    assert df["loss"]["face"] is True and market["loss"]["face"] is False
    assert (market["appearance"]["height"], market["appearance"]["width"]) == (128, 64)
    assert market["appearance"]["batch_size"] == 16


@pytest.mark.parametrize("name", ["deepfashion", "market"])
def test_paper_profiles_train_the_authors_method(name):
    """Every fidelity switch at the authors' value, none of this project's additions."""
    prof = PROFILES[name]
    for section, values in PAPER_METHOD.items():
        for key, value in values.items():
            assert prof[section][key] == value, f"{name}: {section}.{key}"
    ap, loss = prof["appearance"], prof["loss"]
    assert (ap["image_skip"], ap["blend"], ap["upsample"], ap["norm"]) == (
        False, False, "transposed", "authors")
    assert loss["cycle_l1"] == 0 and loss["require_imagenet_vgg"] is True
    assert ap["face_size"] == ap["height"] or not loss["face"]     # crop resampled to 256
    assert prof["semantic"]["heatmap_sigma"] == prof["posenet"]["heatmap_sigma"] == 6.0


@pytest.mark.parametrize("name", ["deepfashion", "market"])
def test_plus_profiles_differ_from_the_paper_only_by_named_improvements(name):
    paper, plus = PROFILES[name], PROFILES[f"{name}-plus"]
    named = {(s, k): v for layer in IMPROVEMENTS.values() for s, kv in layer.items()
             for k, v in kv.items()}
    diff = {(s, k): v for s, kv in plus.items() for k, v in kv.items()
            if paper[s].get(k) != v}
    assert diff == {sk: v for sk, v in named.items() if paper[sk[0]].get(sk[1]) != v}
    assert diff                                            # they do differ
    text = list_text()
    assert f"{name}-plus: {name} + this project's improvements:" in text
    for what in IMPROVEMENTS:
        assert what in text


def test_paper_profile_refuses_to_train_without_imagenet_vgg(tmp_path):
    from pipeline.models.vgg import VGGWeightsError
    from pipeline.training.appearance.stage import check_vgg

    p = tmp_path / "params.yaml"
    shutil.copy(REPO / "params.yaml", p)
    apply_profile("deepfashion", p)
    with pytest.raises(VGGWeightsError, match="loss.vgg_weights is empty.*"
                                              "loss.require_imagenet_vgg: false"):
        check_vgg(load_params(p))
    check_vgg(load_params(REPO / "params.yaml"))            # the default: offline trunk


def test_ablation_profile_is_the_default_training_on_a_larger_synthetic_set(tmp_path):
    default, ablation = PROFILES["default"], PROFILES["ablation"]
    assert {s: v for s, v in ablation.items() if s != "data.synthetic"} == \
        {s: v for s, v in default.items() if s != "data.synthetic"}
    assert default["data.synthetic"] == {"identities": 60, "poses_per_identity": 6,
                                         "pairs_per_identity": 4}     # the schema's defaults
    p = tmp_path / "params.yaml"
    shutil.copy(REPO / "params.yaml", p)
    assert sorted(apply_profile("ablation", p)) == [
        "data.synthetic.identities", "data.synthetic.pairs_per_identity"]
    syn = load_params(p).data.synthetic
    test_identities = round(syn.test_fraction * syn.identities)
    assert test_identities * syn.pairs_per_identity >= 5 * 48       # default: 12 x 4 pairs
    assert "identities: 160" in p.read_text()                       # written in place
    assert "  synthetic:                 # the embedded default dataset" in p.read_text()


def test_unknown_profile_and_invalid_result_are_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["nosuch", "--params", str(tmp_path / "p.yaml")])
    p = tmp_path / "params.yaml"
    text = (REPO / "params.yaml").read_text().replace("  scheme: e2e ", "  scheme: nosuch ")
    assert "nosuch" in text
    p.write_text(text)
    before = p.read_bytes()
    assert main(["market", "--params", str(p)]) == 1
    assert "appearance.scheme" in capsys.readouterr().err
    assert p.read_bytes() == before                     # nothing written
