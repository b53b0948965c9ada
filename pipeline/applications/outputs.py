"""The files an application writes into ``--out DIR`` (each atomically):

- ``result.png``: the generated image I~_Pt at G_A's resolution.
- ``labels.png``: the target map S_t it was rendered on, as labels 0..9 (a palette PNG: the
  pixel values are the labels, viewers show the palette of :mod:`pipeline.visualize`;
  :func:`pipeline.parsing.label_sets.read_label_map` reads the labels back). Not written for
  ``baseline``, which has no map.
- ``map.png``: the same map in colour (RGB).
- ``side_by_side.png``: source | source map | target pose (skeleton) | target map | result,
  each enlarged (nearest neighbour: the pixels stay honest) to :data:`PANEL_HEIGHT`.
- ``info.json``: the inputs, how each was read (framing box, virtual torso, parser), the
  models' scheme and where the map came from.

``parse`` writes the person instead: ``person.png`` (the framed photo), ``labels.png`` (its
parsing: the map to edit for ``manipulate``), ``map.png``, ``pose.json`` (18 [y, x]) and
``side_by_side.png`` (person | skeleton | map).
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.applications.render import Rendering
from pipeline.artifacts.atomic import atomic_path, atomic_write_json
from pipeline.labels import LABEL_COLORS
from pipeline.visualize import colorize_labels, draw_skeleton, hstack_panels, save_png, titled

#: Height (px) of each panel of side_by_side.png [choice: 64 px results stay visible].
PANEL_HEIGHT: int = 192
#: Background of the skeleton panel (RGB) [choice].
SKELETON_BACKGROUND = (40, 40, 40)


def save_labels_png(path: Path | str, labels: np.ndarray) -> None:
    """(H, W) labels 0..9 -> palette PNG (values = labels, palette = LABEL_COLORS), atomic."""
    from PIL import Image  # noqa: PLC0415 - matplotlib and scikit-image depend on Pillow

    img = Image.fromarray(np.ascontiguousarray(labels, dtype=np.uint8))
    pal = np.zeros((256, 3), np.uint8)
    pal[:len(LABEL_COLORS)] = LABEL_COLORS
    img.putpalette(pal.ravel().tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    with atomic_path(path, suffix=".png.tmp") as tmp:
        tmp.write_bytes(buf.getvalue())


def _enlarge(image: np.ndarray, height: int = PANEL_HEIGHT) -> np.ndarray:
    h, w = image.shape[:2]
    width = max(1, int(round(w * height / h)))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST)


def skeleton_panel(keypoints: np.ndarray, hw: tuple[int, int],
                   height: int = PANEL_HEIGHT) -> np.ndarray:
    """The pose (18, 2) (y, x) px of an ``hw`` frame drawn at panel size."""
    h, w = hw
    s = height / h
    width = max(1, int(round(w * s)))
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = SKELETON_BACKGROUND
    kp = np.asarray(keypoints, np.float64)
    present = (kp >= 0).all(axis=1)
    scaled = np.where(present[:, None], (kp + 0.5) * s - 0.5, -1.0)
    return draw_skeleton(canvas, scaled, radius=max(2, height // 64))


def _map_panel(labels: np.ndarray | None, width: int) -> np.ndarray:
    if labels is not None:
        return _enlarge(colorize_labels(labels))
    blank = np.full((PANEL_HEIGHT, width, 3), 200, np.uint8)
    cv2.putText(blank, "no map", (8, PANEL_HEIGHT // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                (0, 0, 0), 1, cv2.LINE_AA)
    return blank


def side_by_side(rendering: Rendering) -> np.ndarray:
    """source | source map | target pose | target map | result, titled, one picture."""
    src = _enlarge(rendering.source_image)
    panels = [("source", src),
              ("source map", _map_panel(rendering.source_labels, src.shape[1])),
              ("target pose", skeleton_panel(rendering.target_keypoints,
                                             rendering.source_image.shape[:2])),
              ("target map", _map_panel(rendering.labels, src.shape[1])),
              ("result", _enlarge(rendering.image))]
    return hstack_panels([titled(p, t) for t, p in panels])


def person_panels(image: np.ndarray, keypoints: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """person | pose (skeleton) | parsing, titled, one picture."""
    panels = [("person", _enlarge(image)), ("pose", skeleton_panel(keypoints, image.shape[:2])),
              ("parsing", _enlarge(colorize_labels(labels)))]
    return hstack_panels([titled(p, t) for t, p in panels])


def write_rendering(out: Path | str, rendering: Rendering, info: dict[str, Any]
                    ) -> list[Path]:
    """The files of one application (module docstring); returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "result.png"]
    save_png(written[-1], rendering.image)
    if rendering.labels is not None:
        save_labels_png(out / "labels.png", rendering.labels)
        save_png(out / "map.png", colorize_labels(rendering.labels))
        written += [out / "labels.png", out / "map.png"]
    save_png(out / "side_by_side.png", side_by_side(rendering))
    atomic_write_json(out / "info.json", info)
    return written + [out / "side_by_side.png", out / "info.json"]


def write_person(out: Path | str, image: np.ndarray, keypoints: np.ndarray,
                 labels: np.ndarray, info: dict[str, Any]) -> list[Path]:
    """The files of ``parse`` (module docstring); returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_png(out / "person.png", image)
    save_labels_png(out / "labels.png", labels)
    save_png(out / "map.png", colorize_labels(labels))
    kp = np.asarray(keypoints, np.float64)
    points = [[round(float(y), 2), round(float(x), 2)] if y >= 0 and x >= 0 else [-1, -1]
              for y, x in kp]
    with atomic_path(out / "pose.json") as tmp:
        tmp.write_text(json.dumps(points) + "\n")
    save_png(out / "side_by_side.png", person_panels(image, keypoints, labels))
    atomic_write_json(out / "info.json", info)
    return [out / n for n in ("person.png", "labels.png", "map.png", "pose.json",
                              "side_by_side.png", "info.json")]
