"""Named settings of the training stages, switched with one command.

    python -m pipeline.profiles deepfashion      # write the profile's values into params.yaml
    python -m pipeline.profiles --list           # what each profile sets
    dvc params diff                              # the values it changed

A profile is a set of overrides of the ``semantic``, ``posenet``, ``appearance`` and ``loss``
sections (and, for ``ablation``, of ``data.synthetic``: a section may be a dotted path);
applying one edits params.yaml in place (comments and order kept, the result validated
before it is written, atomically), so the values stay visible to ``dvc params diff`` and
``dvc exp show``, and `dvc repro` reruns exactly the stages whose keys changed. The dataset
itself (``data.*``) is the user's to point at DeepFashion or Market-1501 (docs/real-datasets.md); only the
size of the embedded synthetic set is a profile's.

- ``default``: the CPU default of this repository (64x64 maps and images, narrow networks).
- ``deepfashion``: the paper's DeepFashion settings [paper, section 4.1]: 256x256 images, batch
  4, semantic maps predicted at 128x128 and upsampled, face loss on; the authors' network
  widths [code, SPT demo: ngf 64 up to 512, ndf 64; pose detector ResNet 9 blocks, 64 ch].
- ``market``: Market-1501 [paper]: 128x64 images and maps, batch 16, no face loss (too few
  face pixels at that size).
- ``ablation``: the ``default`` training settings on a larger synthetic set (``bench/ablation.py``,
  docs/ablation.md): 160 identities x 6 poses = 960 images, 32 test identities x 8 pairs
  = 256 test pairs (the default: 12 x 4 = 48), so that a metric's spread over seeds is small.
  [choice: 5x the default's test pairs, 2.7x its training images, while the preparation stays
  under a minute on 2 cores by the rates of docs/benchmarks.md]
Iteration counts of the paper profiles are [choice] (the paper gives none).
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from pipeline.config.base import DEFAULT_PARAMS, ParamsError
from pipeline.config.params import validate

#: name -> {section -> {key: value}}.
_PAPER: dict[str, dict[str, dict[str, Any]]] = {
    "deepfashion": {
        "semantic": {"height": 128, "width": 128, "channels": 64, "max_channels": 512,
                     "depth": 5, "disc_channels": 64, "batch_size": 4, "iterations": 50_000,
                     "log_every": 100, "sample_every": 5000},
        "posenet": {"height": 256, "width": 256, "channels": 64, "blocks": 9, "batch_size": 8,
                    "iterations": 30_000, "log_every": 100, "sample_every": 5000},
        "appearance": {"height": 256, "width": 256, "channels": 32, "max_channels": 512,
                       "depth": 6, "disc_channels": 64, "face_size": 32, "batch_size": 4,
                       "iterations": 100_000, "joint_iterations": 20_000, "log_every": 100,
                       "sample_every": 5000},
        "loss": {"face": True},
    },
    "market": {
        "semantic": {"height": 128, "width": 64, "channels": 64, "max_channels": 512,
                     "depth": 4, "disc_channels": 64, "batch_size": 16, "iterations": 30_000,
                     "log_every": 100, "sample_every": 5000},
        "posenet": {"height": 128, "width": 64, "channels": 64, "blocks": 9, "batch_size": 16,
                    "iterations": 30_000, "log_every": 100, "sample_every": 5000},
        "appearance": {"height": 128, "width": 64, "channels": 64, "max_channels": 512,
                       "depth": 4, "disc_channels": 64, "face_size": 16, "batch_size": 16,
                       "iterations": 60_000, "joint_iterations": 12_000, "log_every": 100,
                       "sample_every": 5000},
        "loss": {"face": False},
    },
}


#: Sizes of the synthetic set of the ``ablation`` profile (its training sections are the
#: ``default`` profile's). 160 identities: 960 images in 4.4 s of rendering on one core at
#: 220 images/s (docs/benchmarks.md) and a search over 768 training sources (quadratic:
#: about (768 / 1600)^2 x 50 s = 12 s; docs/benchmarks.md).
_ABLATION_DATA: dict[str, dict[str, Any]] = {
    "data.synthetic": {"identities": 160, "poses_per_identity": 6, "pairs_per_identity": 8},
}


def _schema_defaults() -> dict[str, dict[str, Any]]:
    """The ``default`` profile: the schema's defaults (pipeline/config/, the one place
    they live) of every key that another profile sets (a dotted section names a nested one)."""
    from pipeline.config.params import Params

    out: dict[str, dict[str, Any]] = {}
    for sections in (*_PAPER.values(), _ABLATION_DATA):
        for section, values in sections.items():
            model: Any = Params
            for part in section.split("."):
                model = model.model_fields[part].annotation
            for key in values:
                out.setdefault(section, {})[key] = model.model_fields[key].default
    return out


_DEFAULT = _schema_defaults()

#: name -> {section -> {key: value}}; a section is a top-level key of params.yaml or a dotted
#: path to a nested one ("data.synthetic").
PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "default": _DEFAULT,
    **_PAPER,
    "ablation": {**{s: dict(v) for s, v in _DEFAULT.items() if s not in _ABLATION_DATA},
                 **_ABLATION_DATA},
}


def profile(name: str) -> dict[str, dict[str, Any]]:
    """The overrides of profile ``name`` (KeyError naming the known ones)."""
    if name not in PROFILES:
        raise KeyError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    return PROFILES[name]


def apply_profile(name: str, path: Path | str = DEFAULT_PARAMS) -> list[str]:
    """Write profile ``name`` into the params file ``path`` (comments kept; validated first;
    atomic). Returns the dotted keys whose value changed."""
    from ruamel.yaml import YAML

    from pipeline.artifacts.atomic import atomic_path

    path = Path(path)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)     # the layout of params.yaml
    data = yaml.load(path.read_text())
    changed = []
    for section, values in profile(name).items():
        block = data
        for part in section.split("."):
            block = block.setdefault(part, {})
        for key, value in values.items():
            if block.get(key) != value:
                changed.append(f"{section}.{key}")
            block[key] = value
    buf = io.StringIO()
    yaml.dump(data, buf)
    text = buf.getvalue()
    from ruamel.yaml import YAML as _Plain

    validate(_Plain(typ="safe", pure=True).load(text), path)   # ParamsError names the key
    with atomic_path(path, suffix=".yaml.tmp") as tmp:
        Path(tmp).write_text(text)
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.profiles",
                                 description="Write a named profile into params.yaml.")
    ap.add_argument("name", nargs="?", choices=list(PROFILES), help="profile to apply")
    ap.add_argument("--params", default=str(DEFAULT_PARAMS), help="params file to edit")
    ap.add_argument("--list", action="store_true", help="print every profile's values")
    args = ap.parse_args(argv)
    if args.list or args.name is None:
        for name, sections in PROFILES.items():
            print(f"{name}:")
            for section, values in sections.items():
                print(f"  {section}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
        return 0
    try:
        changed = apply_profile(args.name, args.params)
    except (ParamsError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{args.params}: profile {args.name!r} applied, {len(changed)} value(s) changed"
          + (": " + ", ".join(changed) if changed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
