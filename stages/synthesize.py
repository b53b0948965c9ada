"""DVC stage `synthesize`: data.synthetic.* -> data/raw/synthetic (the embedded default dataset).

Writes images/, parsing/, annotations.csv, pairs-test.csv, truth.h5 and summary.json
(layout in the README). Runs whatever data.source is, so the default dataset is always
there for tests and demos; it is cheap.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.cli import run_stage
from pipeline.config import load_params, section_dict
from pipeline.synthetic import generate, write_dataset

OUT_DIR = Path("data/raw/synthetic")


def main() -> None:
    data = load_params().data
    ds = generate(data.synthetic, data.height, data.width)
    provenance = dict(section_dict(data.synthetic), height=data.height, width=data.width)
    write_dataset(ds, OUT_DIR, provenance)
    print(f"synthesize: {len(ds.names)} images of {data.synthetic.identities} identities "
          f"at {data.height}x{data.width} -> {OUT_DIR}")


if __name__ == "__main__":
    run_stage("synthesize", main)
