from pathlib import Path

import pytest
import yaml

from pipeline.config.base import ParamsError
from pipeline.config.params import load_params, validate
from tests.helpers import REPO


def test_repo_params_validate():
    params = load_params(REPO / "params.yaml")
    assert params.data.source == "synthetic"


def test_every_key_documented():
    """Every key of params.yaml is named in the parameter reference (docs/parameters.md, which
    the README points to)."""
    readme = (REPO / "docs" / "parameters.md").read_text()
    raw = yaml.safe_load((REPO / "params.yaml").read_text())

    def keys(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict) and f"{prefix}{k}" != "parse.mapping":
                yield from keys(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k}"

    missing = [k for k in keys(raw) if f"`{k}`" not in readme]
    assert not missing, f"docs/parameters.md does not document: {missing}"


def test_params_yaml_spells_out_every_key_at_its_default():
    """params.yaml holds every key of the schema (no key is only a hidden default), each at
    the schema's default value: the file is the documentation users edit."""
    from pydantic import BaseModel

    from pipeline.config.params import Params

    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    given, defaults = validate(raw), Params()

    def walk(model: BaseModel, other: BaseModel, values: dict, prefix: str = ""):
        for name in type(model).model_fields:
            key = f"{prefix}{name}"
            assert name in values, f"params.yaml lacks {key}"
            mine, theirs = getattr(model, name), getattr(other, name)
            if isinstance(mine, BaseModel):
                yield from walk(mine, theirs, values[name], f"{key}.")
            elif mine != theirs and key != "parse.mapping":
                # parse.mapping: the schema's default is empty (the default tables live in
                # pipeline/parser_labels.py); params.yaml lists them for users to edit
                yield key

    differ = list(walk(given, defaults, raw))
    assert not differ, f"params.yaml differs from the schema defaults at: {differ}"


@pytest.mark.parametrize("raw,needles", [
    ({"data": {"height": -3}}, ["data.height = -3", "greater than or equal to 16"]),
    ({"data": {"sorce": "x"}}, ["data.sorce", "unknown key"]),
    ({"data": {"source": "imagenet"}}, ["data.source = 'imagenet'", "'synthetic'"]),
    ({"data": {"synthetic": {"identities": "many"}}}, ["data.synthetic.identities = 'many'"]),
    ({"data": {"synthetic": {"test_fraction": 1.5}}}, ["data.synthetic.test_fraction = 1.5"]),
    ({"nonsense": 1}, ["nonsense", "unknown key"]),
    ({"parse": {"mapping": {"lip": {"Coat": "coat"}}}},
     ["parse.mapping", "label set 'lip': invalid target label(s) 'Coat' -> 'coat'"]),
    ({"data": {"annotations": []}, "pose": {"backend": "annotations"}},
     ["pose.backend = 'annotations' needs at least one file in data.annotations"]),
])
def test_errors_name_key_value_and_rule(raw, needles):
    with pytest.raises(ParamsError) as err:
        validate(raw, "params.yaml")
    for needle in needles:
        assert needle in str(err.value)


def test_yaml_errors(tmp_path: Path):
    p = tmp_path / "params.yaml"
    p.write_text("data: [unclosed\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(p)
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "missing.yaml")
    p.write_text("- a\n- b\n")
    with pytest.raises(ParamsError, match="mapping"):
        load_params(p)


def test_single_annotation_string_accepted():
    assert validate({"data": {"annotations": "a.csv"}}).data.annotations == ["a.csv"]
    assert validate({"data": {"annotations": ""}}).data.annotations == []


def test_execution_keys_come_from_the_schema():
    from pipeline.config.params import execution_keys

    keys = execution_keys()
    assert {"data.workers", "pose.workers", "parse.workers", "masks.workers", "search.workers",
            "search.backend", "search.scheduler", "search.block_size"} <= keys
    assert not keys & {"search.top_k", "search.height", "data.root", "pose.backend"}


def test_section_dict_records_only_result_shaping_keys():
    from pipeline.config.base import section_dict

    params = validate({"search": {"workers": 7, "backend": "threading", "top_k": 3}})
    record = section_dict(params.search)
    assert record["top_k"] == 3
    assert not {"workers", "backend", "scheduler", "block_size"} & set(record)
    assert section_dict(params.masks) == {}
    assert "synthetic" not in section_dict(params.data, exclude=("synthetic",))
    assert "workers" not in section_dict(params.data)


def _local_imports(path: Path) -> set[str]:
    """Dotted names of the pipeline modules one file imports (anywhere in the file)."""
    import ast

    local = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipeline"):
            local.add(node.module)
        elif isinstance(node, ast.Import):
            local |= {a.name for a in node.names if a.name.startswith("pipeline")}
    return local


def test_config_imports_no_stage_package():
    """The schema is imported by every stage: it may import only leaf modules of the package
    (a stage package imported here would make every stage depend on that stage's code)."""
    import pipeline.config

    folder = Path(pipeline.config.__file__).parent
    own = {f"pipeline.config.{p.stem}" for p in folder.glob("*.py")} | {"pipeline.config"}
    for path in folder.glob("*.py"):
        local = _local_imports(path) - own
        assert local <= {"pipeline.parser_labels", "pipeline.labels"}, (path.name, local)


SECTION_MODULES = ("data", "pose", "parse", "masks", "search", "semantic", "posenet",
                   "appearance", "loss", "evaluate", "training")


def test_shared_modules_import_no_section():
    """The package's __init__ imports nothing, and the modules every stage imports (base,
    loader, rules) import no section module: a stage's closure holds only the schema modules
    of the sections it passes to load_sections."""
    import pipeline.config

    folder = Path(pipeline.config.__file__).parent
    assert _local_imports(folder / "__init__.py") == set()
    sections = {f"pipeline.config.{m}" for m in SECTION_MODULES} | {"pipeline.config.params"}
    for name in ("base", "loader", "rules"):
        assert not _local_imports(folder / f"{name}.py") & sections, name


def test_section_names_match_the_schema():
    from pipeline.config.base import SECTION_NAMES
    from pipeline.config.params import Params

    assert SECTION_NAMES == tuple(Params.model_fields)
    for name, field in Params.model_fields.items():
        assert field.annotation.SECTION == name
        assert field.annotation.__module__ == f"pipeline.config.{name}"


# --------------------------------------------------------------------------- renamed sections
@pytest.mark.parametrize("raw,message", [
    ({"train": {"lr": 0.1}},
     "params.yaml: section 'train' was renamed 'appearance' (train.lr -> appearance.lr)"),
    ({"appearance": {"lr": 0.1}, "train": {"lr": 0.1, "seed": 3}},
     "params.yaml: section 'train' was renamed 'appearance' (train.lr -> appearance.lr, "
     "train.seed -> appearance.seed)"),
    ({"train": None}, "params.yaml: section 'train' was renamed 'appearance'"),
])
def test_renamed_section_names_the_new_key_in_one_line(raw, message):
    from pipeline.config.data import DataParams
    from pipeline.config.loader import validate_sections

    with pytest.raises(ParamsError) as err:
        validate(raw, "params.yaml")
    assert str(err.value) == message
    with pytest.raises(ParamsError) as err:             # a stage that does not read it too
        validate_sections(raw, DataParams, path="params.yaml")
    assert str(err.value) == message


def test_dvc_exp_set_of_an_old_key_fails_naming_the_new_one(tmp_path: Path):
    """``dvc exp run -S train.lr=0.001`` adds a ``train:`` section to params.yaml."""
    p = tmp_path / "params.yaml"
    p.write_text((REPO / "params.yaml").read_text() + "train:\n  lr: 0.001\n")
    with pytest.raises(ParamsError) as err:
        load_params(p)
    assert str(err.value) == (f"{p}: section 'train' was renamed 'appearance' "
                              f"(train.lr -> appearance.lr)")


# --------------------------------------------------------------------------- partial loads
def _section_classes():
    from pipeline.config.params import Params

    return {name: field.annotation for name, field in Params.model_fields.items()}


def test_partial_load_equals_the_full_load_of_its_sections():
    from pipeline.config.loader import load_sections

    classes = _section_classes()
    full = load_params(REPO / "params.yaml")
    for names in (["data"], ["data", "pose"], ["masks"], ["appearance", "loss"],
                  ["data", "parse", "posenet", "evaluate"], list(classes)):
        part = load_sections(*(classes[n] for n in names), path=REPO / "params.yaml")
        assert list(type(part).model_fields) == names
        for name in names:
            assert getattr(part, name) == getattr(full, name)
            assert type(getattr(part, name)) is type(getattr(full, name))
    part = load_sections(classes["data"], path=REPO / "params.yaml")
    with pytest.raises(AttributeError, match=r"params.loss: section not loaded by this stage"):
        part.loss


@pytest.mark.parametrize("raw,sections", [
    ({"data": {"height": -3}}, ["data"]),
    ({"data": {"sorce": "x"}, "pose": {"workers": 0}}, ["data", "pose"]),
    ({"nonsense": 1}, ["masks"]),
    ({"semantic": {"height": 60}}, ["data", "semantic"]),
    ({"parse": {"mapping": {"lip": {"Coat": "coat"}}}}, ["data", "parse"]),
    ({"data": {"source": "market"}, "pose": {"backend": "auto"}}, ["data", "parse"]),
    ({"data": {"annotations": []}, "pose": {"backend": "annotations"}}, ["data", "pose"]),
    ({"data": {"height": -3, "width": "x"}, "search": {"top_k": 0}}, ["data", "search"]),
    ([1, 2], ["data"]),
])
def test_partial_load_refuses_as_the_full_one(raw, sections):
    """Errors in the loaded sections (and rules across them): the full validation's message."""
    from pipeline.config.loader import validate_sections

    classes = _section_classes()
    with pytest.raises(ParamsError) as full:
        validate(raw, "params.yaml")
    with pytest.raises(ParamsError) as part:
        validate_sections(raw, *(classes[n] for n in sections), path="params.yaml")
    assert str(part.value) == str(full.value)


def test_partial_load_leaves_other_sections_to_the_validate_stage():
    from pipeline.config.loader import validate_sections

    classes = _section_classes()
    raw = {"loss": {"adv": -1.0}, "data": {"source": "market"}}
    assert validate_sections(raw, classes["data"]).data.source == "market"   # no pose: no rule
    with pytest.raises(ParamsError, match="pose.backend = 'synthetic' needs data.source"):
        validate_sections(raw, classes["data"], classes["pose"])
    with pytest.raises(TypeError, match="not a top-level section class"):
        validate_sections({}, classes["data"].model_fields["synthetic"].annotation)


def test_partial_load_pickles_into_a_fresh_process():
    """Worker processes (joblib, spawn) receive the loaded params by pickle."""
    import pickle
    import subprocess
    import sys

    from pipeline.config.loader import load_sections

    classes = _section_classes()
    part = load_sections(classes["data"], classes["pose"], path=REPO / "params.yaml")
    assert pickle.loads(pickle.dumps(part)) == part
    code = ("import pickle, sys; p = pickle.loads(sys.stdin.buffer.read()); "
            "print(list(type(p).model_fields), p.pose.backend)")
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(part), cwd=REPO,
                         capture_output=True, check=True)
    assert out.stdout.decode().strip() == "['data', 'pose'] synthetic"
