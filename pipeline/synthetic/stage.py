"""Stage library of `synthesize`: ``data.synthetic.*`` -> data/raw/synthetic (the embedded
default dataset: images/, parsing/, annotations.csv, pairs-test.csv, truth.h5, summary.json).

It runs whatever ``data.source`` is, so the default dataset is always there for tests and
demos; it is cheap. ``data.synthetic.background`` (``studio`` or ``street``) reaches the
renderer through :func:`pipeline.synthetic.dataset.generate` and is stored in truth.h5, so
the oracle renders on the same backgrounds.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.artifacts.paths import Paths
from pipeline.config.base import section_dict
from pipeline.synthetic.dataset import generate
from pipeline.synthetic.writer import write_dataset

if TYPE_CHECKING:
    from pipeline.config.params import Params


def run(params: Params, paths: Paths, progress: bool = True) -> dict:
    """Generate the dataset of ``params.data.synthetic`` at data.height x data.width and write
    it to ``paths.synthetic`` atomically; returns its summary (summary.json)."""
    data = params.data
    ds = generate(data.synthetic, data.height, data.width)
    provenance = dict(section_dict(data.synthetic), height=data.height, width=data.width)
    return write_dataset(ds, paths.synthetic, provenance)


def summary_text(summary: dict) -> str:
    """One line for the stage's console output."""
    return (f"synthesize: {summary['images']} images of {summary['identities']} identities "
            f"at {summary['height']}x{summary['width']}")
