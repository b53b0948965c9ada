"""Profiles: one command writes a named setting into params.yaml, comments kept, validated."""
from __future__ import annotations

import shutil

import pytest

from pipeline.config import load_params
from pipeline.profiles import PROFILES, apply_profile, main
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
        for key, value in values.items():
            assert getattr(getattr(params, section), key) == value, f"{section}.{key}"
    assert changed and "# the pipeline's single configuration source" in p.read_text().lower()
    apply_profile("default", p)
    assert p.read_bytes() == (REPO / "params.yaml").read_bytes()


def test_paper_profiles_follow_the_paper():
    df, market = PROFILES["deepfashion"], PROFILES["market"]
    assert (df["train"]["height"], df["train"]["width"], df["train"]["batch_size"]) == (256, 256, 4)
    assert (df["semantic"]["height"], df["semantic"]["width"]) == (128, 128)
    assert df["loss"]["face"] is True and market["loss"]["face"] is False
    assert (market["train"]["height"], market["train"]["width"]) == (128, 64)
    assert market["train"]["batch_size"] == 16


def test_unknown_profile_and_invalid_result_are_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["nosuch", "--params", str(tmp_path / "p.yaml")])
    p = tmp_path / "params.yaml"
    text = (REPO / "params.yaml").read_text().replace("  scheme: e2e ", "  scheme: nosuch ")
    assert "nosuch" in text
    p.write_text(text)
    before = p.read_bytes()
    assert main(["market", "--params", str(p)]) == 1
    assert "train.scheme" in capsys.readouterr().err
    assert p.read_bytes() == before                     # nothing written
