"""Reading params.yaml and validating some of its sections: what a stage script calls.

A stage loads only the sections it reads, passing their classes, so that its static import
closure (its DVC code deps) holds exactly those schema modules::

    from pipeline.config.data import DataParams
    from pipeline.config.loader import load_sections
    from pipeline.config.pose import PoseParams

    params = load_sections(DataParams, PoseParams)     # params.data.root, params.pose.backend

The result has the attribute access of :class:`pipeline.config.params.Params` for the loaded
sections; reading another one raises AttributeError naming it. The loaded sections are
validated exactly as the full validation does (same defaults, same messages naming the key
and the file), and so are the rules across sections whose sections are all loaded
(:mod:`pipeline.config.rules`). Unknown top-level keys and renamed sections are refused too.
The other sections are validated by the always-run `validate` stage
(:func:`pipeline.config.params.load_params`).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError, create_model, model_validator

from pipeline.config.base import (DEFAULT_PARAMS, RENAMED_SECTIONS, SECTION_NAMES, ParamsError,
                                  _Section)
from pipeline.config.rules import check_across_sections


def read_params_file(path: Path | str = DEFAULT_PARAMS) -> Any:
    """The parsed YAML of the params file ``path`` (ParamsError if missing or not YAML)."""
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: parameters file not found")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from None


def check_top_level(raw: Any, path: Path) -> dict:
    """``raw`` as a mapping of sections ({} for an empty file); ParamsError for another type
    or for a section that was renamed (one line naming the new keys)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: the top level must be a mapping of sections, "
                          f"got {type(raw).__name__}")
    for old, new in RENAMED_SECTIONS.items():
        if old in raw:
            values = raw[old]
            keys = ", ".join(f"{old}.{k} -> {new}.{k}" for k in values) \
                if isinstance(values, dict) and values else ""
            raise ParamsError(f"{path}: section {old!r} was renamed {new!r}"
                              + (f" ({keys})" if keys else ""))
    return raw


def format_errors(path: Path, raw: dict, err: ValidationError) -> str:
    """The message of a ParamsError: one line per bad key (its value and the rule), or the
    single line of the only one."""
    lines = [f"{path}: invalid parameters:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if not key:                               # a rule across sections: message says all
            lines.append(f"  {e['msg'].removeprefix('Value error, ')}")
            continue
        if e["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key (not a parameter of this pipeline; "
                         f"check the spelling against docs/parameters.md)")
            continue
        value: Any = raw
        for p in e["loc"]:
            if not (isinstance(value, dict) and p in value):   # a default: pydantic's input
                value = e.get("input")
                break
            value = value[p]
        shown = repr(value)
        msg = e["msg"].removeprefix("Value error, ")
        if len(shown) > 80:                       # a whole mapping: the message names the key
            lines.append(f"  {key}: {msg}")
        else:
            lines.append(f"  {key} = {shown}: {msg}")
    if len(lines) == 2:                           # one bad key: one line
        return f"{path}: invalid parameter: {lines[1].strip()}"
    return "\n".join(lines)


class _Loaded(_Section):
    """Base of a partial params model: the rules across its sections, and a clear error when
    code reads a section the stage did not load."""

    @model_validator(mode="after")
    def _consistent(self) -> "_Loaded":
        check_across_sections(self, type(self).model_fields)
        return self

    def __getattr__(self, name: str) -> Any:
        if name in SECTION_NAMES:
            loaded = ", ".join(type(self).model_fields)
            raise AttributeError(f"params.{name}: section not loaded by this stage (it loads "
                                 f"{loaded}); pass its class to load_sections")
        return super().__getattr__(name)

    def __reduce__(self) -> tuple:
        # the model class is made at run time: pickle (worker processes) rebuilds it by its
        # section classes, which are importable
        names = type(self).model_fields
        return (_rebuild, (tuple(type(getattr(self, n)) for n in names),
                           {n: getattr(self, n) for n in names}))


def _rebuild(sections: tuple[type[_Section], ...], values: dict[str, _Section]) -> Any:
    """A loaded params object from its section classes and values (the inverse of pickling)."""
    return sections_model(sections)(**values)


def sections_model(sections: tuple[type[_Section], ...]) -> type[_Section]:
    """The pydantic model of params.yaml restricted to ``sections`` (top-level section
    classes, e.g. (DataParams, PoseParams), in any order): fields in params.yaml's order, one
    class per set of sections."""
    for cls in sections:
        if not (isinstance(cls, type) and issubclass(cls, _Section)) or not cls.SECTION:
            raise TypeError(f"{cls!r} is not a top-level section class of pipeline.config")
    by_name = {cls.SECTION: cls for cls in sections}
    return _model(tuple(by_name[name] for name in SECTION_NAMES if name in by_name))


@lru_cache(maxsize=None)
def _model(sections: tuple[type[_Section], ...]) -> type[_Section]:
    return create_model("LoadedParams", __base__=_Loaded,
                        **{cls.SECTION: (cls, cls()) for cls in sections})


def validate_sections(raw: Any, *sections: type[_Section],
                      path: Path | str = DEFAULT_PARAMS) -> Any:
    """Validate the ``sections`` of the params mapping ``raw`` (the others are ignored, an
    unknown top-level key is refused); raise :class:`ParamsError` naming every bad key."""
    path = Path(path)
    raw = check_top_level(raw, path)
    model = sections_model(tuple(sections))
    subset = {key: value for key, value in raw.items()
              if key in model.model_fields or key not in SECTION_NAMES}
    try:
        return model.model_validate(subset)
    except ValidationError as err:
        raise ParamsError(format_errors(path, raw, err)) from None


def load_sections(*sections: type[_Section], path: Path | str = DEFAULT_PARAMS) -> Any:
    """Read params.yaml and validate only ``sections`` (see the module doc): an object with
    ``params.<section>`` for each of them, missing sections at their defaults."""
    return validate_sections(read_params_file(path), *sections, path=path)
