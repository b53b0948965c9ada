"""The design card's import rules, checked on the syntax tree of every module (lazy imports
included): pure geometry never imports torch; evaluation, the applications and inference never
import the training package (they share pipeline.inference and pipeline.evaluation with it)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO

#: package folder -> module prefixes that no module below it may import.
FORBIDDEN = {
    "pipeline/geometry": ("torch",),
    "pipeline/evaluation": ("pipeline.training",),
    "pipeline/applications": ("pipeline.training",),
    "pipeline/inference": ("pipeline.training", "pipeline.evaluation"),
}


def imports(path: Path) -> set[str]:
    """Every module name an import statement of ``path`` names (absolute imports)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _hits(names: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names for p in prefixes if n == p or n.startswith(p + "."))


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_forbidden_imports(folder):
    bad = {str(p.relative_to(REPO)): _hits(imports(p), FORBIDDEN[folder])
           for p in sorted((REPO / folder).rglob("*.py"))}
    assert not {k: v for k, v in bad.items() if v}


def test_the_check_sees_lazy_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from pipeline.training.loop import train\n"
                      "    import torch.nn\n")
    assert _hits(imports(module), ("pipeline.training", "torch")) == [
        "pipeline.training.loop", "torch.nn"]
