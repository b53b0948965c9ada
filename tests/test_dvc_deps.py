"""dvc.yaml is the truth about what each stage reads: its code and its params.

Every stage of dvc.yaml whose command runs ``-m stages.X`` (``python -m`` or ``torchrun ... -m``)
is checked, so stages added later are covered with no edit here.

Code. The import closure of ``stages/X.py``, restricted to this repository's files, is computed
by a static walk of the syntax tree of every module it reaches. Every import statement counts,
at module level or inside a function (lazy imports), except those under ``if TYPE_CHECKING:``
(they never run). ``import a.b.c`` reaches a, a.b and a.b.c; ``from a.b import c`` reaches a
and a.b, and a.b.c when c is a submodule; relative imports resolve against their package; a
package is reached through its ``__init__.py``. The stage's deps must list exactly these .py
files (a listed folder stands for every .py file below it): a file of the closure that is not
listed fails, naming the stage and the file, and so does a listed .py file the stage never
imports (stale). Non-python deps (data files, artifacts, ``${data.root}``) are not checked.

Params. The keys the stage reads are derived from the same modules, statically, by following
the typed params sections. A variable holds a section when it is a function argument annotated
with a section class of the ``pipeline.config`` package, recognised by its class name
(``params: Params``, ``opts: SearchParams``; the import may sit under ``if TYPE_CHECKING:``),
when it is assigned from one (``search = params.search``; ``pose, data = params.pose,
params.data``) or from ``load_params()`` / ``load_sections(...)``. Reading ``var.key`` reads
that key (chains such as ``params.data.synthetic.seed`` are followed); ``section_dict(var)``
(the provenance record and cache key) and ``var.model_dump()`` read every key of the section,
except those named in ``section_dict``'s ``exclude=`` tuple. Each module counts with all its
functions, so the result may over-approximate what one stage run reads; a section handed to
an argument without a section annotation is not followed (the house style annotates public
arguments).
The modules of ``pipeline/config/`` are left out of this part: their validators read every key
to validate it, not to shape an output, and the always-run ``validate`` stage covers that.
The stage's ``params:`` must list every key read except the execution-only ones
(``config.params.execution_keys()``), must never list an execution-only key, and a listed key
that no code reads is stale. A listed section (``data.synthetic``) stands for all its keys.

Schema. A stage script loads only the sections it reads (``load_sections(DataParams, ...)``),
so its closure holds the schema module of each of them (``pipeline/config/data.py``) and no
other: the schema module of every section whose keys the stage reads must be in its closure
(else the partial load lacks it), and adding a key to a section's schema reruns only the
stages that read the section.

Maintainers: ``python -m tests.test_dvc_deps --fix`` rewrites the ``.py`` code deps of every
python stage of dvc.yaml to its computed closure (other deps kept as they are, in place).
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from pipeline.config.params import Params, execution_keys
from tests.helpers import REPO

#: Top-level packages whose modules are this repository's code.
LOCAL_PACKAGES = ("pipeline", "stages")
#: Packages whose modules are left out of the params analysis (see the module docstring).
NOT_READERS = ("pipeline.config",)
#: Calls that return the params object of a stage (every loaded section).
LOADERS = ("load_params", "load_sections")
_STAGE_CMD = re.compile(r"(?:^|\s)-m\s+stages\.(\w+)")


# --------------------------------------------------------------------------- import closure
def module_file(module: str) -> Path | None:
    """The repository file of a dotted module name (package -> its __init__.py), or None."""
    if module.split(".")[0] not in LOCAL_PACKAGES:
        return None
    base = REPO.joinpath(*module.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (imports there never run)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skip.update(id(n) for n in ast.walk(child))
    return skip


def imported_modules(path: Path) -> set[str]:
    """Dotted names of the local modules one file's import statements reach (all of them)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _type_checking_nodes(tree)
    this = _module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            parts = base.split(".")
            names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            for alias in node.names:
                names.add(f"{base}.{alias.name}")           # kept only if it is a submodule
    return {n for n in names if module_file(n) is not None}


@lru_cache(maxsize=None)
def import_closure(entry: str) -> frozenset[Path]:
    """Every repository file the module ``entry`` (e.g. "stages.search") runs, transitively."""
    todo = [entry, *(entry.split(".")[:i] and ".".join(entry.split(".")[:i])
                     for i in range(1, len(entry.split("."))))]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen or module_file(module) is None:
            continue
        seen.add(module)
        todo.extend(imported_modules(module_file(module)))
    return frozenset(module_file(m) for m in seen)


# --------------------------------------------------------------------------- params reads
def _section_prefixes(model: type[BaseModel] = Params, prefix: str = "") -> dict[str, str]:
    """Section class name -> dotted prefix ("Params" -> "", "SearchParams" -> "search")."""
    out = {model.__name__: prefix}
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(_section_prefixes(ann, f"{prefix}{name}."))
    return out


SECTIONS = {cls: prefix.rstrip(".") for cls, prefix in _section_prefixes().items()}
SECTION_KEYS = set(SECTIONS.values())


def _leaves(model: type[BaseModel] = Params, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out |= _leaves(ann, f"{prefix}{name}.")
        else:
            out.add(f"{prefix}{name}")
    return out


LEAVES = _leaves()


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _under(prefix: str, exclude: tuple[str, ...] = ()) -> set[str]:
    """Every leaf key of the section ``prefix`` (minus the excluded sub-keys)."""
    keys = {k for k in LEAVES if not prefix or k == prefix or k.startswith(prefix + ".")}
    for sub in exclude:
        drop = _join(prefix, sub)
        keys = {k for k in keys if k != drop and not k.startswith(drop + ".")}
    return keys


def _annotation_section(node: ast.expr | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
    return SECTIONS.get(name) if name else None


class _Scope:
    """Which names hold which params section inside one function (or a module's top level)."""

    def __init__(self, args: ast.arguments | None, body: list[ast.AST]) -> None:
        self.env: dict[str, str] = {}
        if args is not None:
            for a in args.posonlyargs + args.args + args.kwonlyargs:
                section = _annotation_section(a.annotation)
                if section is not None:
                    self.env[a.arg] = section
        assigns = [n for stmt in body for n in ast.walk(stmt)
                   if isinstance(n, (ast.Assign, ast.AnnAssign))]
        for _ in range(4):                      # a few rounds settle chained assignments
            for node in assigns:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    self._bind(target, node.value)

    def _bind(self, target: ast.expr, value: ast.expr | None) -> None:
        if value is None:
            return
        if isinstance(target, ast.Name):
            section = self.resolve(value)
            if section is not None:
                self.env[target.id] = section
        elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for t, v in zip(target.elts, value.elts):
                self._bind(t, v)

    def resolve(self, node: ast.expr) -> str | None:
        """The section an expression evaluates to, or None."""
        if isinstance(node, ast.Name):
            return self.env.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if base is not None and _join(base, node.attr) in SECTION_KEYS:
                return _join(base, node.attr)
            return None
        if isinstance(node, ast.Call) and getattr(node.func, "id",
                                                  getattr(node.func, "attr", None)) in LOADERS:
            return ""
        return None


def _exclude_arg(call: ast.Call) -> tuple[str, ...]:
    for kw in call.keywords:
        if kw.arg == "exclude" and isinstance(kw.value, (ast.Tuple, ast.List, ast.Set)):
            return tuple(e.value for e in kw.value.elts if isinstance(e, ast.Constant))
    return ()


def _scopes(tree: ast.Module) -> Iterator[tuple[_Scope, list[ast.AST]]]:
    top = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                       ast.ClassDef))]
    yield _Scope(None, top), top
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            body = node.body if isinstance(node.body, list) else [node.body]
            yield _Scope(node.args, body), body


def params_read(path: Path) -> set[str]:
    """Leaf params keys one module reads (see the module docstring)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    keys: set[str] = set()
    for scope, body in _scopes(tree):
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Attribute):
                    base = scope.resolve(node.value)
                    if base is None:
                        continue
                    key = _join(base, node.attr)
                    if key in LEAVES:
                        keys.add(key)
                    elif node.attr in ("model_dump", "model_dump_json"):
                        keys |= _under(base)
                elif (isinstance(node, ast.Call) and node.args
                      and getattr(node.func, "id", getattr(node.func, "attr", None))
                      == "section_dict"):
                    base = scope.resolve(node.args[0])
                    if base is not None:
                        keys |= _under(base, _exclude_arg(node))
    return keys


# --------------------------------------------------------------------------- dvc.yaml
def _dvc_stages() -> dict[str, dict]:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def _python_stages() -> list[tuple[str, str]]:
    """(dvc stage name, stages module) of every stage that runs ``-m stages.X``."""
    out = []
    for name, spec in _dvc_stages().items():
        match = _STAGE_CMD.search(str(spec.get("cmd", "")))
        if match:
            out.append((name, f"stages.{match.group(1)}"))
    return out


def _listed_py(spec: dict) -> set[Path]:
    files: set[Path] = set()
    for dep in spec.get("deps", []) or []:
        dep = str(dep)
        if "${" in dep:
            continue
        path = REPO / dep
        if path.is_dir():
            files |= {p for p in path.rglob("*.py") if "__pycache__" not in p.parts}
        elif path.suffix == ".py":
            files.add(path)
    return files


def _listed_params(spec: dict) -> set[str]:
    keys: set[str] = set()
    for entry in spec.get("params", []) or []:
        items = [entry] if isinstance(entry, str) else [k for v in entry.values() for k in v]
        for key in items:
            under = _under(key)
            keys |= under if under else {key}        # an unknown key stays visible
    return keys


def stage_code(module: str) -> frozenset[Path]:
    return import_closure(module)


def _reader(path: Path) -> bool:
    """Whether a file's params reads count (not a module of the :data:`NOT_READERS`)."""
    name = _module_name(path)
    return not any(name == p or name.startswith(p + ".") for p in NOT_READERS)


def stage_params(module: str) -> set[str]:
    """Every params key the code of stage ``module`` reads (execution-only keys included)."""
    return set().union(*(params_read(f) for f in stage_code(module) if _reader(f)))


def section_schema_file(section: str) -> Path:
    """The schema module of a top-level section ("loss" -> pipeline/config/loss.py)."""
    return module_file(Params.model_fields[section].annotation.__module__)


def schema_sections(code: frozenset[Path] | set[Path]) -> set[str]:
    """Top-level sections whose schema module is in ``code`` (a stage's closure)."""
    return {s for s in Params.model_fields if section_schema_file(s) in code}


STAGES = _python_stages()


def test_every_python_stage_is_found():
    names = {n for n, _ in STAGES}
    assert {"synthesize", "ingest", "pose", "parse", "masks", "search", "search_report",
            "validate"} <= names


@pytest.mark.parametrize("stage,module", STAGES, ids=[s for s, _ in STAGES])
def test_deps_list_exactly_the_code_the_stage_runs(stage, module):
    spec = _dvc_stages()[stage]
    code = set(stage_code(module))
    assert module_file(module) in code, f"{stage}: {module} not found"
    listed = _listed_py(spec)
    missing = sorted(str(p.relative_to(REPO)) for p in code - listed)
    stale = sorted(str(p.relative_to(REPO)) for p in listed - code)
    assert not missing, f"dvc.yaml stage {stage!r} does not list code it runs: {missing}"
    assert not stale, f"dvc.yaml stage {stage!r} lists code it never imports: {stale}"


@pytest.mark.parametrize("stage,module", STAGES, ids=[s for s, _ in STAGES])
def test_params_list_exactly_the_keys_the_stage_reads(stage, module):
    spec = _dvc_stages()[stage]
    listed = _listed_params(spec)
    execution = execution_keys()
    unknown = sorted(listed - LEAVES)
    assert not unknown, f"dvc.yaml stage {stage!r} lists keys the schema lacks: {unknown}"
    listed_execution = sorted(listed & execution)
    assert not listed_execution, (f"dvc.yaml stage {stage!r} lists execution-only keys "
                                  f"(they must never rerun a stage): {listed_execution}")
    read = stage_params(module) - execution
    missing = sorted(read - listed)
    stale = sorted(listed - read)
    assert not missing, f"dvc.yaml stage {stage!r} does not list params it reads: {missing}"
    assert not stale, f"dvc.yaml stage {stage!r} lists params it never reads: {stale}"


# --------------------------------------------------------------------------- the analysis itself
def test_closure_follows_lazy_and_submodule_imports_but_not_type_checking():
    search = stage_code("stages.search")
    rel = {str(p.relative_to(REPO)) for p in search}
    assert {"pipeline/__init__.py", "pipeline/search/__init__.py", "pipeline/search/kernel.py",
            "pipeline/geometry/__init__.py", "pipeline/config/__init__.py",
            "pipeline/config/base.py", "pipeline/config/loader.py", "pipeline/config/search.py",
            "pipeline/cli.py", "stages/__init__.py", "stages/search.py"} <= rel
    # only the schema of the section it reads: params.py (all of them) only under TYPE_CHECKING
    assert not {"pipeline/config/params.py", "pipeline/config/loss.py",
                "pipeline/config/data.py"} & rel
    assert not any(r.startswith("pipeline/synthetic/") for r in rel)   # evaluation left it
    parse = {str(p.relative_to(REPO)) for p in stage_code("stages.parse")}
    assert "pipeline/parsing/coarse.py" in parse                   # imported inside run()
    assert "pipeline/pose/mediapipe_detector.py" in parse
    report = {str(p.relative_to(REPO)) for p in stage_code("stages.search_report")}
    assert "pipeline/synthetic/oracle.py" in report                # lazy import
    assert "pipeline/synthetic/dataset.py" not in report           # TYPE_CHECKING only


def test_params_analysis_follows_sections(tmp_path: Path, monkeypatch):
    code = '''
from typing import TYPE_CHECKING

from pipeline.config.base import section_dict
from pipeline.config.loader import load_sections
from pipeline.config.params import load_params
from pipeline.config.pose import PoseParams

if TYPE_CHECKING:
    from pipeline.config.params import Params
    from pipeline.config.search import SearchParams

def run(params: Params, paths):
    search, data = params.search, params.data
    x = search.top_k + data.synthetic.seed
    sub = data.synthetic
    record = section_dict(params.parse, exclude=("mapping",))
    return sub.identities, load_params().pose.backend, load_sections(PoseParams).pose.workers

def helper(opts: "SearchParams"):
    return opts.mismatch_cost, opts.workers
'''
    path = tmp_path / "mod.py"
    path.write_text(code)
    keys = params_read(path)
    # section_dict reads the whole section but "mapping" (execution keys drop out later)
    assert keys == {"search.top_k", "data.synthetic.seed", "data.synthetic.identities",
                    "parse.backend", "parse.labels_dir", "parse.label_set", "parse.workers",
                    "pose.backend", "pose.workers", "search.mismatch_cost", "search.workers"}


# --------------------------------------------------------------------------- schema modules
#: Stages that do not read the loss section: a key added to it must not rerun them.
LOSS_FREE_STAGES = ("synthesize", "ingest", "pose", "parse", "masks", "search", "search_report",
                    "train_semantic", "train_posenet")


@pytest.mark.parametrize("stage", LOSS_FREE_STAGES)
def test_a_new_loss_key_does_not_rerun_stages_that_do_not_read_loss(stage):
    """Adding a key to the loss section edits pipeline/config/loss.py (and params.yaml, whose
    new key no stage lists): a stage reruns only if that module is one of its deps."""
    loss = section_schema_file("loss")
    module = dict(STAGES)[stage]
    assert "loss" not in {k.split(".")[0] for k in stage_params(module)}
    assert loss not in stage_code(module), f"{stage} imports {loss.relative_to(REPO)}"
    assert loss not in _listed_py(_dvc_stages()[stage]), f"dvc.yaml {stage} lists it"


def _importers(code: frozenset[Path], target: Path) -> list[str]:
    """Files of ``code`` whose (runtime) imports reach the module file ``target``."""
    name = _module_name(target)
    return sorted(str(f.relative_to(REPO)) for f in code if name in imported_modules(f))


@pytest.mark.parametrize("stage,module", STAGES, ids=[s for s, _ in STAGES])
def test_closure_holds_the_schema_of_exactly_the_sections_the_stage_reads(stage, module):
    """A stage loads the sections it reads (``load_sections(DataParams, ...)``): each of their
    schema modules is in its closure (a section left out fails at run time), and no other one
    is (a key added to another section must not rerun it). A stage that runs the full
    validation (pipeline/config/params.py: `validate`) reads every section by design."""
    code = stage_code(module)
    if module_file("pipeline.config.params") in code:
        assert _importers(code, module_file("pipeline.config.params")) == [
            str(module_file(module).relative_to(REPO))], f"{stage}: full schema imported"
        return
    read = {k.split(".")[0] for k in stage_params(module)}
    have = schema_sections(code)
    missing = sorted(read - have)
    assert not missing, f"{stage} reads sections it does not load: {missing}"
    extra = {s: _importers(code, section_schema_file(s)) for s in sorted(have - read)}
    assert not extra, f"{stage} imports the schema of sections it never reads: {extra}"


# --------------------------------------------------------------------------- maintenance
def _is_code_dep(dep: str) -> bool:
    """A dvc.yaml dep that is this repository's code: a .py file, or a folder of a local
    package (data files, artifacts and ``${...}`` are not)."""
    if "${" in dep:
        return False
    return dep.endswith(".py") or (dep.split("/")[0] in LOCAL_PACKAGES
                                   and (REPO / dep).is_dir())


def fixed_dvc_yaml(text: str) -> tuple[str, list[str]]:
    """``text`` (dvc.yaml) with the code deps of every python stage set to its import closure,
    and the names of the stages that changed. Only the code items of each ``deps:`` list are
    rewritten (sorted, at the place of the first one); every other line is kept as it is."""
    lines = text.split("\n")
    changed = []
    for stage, module in _python_stages():
        code = sorted(str(p.relative_to(REPO)) for p in stage_code(module))
        start = lines.index(f"  {stage}:")
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].strip() and not lines[i].startswith("   ")), len(lines))
        block = lines[start:end]
        if "    deps:" in block:
            first = block.index("    deps:") + 1
            last = first
            while last < len(block) and block[last].startswith("      "):
                last += 1
        else:                                     # no deps yet: a list after the command
            cmd = next(i for i, line in enumerate(block) if line.startswith("    cmd:"))
            block[cmd + 1:cmd + 1] = ["    deps:"]
            first = last = cmd + 2
        items = block[first:last]
        keep = [line for line in items
                if not (line.startswith("      - ") and _is_code_dep(line[8:].strip()))]
        at = next((i for i, line in enumerate(items) if line not in keep), 0)
        at = sum(1 for line in items[:at] if line in keep)
        new = keep[:at] + [f"      - {path}" for path in code] + keep[at:]
        if new != items:
            changed.append(stage)
            block[first:last] = new
            lines[start:end] = block
    return "\n".join(lines), changed


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.test_dvc_deps [--fix]``: list (or, with --fix, rewrite in dvc.yaml)
    the stages whose code deps differ from their import closure."""
    ap = argparse.ArgumentParser(prog="python -m tests.test_dvc_deps",
                                 description="Check or regenerate the code deps of dvc.yaml.")
    ap.add_argument("--fix", action="store_true",
                    help="rewrite the .py deps of each python stage to its import closure")
    args = ap.parse_args(argv)
    path = REPO / "dvc.yaml"
    text, changed = fixed_dvc_yaml(path.read_text())
    if args.fix and changed:
        path.write_text(text)
    verb = "rewrote" if args.fix else "out of date"
    print(f"{path.name}: {verb}: {', '.join(changed)}" if changed
          else f"{path.name}: code deps up to date")
    return 1 if changed and not args.fix else 0


if __name__ == "__main__":
    sys.exit(main())
