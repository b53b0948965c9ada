"""``spt-apps`` (also ``python -m pipeline.applications``): the paper's applications on the
trained models, one command line with subcommands.

    spt-apps pose-transfer PERSON --pose TARGET --out DIR
    spt-apps texture-transfer PERSON_A PERSON_B --out DIR
    spt-apps manipulate PERSON --labels EDITED.png --out DIR
    spt-apps parse PERSON --out DIR

PERSON is a photo (any size; MediaPipe Pose + the coarse parser, framed into the models'
layout) or ``prepared:N`` / ``prepared:NAME`` (a row of ``--prepared``). Bad input ends with
one line on stderr naming the file and the problem, exit status 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pipeline.annotations import AnnotationError
from pipeline.applications.errors import AppError
from pipeline.applications.framing import WORK_HEIGHT, work_frame
from pipeline.applications.manipulation import manipulate, read_edited_labels
from pipeline.applications.outputs import write_person, write_rendering
from pipeline.applications.person import Person, Readers
from pipeline.applications.pose_transfer import pose_transfer
from pipeline.applications.poses import parse_pose_frame, read_target
from pipeline.applications.render import Rendering
from pipeline.applications.texture_transfer import texture_transfer
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import ArtifactError
from pipeline.inference.model_files import ModelFileError
from pipeline.inference.trained import TrainedModels
from pipeline.torch_utils.device import resolve_device

PROG = "spt-apps"

#: Errors that are the user's input, printed as one line with exit status 2.
INPUT_ERRORS: tuple[type[BaseException], ...] = (AppError, ModelFileError, AnnotationError,
                                                 ArtifactError)
#: Exit status of bad input (argparse's own usage errors use it too).
BAD_INPUT = 2

_PERSON_HELP = ("a photo (PNG/JPEG/..., any size) or prepared:N / prepared:NAME (row N, "
                "0-based, or the image named NAME of the prepared data, see --prepared)")

_DESCRIPTION = f"""\
The applications of Song et al. (CVPR 2019) on the trained models of this pipeline.

Persons: {_PERSON_HELP}.
A photo's 18 keypoints and person mask come from MediaPipe Pose, its
10-label parsing from the weight-free coarse parser; the person is framed like the training
data: a crop of the models' aspect ratio centred on the person's box, which fills 90% of its
height (padded with repeated edge pixels where the crop leaves the photo), resized to a
{WORK_HEIGHT} px high working frame; keypoints are moved the same way. A photo whose hips are
not detected (a portrait) gets a virtual torso (hips below the shoulders), reported in the
output; --no-virtual-torso refuses it instead. Prepared rows are used as stored.

Outputs in --out DIR: result.png (the generated image), labels.png (the target map as labels
0..9, a palette PNG), map.png (the map in colour), side_by_side.png (source, source map,
target pose, target map, result) and info.json (how every input was read). Bad input: one
line on stderr naming the file and the problem, exit status 2.
"""

_POSE_HELP = """\
the target pose: prepared:N / prepared:NAME; a photo (its pose is detected); a JSON list of
18 [y, x] points in OpenPose/COCO order (0 nose, 1 neck, 2 Rsho, 3 Relb, 4 Rwri, 5 Lsho,
6 Lelb, 7 Lwri, 8 Rhip, 9 Rkne, 10 Rank, 11 Lhip, 12 Lkne, 13 Lank, 14 Reye, 15 Leye, 16 Rear,
17 Lear; R/L = the person's own sides; -1 = missing), literal or a .json file; or the field's
annotation format 'name: [18 ys]: [18 xs]', literal or a .csv file (FILE.csv@NAME picks a row
of a file with several). The pose needs a torso (both shoulders and both hips)."""


@dataclass(frozen=True)
class ModelPaths(Paths):
    """:class:`Paths` whose ``models`` folder is ``folder`` (``--models``)."""

    folder: Path = Path("models")

    @property
    def models(self) -> Path:
        return Path(self.folder)


def _common(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("common options")
    g.add_argument("--models", default="models", metavar="DIR",
                   help="folder of the trained models: appearance/generator.safetensors (+ "
                        "appearance/semantic.safetensors for e2e, semantic.safetensors for "
                        "ts_pred), made by `dvc repro train_appearance` (default: models)")
    g.add_argument("--out", required=True, metavar="DIR", help="folder for the output files")
    g.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"),
                   help="where the networks run (default: cpu)")
    g.add_argument("--prepared", default="data/prepared", metavar="DIR",
                   help="prepared artifacts for prepared:N persons (default: data/prepared)")
    g.add_argument("--threads", type=int, default=0, metavar="N",
                   help="CPU threads of torch (default 0: torch's own choice)")
    g.add_argument("--min-visibility", type=float, default=0.5, metavar="V",
                   help="photos: MediaPipe landmarks less visible than V are missing "
                        "(default 0.5)")
    g.add_argument("--no-virtual-torso", dest="virtual_torso", action="store_false",
                   help="photos: refuse a pose without hips instead of completing it")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``spt-apps``."""
    parser = argparse.ArgumentParser(prog=PROG, description=_DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("pose-transfer", formatter_class=fmt,
                       help="render a person in another pose",
                       description="Render SOURCE in the pose TARGET. The target map comes "
                                   "from the models' scheme: G_S's prediction (ts_pred, e2e), "
                                   "the target's own parsing (ts_gt: the target must then be "
                                   "a photo or a prepared row) or none (baseline).")
    p.add_argument("source", metavar="SOURCE", help="the person: " + _PERSON_HELP)
    p.add_argument("--pose", required=True, metavar="TARGET", help=_POSE_HELP)
    p.add_argument("--pose-frame", default="fit", metavar="fit|HxW",
                   help="a pose given as numbers (JSON, annotation row): 'fit' frames it by "
                        "its own box like a photo's person (default); HxW reads it as pixels "
                        "of an H x W picture fitted whole into the frame (e.g. 256x256 for "
                        "DeepFashion annotations, 128x64 for Market-1501)")
    _common(p)

    p = sub.add_parser("texture-transfer", formatter_class=fmt,
                       help="A's clothing textures on B's layout and pose",
                       description="Render PERSON_A's clothing textures on PERSON_B's "
                                   "semantic layout and pose: source = A, target pose = B's, "
                                   "target map = B's parsing in place of G_S's prediction. "
                                   "Needs models with maps (ts_pred, ts_gt, e2e); baseline "
                                   "models have no maps and are refused with one line "
                                   "(exit status 2).")
    p.add_argument("person_a", metavar="PERSON_A", help="textures from: " + _PERSON_HELP)
    p.add_argument("person_b", metavar="PERSON_B", help="layout and pose of: " + _PERSON_HELP)
    _common(p)

    p = sub.add_parser("manipulate", formatter_class=fmt,
                       help="render a person on an edited semantic map",
                       description="Render PERSON on an edited semantic map, pose unchanged. "
                                   "EDITED.png holds labels 0..9 (0 background, 1 face, "
                                   "2 hair, 3 upperclothes, 4 pants, 5 skirt, 6 leftArm, "
                                   "7 rightArm, 8 leftLeg, 9 rightLeg), one channel or a "
                                   "palette, at the size of the person's frame: edit the "
                                   "labels.png that `spt-apps parse PERSON` writes (longer "
                                   "sleeves: paint arm pixels 3; a skirt: paint pants and "
                                   "the gap between the legs 5). Needs models with maps "
                                   "(not baseline).")
    p.add_argument("person", metavar="PERSON", help=_PERSON_HELP)
    p.add_argument("--labels", required=True, metavar="EDITED.png",
                   help="the edited label map (0..9) at the person's frame size")
    _common(p)

    p = sub.add_parser("parse", formatter_class=fmt,
                       help="the person as the applications read it (the map to edit)",
                       description="Write PERSON as the applications see it: person.png "
                                   "(framed), labels.png (its parsing, the map to edit for "
                                   "manipulate), map.png, pose.json (18 [y, x]) and "
                                   "side_by_side.png. The frame follows the models' image "
                                   "aspect (--models).")
    p.add_argument("person", metavar="PERSON", help=_PERSON_HELP)
    _common(p)
    return parser


def _device(name: str) -> torch.device:
    try:
        return resolve_device(name)
    except ValueError as err:
        raise AppError(f"--device {name}: {err}") from None


def _load_models(args: argparse.Namespace) -> TrainedModels:
    folder = Path(args.models)
    if not folder.is_dir():
        raise AppError(f"{folder}: no models folder; train the models with `dvc repro "
                       f"train_appearance` or give --models DIR")
    return TrainedModels.load(ModelPaths(folder=folder), _device(args.device))


def _models_info(models: TrainedModels, args: argparse.Namespace) -> dict[str, Any]:
    return {"folder": str(args.models), "scheme": models.scheme,
            "image_hw": list(models.image_hw),
            "map_hw": list(models.map_hw) if models.map_hw else None}


def _side(name: str, info: dict[str, Any]) -> dict[str, Any]:
    return dict({"input": name}, **info)


def _run(args: argparse.Namespace) -> tuple[list[Path], list[str]]:
    """Run one subcommand; returns (written files, notes)."""
    if args.threads < 0:
        raise AppError(f"--threads {args.threads}: must be 0 (torch's choice) or more")
    if args.threads:
        torch.set_num_threads(args.threads)
    if not 0.0 <= args.min_visibility <= 1.0:
        raise AppError(f"--min-visibility {args.min_visibility}: must lie in [0, 1]")
    pose_frame = parse_pose_frame(args.pose_frame) if args.command == "pose-transfer" else None
    models = _load_models(args)
    readers = Readers(Path(args.prepared), work_frame(models.image_hw), args.min_visibility,
                      args.virtual_torso)
    info: dict[str, Any] = {"command": args.command, "models": _models_info(models, args)}
    with readers:
        if args.command == "parse":
            person = readers.person(args.person)
            info["person"] = _side(person.name, person.info)
            info["notes"] = person.notes
            return (write_person(args.out, person.image, person.keypoints, person.labels,
                                 info), person.notes)
        rendering, notes = _application(args, models, readers, pose_frame, info)
    info["map_source"] = rendering.map_source
    info["notes"] = notes
    return write_rendering(args.out, rendering, info), notes


def _application(args: argparse.Namespace, models: TrainedModels, readers: Readers,
                 pose_frame: tuple[int, int] | None, info: dict[str, Any]
                 ) -> tuple[Rendering, list[str]]:
    if args.command == "pose-transfer":
        source = readers.person(args.source)
        target = read_target(args.pose, readers, pose_frame)
        info.update(source=_side(source.name, source.info),
                    target=_side(target.name, target.info))
        return (pose_transfer(models, source, target, args.models),
                source.notes + target.notes)
    if args.command == "texture-transfer":
        a, b = readers.person(args.person_a), readers.person(args.person_b)
        info.update(source=_side(a.name, a.info), layout=_side(b.name, b.info))
        return texture_transfer(models, a, b, args.models), a.notes + b.notes
    person: Person = readers.person(args.person)
    labels = read_edited_labels(args.labels, person.frame_hw)
    info.update(source=_side(person.name, person.info), labels=str(args.labels))
    return manipulate(models, person, labels, args.models), person.notes


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0, or 2 for bad input). Set SPT_TRACEBACK=1 to
    see the traceback of an input error."""
    args = build_parser().parse_args(argv)
    try:
        try:
            written, notes = _run(args)
        except OSError as err:              # e.g. an --out that cannot be a folder
            raise AppError(f"{err.filename or args.out}: {err.strerror or err}") from None
    except INPUT_ERRORS as err:
        if os.environ.get("SPT_TRACEBACK"):
            raise
        line = " ".join(str(err).split("\n"))
        print(f"{PROG}: error: {line}", file=sys.stderr)
        return BAD_INPUT
    for note in notes:
        print(f"note: {note}")
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
