"""Stage library of `search`: pseudo target maps for every training image -> pseudo.h5.

pseudo.h5 rows are aligned with images.h5 (test images and skipped sources keep a row with
status != STATUS_OK). Layout: /names; /status (N,) uint8 (pipeline.artifacts.codes
SEARCH_STATUS_NAMES); /target_index (N,) int32 c* (-1 none); /cost (N,) float32 (NaN none);
/topk_index, /topk_cost (N, k); /num_admissible (N,) int32; /target_keypoints (N, 18, 2)
float32 = P*_t (image pixels); /target_labels (N, H, W) uint8 = S*_Pt; /target_pose_mask
(N, H, W) bool = M*_Pt. File attributes say how exact the search was (:func:`shortlist_attrs`):
shortlist (0 = exact), shortlist_method, and with a shortlist its recall and cost excess
against the exact search, measured on shortlist_recall_sample random sources.

The search's quality against the synthetic oracle is measured by a stage of its own
(`search_report`, :mod:`pipeline.evaluation.search_report`), so this stage reads no ground truth.
"""
from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import numpy as np

from pipeline.artifacts.codes import (SEARCH_STATUS_NAMES, SPLIT_TRAIN, STATUS_NO_CANDIDATE,
                                      STATUS_NO_TORSO, STATUS_OK, STATUS_TEST)
from pipeline.artifacts.paths import Paths
from pipeline.artifacts.reader import Artifact, read_strings
from pipeline.artifacts.stage_writer import stage_output
from pipeline.artifacts.store import create_array, write_array
from pipeline.config.base import section_dict
from pipeline.labels import KEYPOINT_NAMES, LABEL_NAMES, NUM_KEYPOINTS
from pipeline.search.blocks import SearchResult, clear_cache, run_search
from pipeline.search.inputs import SearchInputs, build_inputs
from pipeline.search.recall import measure as measure_recall

if TYPE_CHECKING:
    from pathlib import Path

    from pipeline.config.params import Params
    from pipeline.config.search import SearchParams

#: Images per chunk when reading label maps and building working-resolution inputs.
READ_CHUNK = 512


def load_inputs(arts: dict[str, Artifact], work_hw: tuple[int, int]) -> SearchInputs:
    """Working-resolution search inputs of every image, read chunk by chunk (bounded memory).

    arts: the open, aligned poses and parsing artifacts
    (:func:`pipeline.artifacts.reader.open_aligned`).
    """
    labels_ds = arts["parsing"]["labels"]
    n, height, width = labels_ds.shape
    kp = arts["poses"]["keypoints"][:]
    chunks = [build_inputs(kp[i:i + READ_CHUNK], labels_ds[i:i + READ_CHUNK], (height, width),
                           work_hw) for i in range(0, n, READ_CHUNK)]
    return SearchInputs(*(np.concatenate([getattr(c, f) for c in chunks])
                          for f in ("keypoints", "labels", "parts", "bbox", "torso_ok",
                                    "torso_size")))


def run(params: Params, paths: Paths, progress: bool = True) -> dict:
    """Run the search over the training split and write pseudo.h5; returns the summary.

    Finished blocks of an interrupted search are kept in ``paths.cache / "search"`` and
    deleted once pseudo.h5 is in place. Timings go to the console (stderr), never into an
    output: the summary is a DVC output and must be byte-identical for equal inputs.
    """
    search = params.search
    cache_root = paths.cache / "search"
    with stage_output(paths, "pseudo", inputs=["poses", "parsing", "masks"],
                      params=section_dict(search),
                      description="Pseudo target maps of the affine-warp nearest-pose search "
                                  "(docs/method.md §4), one row per image of images.h5") as out:
        t0 = time.perf_counter()
        arts = out.inputs
        inputs = load_inputs(arts, (search.height, search.width))
        images = arts["images"]
        names = images.names
        n = len(names)
        train = images["split"][:] == SPLIT_TRAIN
        person = np.array(read_strings(images["person_id"]))
        pool = np.flatnonzero(train & inputs.torso_ok)
        sources = pool.copy()
        t1 = time.perf_counter()
        result = run_search(inputs, sources, pool, person, search, cache_root, progress)
        t2 = time.perf_counter()                # the search alone, without the recall sample
        shortlist = shortlist_attrs(inputs, result, sources, pool, person, search, cache_root,
                                    progress)

        status = np.full(n, STATUS_OK, np.uint8)
        status[~train] = STATUS_TEST
        status[train & ~inputs.torso_ok] = STATUS_NO_TORSO
        status[train & inputs.torso_ok & (result.target < 0)] = STATUS_NO_CANDIDATE
        target = result.target
        has = target >= 0
        _, height, width = arts["parsing"]["labels"].shape
        kp_img = arts["poses"]["keypoints"][:]
        f = out.file
        f.attrs.update(image_height=height, image_width=width, search_height=search.height,
                       search_width=search.width, **shortlist)
        write_array(f, "status", status, "outcome of the search for this image", "(N,)",
                    "uint8 code", status_names=list(SEARCH_STATUS_NAMES))
        write_array(f, "target_index", target, "c* = argmin_c cost(s, c): row of the chosen "
                    "candidate in images.h5", "(N,)", "int32 row index, -1 = none")
        write_array(f, "cost", result.cost, "cost(s, c*) of docs/method.md §4 at the working resolution",
                    "(N,)", "float32 pixel costs, NaN = none")
        write_array(f, "topk_index", result.topk_index, "the k cheapest candidates, cheapest "
                    "first (ties: lower row)", "(N, k)", "int32 row index, -1 = none")
        write_array(f, "topk_cost", result.topk_cost, "costs of topk_index", "(N, k)",
                    "float32, NaN = none")
        write_array(f, "num_admissible", result.num_admissible, "number of admissible "
                    "candidates searched", "(N,)", "int32, -1 = not searched")
        tkp = np.full((n, NUM_KEYPOINTS, 2), -1, np.float32)
        tkp[has] = kp_img[target[has]]
        write_array(f, "target_keypoints", tkp, "P*_t = P_c*: keypoints of the chosen candidate",
                    "(N, 18, 2)", "float32 (y, x) image pixels, -1 missing",
                    keypoint_names=list(KEYPOINT_NAMES))
        tl = create_array(f, "target_labels", (n, height, width), np.uint8,
                          "S*_Pt = S_c*: parsing of the chosen candidate", "(N, H, W)",
                          "uint8 label (attribute label_names); zeros where none",
                          label_names=list(LABEL_NAMES))
        tm = create_array(f, "target_pose_mask", (n, height, width), bool,
                          "M*_Pt = M_P_c*: pose mask of the chosen candidate", "(N, H, W)",
                          "bool; all False where none")
        labels_ds = arts["parsing"]["labels"]
        pmask_ds = arts["masks"]["pose_mask"]
        for i in np.flatnonzero(has):
            tl[i] = labels_ds[int(target[i])]
            tm[i] = pmask_ds[int(target[i])]
        adm = result.num_admissible[result.num_admissible > 0]
        # pairs given the exact cost: every admissible one, or at most the shortlist's M
        pairs = int((np.minimum(adm, search.shortlist) if search.shortlist else adm).sum())
        out.summary.update({
            "images": n, "train": int(train.sum()), "sources_searched": int(sources.size),
            "pool": int(pool.size), "with_target": int(has.sum()),
            "status_counts": {name: int((status == c).sum())
                              for c, name in enumerate(SEARCH_STATUS_NAMES)},
            "no_torso": [names[i] for i in np.flatnonzero(status == STATUS_NO_TORSO)],
            "no_candidate": [names[i] for i in np.flatnonzero(status == STATUS_NO_CANDIDATE)],
            "pairs_evaluated": pairs,
            "implementation": search.implementation,
            **shortlist,
        })
    clear_cache(cache_root)
    t3 = time.perf_counter()
    if progress:
        print(f"search: {pairs} pairs in {t2 - t1:.1f} s ({pairs / max(t2 - t1, 1e-9):.0f} "
              f"pairs/s); inputs {t1 - t0:.1f} s, recall sample and write {t3 - t2:.1f} s", file=sys.stderr)
    return out.summary


def shortlist_attrs(inputs: SearchInputs, result: SearchResult, sources: np.ndarray,
                    pool: np.ndarray, person: np.ndarray, search: SearchParams,
                    cache_root: Path, progress: bool) -> dict:
    """pseudo.h5 attributes (and summary keys) saying how exact the search was.

    shortlist (0 = exact over every admissible candidate), shortlist_method, and with a
    shortlist the recall and mean relative cost excess measured on a seeded random sample of
    ``shortlist_recall_sample`` sources (:mod:`pipeline.search.recall`); -1 = not measured.
    """
    if search.shortlist == 0:
        return {"shortlist": 0, "shortlist_method": "none (exact search)"}
    out = {"shortlist": search.shortlist, "shortlist_method": search.shortlist_method,
           "shortlist_factor": search.shortlist_factor if search.shortlist_method == "lowres"
           else 0, "shortlist_recall_sample": 0, "shortlist_recall": -1.0,
           "shortlist_cost_excess": -1.0}
    if search.shortlist_recall_sample > 0:
        ident = person if search.same_identity == "exclude" else None
        rec = measure_recall(inputs, result, sources, pool, ident, search, cache_root, progress)
        if rec.sample > 0:                      # no sampled source had a candidate: -1 stays
            out.update(shortlist_recall_sample=rec.sample, shortlist_recall=rec.recall,
                       shortlist_cost_excess=rec.cost_excess)
    return out


def summary_text(summary: dict) -> str:
    """One line for the stage's console output."""
    return (f"search: {summary['with_target']} of {summary['train']} training images got a "
            f"pseudo target; {summary['pairs_evaluated']} pairs evaluated")
