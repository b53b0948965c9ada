"""Pictures of one pseudo target: the source, its warped parts, the chosen candidate, the truth.

Used by ``python -m pipeline.inspect data/prepared/pseudo.h5 --index I --png OUT.png``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.artifacts.paths import artifact_path
from pipeline.artifacts.reader import Artifact
from pipeline.geometry import NUM_PARTS, bitfield_to_masks, part_affines, warp_labels
from pipeline.synthetic.truth import truth_path
from pipeline.visualize import colorize_labels, draw_skeleton

#: Order in which warped parts are laid over each other: limbs, then head, then torso last
#: (the torso's mask is the whole image, so it only fills what no other part covers).
PAINT_ORDER = tuple(range(2, NUM_PARTS)) + (1, 0)


def warped_source_labels(labels: np.ndarray, parts: np.ndarray, kp_src: np.ndarray,
                         kp_tgt: np.ndarray) -> np.ndarray:
    """f_j(B^j_Ps (x) S_s) of every part, composed into one (H, W) label map.

    labels: (H, W) source parsing; parts: (H, W) uint16 source part bitfield; keypoints (18, 2)
    of source and target in the same frame.
    """
    h, w = labels.shape
    affines, _ = part_affines(kp_src, kp_tgt, h, w)
    masks = bitfield_to_masks(parts)
    out = np.zeros((h, w), np.uint8)
    for j in PAINT_ORDER:
        warped = warp_labels(labels * masks[j], affines[j], h, w)
        fill = (out == 0) & (warped != 0)
        out[fill] = warped[fill]
    return out


def pseudo_panels(prepared: Path, row: int) -> list[tuple[str, np.ndarray]]:
    """Source image, source parsing, warped source parts, S*_Pt with P*_t, and the oracle's
    truth (synthetic data only) for row ``row`` of pseudo.h5 in the folder ``prepared``."""
    pseudo, images, parsing, poses, masks = (
        Artifact(artifact_path(kind, prepared))
        for kind in ("pseudo", "images", "parsing", "poses", "masks"))
    for art in (pseudo, parsing, poses, masks):
        art.check_aligned(images)
    target = int(pseudo["target_index"][row])
    kp_s = poses["keypoints"][row]
    panels = [("source", draw_skeleton(images["images"][row], kp_s)),
              ("S_Ps", colorize_labels(parsing["labels"][row]))]
    if target < 0:
        status = int(pseudo["status"][row])
        names = json.loads(pseudo["status"].attrs.get("status_names", "[]") or "[]")
        panels.append((names[status] if status < len(names) else "no target",
                       np.full_like(panels[0][1], 200)))
        return panels
    kp_c = poses["keypoints"][target]
    warped = warped_source_labels(parsing["labels"][row], masks["parts"][row], kp_s, kp_c)
    panels.append(("f(S_Ps) warped", draw_skeleton(colorize_labels(warped), kp_c)))
    cost = float(pseudo["cost"][row])
    panels.append((f"S*_Pt cost {cost:.0f}",
                   draw_skeleton(colorize_labels(pseudo["target_labels"][row]), kp_c)))
    panels.append(("candidate c*", images["images"][target]))
    truth = _oracle_labels(images, row, target)
    if truth is not None:
        panels.append(("oracle S_Pt", colorize_labels(truth)))
    return panels


def _oracle_labels(images: Artifact, row: int, target: int) -> np.ndarray | None:
    """The oracle's parsing of row's person in target's skeleton (synthetic data only; the
    dataset folder is images.h5's recorded ``data.root``, relative to the working folder)."""
    params = images.params()
    if params.get("source") != "synthetic":
        return None
    root = Path(params.get("root", ""))
    if not truth_path(root).is_file():
        return None
    from pipeline.synthetic.oracle import PoseSwap

    return PoseSwap.from_dir(root, images.names).labels(row, target)
