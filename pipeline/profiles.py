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

- ``default``: the CPU default of this repository (64x64 maps and images, narrow networks, and
  this project's additions that made the 64 px CPU run learn).
- ``deepfashion``: the paper's method at the paper's DeepFashion settings [paper, section 4.1;
  code, SPT demo]: 256x256 images (DeepFashion's 256x176 photos padded with white:
  ``data.fit: pad``, docs/real-datasets.md), batch 4, semantic maps predicted at 128x128 and
  upsampled, face loss on, the authors' network widths [code: ngf 64 up to 512, ndf 64; pose
  detector ResNet 9 blocks, 64 ch], and every fidelity switch at the authors' value
  (:data:`PAPER_METHOD`, docs/reproduce.md "Fidelity"): their normalisation and block order,
  transposed convolutions, no image skip, no blended output, no pixel cycle L1, fixed 6 px
  heatmaps, no flips, skips warped down to 16 px, the clipped face box resampled to the image
  side, [-1, 1] images into ImageNet VGG16 (required: ``loss.require_imagenet_vgg``).
- ``market``: the same method at Market-1501's settings [paper]: 128x64 images and maps, batch
  16, no face loss (too few face pixels at that size).
- ``deepfashion-plus`` / ``market-plus``: the paper profile with this project's improvements
  (:data:`IMPROVEMENTS`, each a named switch measured in docs/appearance-network.md).
- ``cpu-paper``: the ``default`` sizes (64 px, the default run's G_S and pose detector) with the
  paper's method in the appearance stage: what docs/reproduce.md measures against ``default``
  on this CPU. Its heatmaps keep the default's sigma (the frozen G_S and detector were trained
  on it) and it uses the offline VGG trunk (no ImageNet weights offline).
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

#: The paper's method: every fidelity switch at the authors' value [code, SPT demo, checked
#: against ``SijieSong/person_generation_spt``; docs/reproduce.md "Fidelity"]. Sizes apart.
PAPER_METHOD: dict[str, dict[str, Any]] = {
    "semantic": {"flip": False, "heatmap_sigma": 6.0},
    "posenet": {"flip": False, "heatmap_sigma": 6.0},
    "appearance": {"norm": "authors", "upsample": "transposed", "image_skip": False,
                   "blend": False, "flip": False, "heatmap_sigma": 6.0, "face_clip": True},
    "loss": {"cycle_l1": 0.0, "vgg_input": "authors", "require_imagenet_vgg": True},
}

#: This project's improvements over the paper's method, each a named switch [choice; measured
#: in docs/appearance-network.md and docs/reproduce.md]: the ``-plus`` profiles add them.
IMPROVEMENTS: dict[str, dict[str, dict[str, Any]]] = {
    "per-channel instance norm": {"appearance": {"norm": "instance"}},
    "resize-convolutions (no checkerboard)": {"appearance": {"upsample": "nearest"}},
    "image skip (part-warped source into G_A)": {"appearance": {"image_skip": True}},
    "blended output (warped source over the rendering)": {"appearance": {"blend": True}},
    "pixel cycle L1 (CycleGAN's 10)": {"loss": {"cycle_l1": 10.0}},
    "random flips": {"semantic": {"flip": True}, "posenet": {"flip": True},
                     "appearance": {"flip": True}},
    "correctly normalised VGG input": {"loss": {"vgg_input": "imagenet"}},
    "heatmap sigma scaled with the height": {"semantic": {"heatmap_sigma": 0.0},
                                             "posenet": {"heatmap_sigma": 0.0},
                                             "appearance": {"heatmap_sigma": 0.0}},
    "unclipped face box (no stretched border crops)": {"appearance": {"face_clip": False}},
}


def _merge(*layers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Section-wise union of override layers, later ones winning."""
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for section, values in layer.items():
            out.setdefault(section, {}).update(values)
    return out


#: Sizes and schedules of the two datasets [paper, section 4.1; code: widths].
_SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "deepfashion": {
        "semantic": {"height": 128, "width": 128, "channels": 64, "max_channels": 512,
                     "depth": 5, "disc_channels": 64, "batch_size": 4, "iterations": 50_000,
                     "log_every": 100, "sample_every": 5000},
        "posenet": {"height": 256, "width": 256, "channels": 64, "blocks": 9, "batch_size": 8,
                    "iterations": 30_000, "log_every": 100, "sample_every": 5000},
        "appearance": {"height": 256, "width": 256, "channels": 32, "max_channels": 512,
                       "depth": 6, "disc_channels": 64, "face_size": 256, "warped_skips": 5,
                       "batch_size": 4, "iterations": 100_000, "joint_iterations": 20_000,
                       "log_every": 100, "sample_every": 5000},
        "loss": {"face": True},
    },
    "market": {
        "semantic": {"height": 128, "width": 64, "channels": 64, "max_channels": 512,
                     "depth": 4, "disc_channels": 64, "batch_size": 16, "iterations": 30_000,
                     "log_every": 100, "sample_every": 5000},
        "posenet": {"height": 128, "width": 64, "channels": 64, "blocks": 9, "batch_size": 16,
                    "iterations": 30_000, "log_every": 100, "sample_every": 5000},
        "appearance": {"height": 128, "width": 64, "channels": 64, "max_channels": 512,
                       "depth": 4, "disc_channels": 64, "face_size": 64, "warped_skips": 4,
                       "batch_size": 16, "iterations": 60_000, "joint_iterations": 12_000,
                       "log_every": 100, "sample_every": 5000},
        "loss": {"face": False},
    },
}

#: name -> {section -> {key: value}}: the paper profiles and their ``-plus`` twins.
_PAPER: dict[str, dict[str, dict[str, Any]]] = {}
for _name, _sizes in _SIZES.items():
    _PAPER[_name] = _merge(PAPER_METHOD, _sizes)
    _PAPER[f"{_name}-plus"] = _merge(_PAPER[_name], *IMPROVEMENTS.values())

#: The paper's method at the default's sizes, in the appearance stage only (module docstring).
_CPU_PAPER: dict[str, dict[str, Any]] = {
    "appearance": {k: v for k, v in PAPER_METHOD["appearance"].items()
                   if k != "heatmap_sigma"} | {"warped_skips": 3, "face_size": 64},
    "loss": {"cycle_l1": 0.0, "vgg_input": "authors", "require_imagenet_vgg": False},
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
    for sections in (*_PAPER.values(), _CPU_PAPER, _ABLATION_DATA):
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
    "cpu-paper": _CPU_PAPER,
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


def list_text() -> str:
    """Every profile's values; a ``-plus`` profile is shown as its paper profile plus the
    named improvements (the keys that differ)."""
    lines = []
    for name, sections in PROFILES.items():
        base = name[:-len("-plus")] if name.endswith("-plus") else None
        if base in PROFILES:
            lines.append(f"{name}: {base} + this project's improvements:")
            for what, layer in IMPROVEMENTS.items():
                keys = ", ".join(f"{s}.{k}={v}" for s, kv in layer.items() for k, v in kv.items())
                lines.append(f"  {what}: {keys}")
            other = [f"{s}.{k}={v}" for s, kv in sections.items() for k, v in kv.items()
                     if PROFILES[base].get(s, {}).get(k) != v
                     and not any(k in layer.get(s, {}) for layer in IMPROVEMENTS.values())]
            if other:
                lines.append("  and: " + ", ".join(other))
            continue
        lines.append(f"{name}:")
        for section, values in sections.items():
            lines.append(f"  {section}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.profiles",
                                 description="Write a named profile into params.yaml.")
    ap.add_argument("name", nargs="?", choices=list(PROFILES), help="profile to apply")
    ap.add_argument("--params", default=str(DEFAULT_PARAMS), help="params file to edit")
    ap.add_argument("--list", action="store_true", help="print every profile's values")
    args = ap.parse_args(argv)
    if args.list or args.name is None:
        print(list_text())
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
