from pathlib import Path

import pytest
import yaml

from pipeline.config import ParamsError, load_params, validate
from tests.helpers import REPO


def test_repo_params_validate():
    params = load_params(REPO / "params.yaml")
    assert params.data.source == "synthetic"


def test_every_section_documented_in_readme():
    readme = (REPO / "README.md").read_text()
    raw = yaml.safe_load((REPO / "params.yaml").read_text())

    def keys(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict) and f"{prefix}{k}" != "parse.mapping":
                yield from keys(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k}"

    missing = [k for k in keys(raw) if f"`{k}`" not in readme]
    assert not missing, f"README does not document: {missing}"


def test_params_yaml_spells_out_every_key_at_its_default():
    """params.yaml holds every key of the schema (no key is only a hidden default), each at
    the schema's default value: the file is the documentation users edit."""
    from pydantic import BaseModel

    from pipeline.config import Params

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
                # pipeline/label_sets.py); params.yaml lists them for users to edit
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
    from pipeline.config import execution_keys

    keys = execution_keys()
    assert {"data.workers", "pose.workers", "parse.workers", "masks.workers", "search.workers",
            "search.backend", "search.scheduler", "search.block_size"} <= keys
    assert not keys & {"search.top_k", "search.height", "data.root", "pose.backend"}


def test_section_dict_records_only_result_shaping_keys():
    from pipeline.config import section_dict

    params = validate({"search": {"workers": 7, "backend": "threading", "top_k": 3}})
    record = section_dict(params.search)
    assert record["top_k"] == 3
    assert not {"workers", "backend", "scheduler", "block_size"} & set(record)
    assert section_dict(params.masks) == {}
    assert "synthetic" not in section_dict(params.data, exclude=("synthetic",))
    assert "workers" not in section_dict(params.data)


def test_config_imports_no_stage_package():
    """config.py is imported by every stage: it may import only leaf modules of the package
    (a stage package imported here would make every stage depend on that stage's code)."""
    import ast

    import pipeline.config

    tree = ast.parse(Path(pipeline.config.__file__).read_text())
    local = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipeline"):
            local.add(node.module)
        elif isinstance(node, ast.Import):
            local |= {a.name for a in node.names if a.name.startswith("pipeline")}
    assert local <= {"pipeline.label_sets", "pipeline.labels"}, local
