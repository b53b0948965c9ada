"""Model files: byte-stable, rebuilt exactly, and a missing or invalid file is one line."""
from __future__ import annotations

import pytest
import torch

from pipeline.inference.model_files import (ModelFileError, load_model_file, read_model_file,
                                            save_model_file)
from pipeline.models.semantic import SemanticArch, SemanticGenerator

ARCH = SemanticArch(height=32, width=32, channels=4, depth=2, max_channels=8, disc_layers=2)


def test_model_file_rebuilds_the_network_and_is_byte_stable(tmp_path):
    torch.manual_seed(0)
    net = SemanticGenerator(ARCH).eval()
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    save_model_file(a, "semantic_generator", net, ARCH.to_dict(), extra={"stage": "test"})
    save_model_file(b, "semantic_generator", net, ARCH.to_dict(), extra={"stage": "test"})
    assert a.read_bytes() == b.read_bytes()
    _, meta = read_model_file(a)
    assert meta["network"] == "semantic_generator" and meta["stage"] == "test"
    rebuilt = load_model_file(a)
    x = [torch.rand(1, c, 32, 32) for c in (10, 18, 1, 18, 1)]
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(*x), net(*x), rtol=0, atol=0)


def test_missing_or_invalid_model_file_is_one_line(tmp_path):
    with pytest.raises(ModelFileError) as err:
        load_model_file(tmp_path / "models" / "semantic.safetensors")
    assert "\n" not in str(err.value) and "train_semantic" in str(err.value)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 16)
    with pytest.raises(ModelFileError, match="safetensors"):
        load_model_file(junk)
