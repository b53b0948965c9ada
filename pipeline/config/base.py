"""Base of the params schema: the error type, the section base class, the execution mark,
the path checks, and the plain-dict form of a section.

Imports no section module: every stage imports this one, whatever sections it reads.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

#: The params file of the repository (relative to the working directory of a stage).
DEFAULT_PARAMS = Path("params.yaml")

#: The top-level sections of params.yaml, in the file's order (the fields of
#: :class:`pipeline.config.params.Params`; tests/test_config.py checks the two agree). A
#: partial load refuses any other top-level key, as the full validation does.
SECTION_NAMES: tuple[str, ...] = ("data", "pose", "parse", "masks", "search", "semantic",
                                  "posenet", "appearance", "loss", "evaluate")

#: Former section name -> its name now; a params file holding the old one is refused with one
#: line naming the new keys (``dvc exp run -S train.lr=...`` would otherwise set nothing).
RENAMED_SECTIONS: dict[str, str] = {"train": "appearance"}

#: Marks an execution-only field: ``Field(2, json_schema_extra=EXECUTION)`` (see
#: :mod:`pipeline.config`).
EXECUTION: dict[str, Any] = {"execution": True}


class ParamsError(ValueError):
    """A params.yaml that does not validate; the message names every bad key."""


class _Section(BaseModel):
    """A section of params.yaml: unknown keys refused, values frozen after validation.

    SECTION: the top-level key of params.yaml that a section class validates ("" for a nested
    one such as ``data.synthetic``); the partial loader reads the section under it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    SECTION: ClassVar[str] = ""


# --------------------------------------------------------------------------- paths in params
#: The repository: the folder that holds the `pipeline` package. Repo paths of the params
#: (data.synthetic.real_poses) must lie inside it, so that dvc.yaml can list them.
REPO_ROOT = Path(__file__).resolve().parents[2]


def relative_inside(value: str, base: str) -> str:
    """Load-time check of a path relative to ``base``: not absolute, no '..' component.

    A path that can leave its base folder is not covered by that folder's DVC dependency, so
    editing the file it names would leave the artifacts stale.
    """
    path = Path(value)
    if path.is_absolute() or path.drive:
        raise ValueError(f"must be a path relative to {base}, not an absolute path")
    if ".." in path.parts:
        raise ValueError(f"must stay inside {base} (no '..' in the path)")
    return value


def _inside(path: Path, folders: list[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def dataset_path(root: str | Path, relative: str, key: str) -> Path:
    """``root / relative`` for a dataset path of the params (``key`` names it in errors).

    Symlinks are resolved at use time: the file must lie inside ``data.root``, or be a link
    into the repository's DVC cache (``cache.type: symlink`` links every tracked file there).
    Raises :class:`ParamsError` naming the path and the key otherwise. Whether the path
    exists is left to its reader (whose error names the key as well).
    """
    try:
        relative_inside(relative, "data.root")
    except ValueError as err:
        raise ParamsError(f"{key} = {relative!r}: {err}") from None
    path = Path(root) / relative
    allowed = [Path(root).resolve(), (REPO_ROOT / ".dvc" / "cache").resolve()]
    if not _inside(path.resolve(), allowed):
        raise ParamsError(f"{path}: resolves to {path.resolve()}, outside data.root ({key})")
    return path


def inside_repository(value: str) -> str:
    """Load-time check of a repo path (DVC lists it as a dependency): inside the repository
    :data:`REPO_ROOT`, symlinks resolved; relative paths are relative to the repository root."""
    if not value:
        return value
    path = Path(value)
    if not path.is_absolute():
        relative_inside(value, "the repository")
    resolved = (REPO_ROOT / path).resolve()
    if not _inside(resolved, [REPO_ROOT]):
        raise ValueError(f"must lie inside the repository {REPO_ROOT} "
                         f"(resolves to {resolved})")
    return value


# --------------------------------------------------------------------------- execution keys
def _is_execution(field: Any) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("execution"))



def execution_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted keys of every execution-only field of ``model``, e.g. {"search.workers", ...}.

    Computed from the ``EXECUTION`` marks, recursing into sections; prefix: the dotted key of
    ``model`` followed by a dot ("search."). All of params.yaml:
    :func:`pipeline.config.params.execution_keys`.
    """
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        if _is_execution(field):
            keys.add(key)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= execution_keys(annotation, key + ".")
    return keys


def section_dict(section: BaseModel, exclude: tuple[str, ...] = ()) -> dict:
    """Plain-dict form of a params section without its execution-only keys: what shaped an
    artifact (recorded in its provenance attributes and in cache keys).

    exclude: keys of the section left out too (those the stage does not read, e.g. ingest
    leaves out ``synthetic``): the record holds only what the stage's DVC params list.
    """
    out = section.model_dump(mode="json", exclude=set(exclude))
    _drop_execution(type(section), out)
    return out


def _drop_execution(model: type[BaseModel], values: dict) -> None:
    for name, field in model.model_fields.items():
        if _is_execution(field):
            values.pop(name, None)
            continue
        annotation = field.annotation
        if (isinstance(annotation, type) and issubclass(annotation, BaseModel)
                and isinstance(values.get(name), dict)):
            _drop_execution(annotation, values[name])
