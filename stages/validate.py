"""DVC stage `validate` (always runs, no outputs): the whole params.yaml is validated on every
`dvc repro` / `dvc exp run`, even when no other stage has to run, so that an invalid value of a
key no stage tracks (e.g. `pose.workers=abc`) fails the experiment that set it."""
from __future__ import annotations

from pipeline.cli import run_stage
from pipeline.config.base import DEFAULT_PARAMS
from pipeline.config.params import load_params


def main() -> None:
    load_params()
    print(f"{DEFAULT_PARAMS}: valid")


if __name__ == "__main__":
    run_stage("validate", main)
