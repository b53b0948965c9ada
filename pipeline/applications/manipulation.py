"""Controlled image manipulation [paper, section 4.5]: a person rendered on an edited semantic
map (longer sleeves, a skirt instead of pants), pose unchanged.

The edited map is a label PNG (values 0..9, docs/method.md §2; single-channel or palette, e.g. the
``labels.png`` that ``spt-apps parse`` writes, edited) at the size of the person's frame: the
framed photo (``parse``'s ``person.png``) or the stored frame of a prepared row. Source =
the person; target pose = the same pose; S_t = the edited map (one-hot) in place of the
scheme's. Needs a scheme with maps, like texture transfer."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.applications.errors import AppError
from pipeline.applications.person import Person, check_labels, is_file
from pipeline.applications.render import Rendering, render
from pipeline.datasets.pairs import PersonArrays
from pipeline.inference.trained import TrainedModels
from pipeline.parsing.label_sets import read_label_map


def read_edited_labels(path: Path | str, frame_hw: tuple[int, int]) -> np.ndarray:
    """The label PNG ``path`` as (H, W) uint8 0..9 of the frame ``frame_hw``, or
    :class:`AppError` naming the file (missing, unreadable, colour, wrong size, bad labels)."""
    path = Path(path)
    if not is_file(path):
        raise AppError(f"{path}: no such file")
    try:
        labels = read_label_map(path)
    except (ValueError, OSError) as err:
        msg = str(err)
        raise AppError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None
    return check_labels(labels, frame_hw, str(path))


def manipulate(models: TrainedModels, person: Person, labels: np.ndarray,
               models_dir: str = "models") -> Rendering:
    """``person`` rendered on ``labels`` ((H, W) 0..9 of the person's frame), same pose."""
    labels = check_labels(labels, person.frame_hw, "the edited label map")
    edited = PersonArrays(person.keypoints, person.arrays.pose_mask, labels)
    return render(models, person, edited, given_layout=True, models_dir=models_dir)
