"""Stage library of `search`: pseudo target maps for every training image -> pseudo.h5.

pseudo.h5 rows are aligned with images.h5 (test images and skipped sources keep a row with
status != 0). Layout: /names; /status (N,) uint8 (STATUS_NAMES); /target_index (N,) int32
c* (-1 none); /cost (N,) float32 (NaN none); /topk_index, /topk_cost (N, k);
/num_admissible (N,) int32; /target_keypoints (N, 18, 2) float32 = P*_t (image pixels);
/target_labels (N, H, W) uint8 = S*_Pt; /target_pose_mask (N, H, W) bool = M*_Pt.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pipeline.artifacts import (SPLIT_TRAIN, atomic_h5, atomic_write_json, create_array,
                                open_aligned, read_strings, write_array, write_names)
from pipeline.config import SearchParams, section_dict
from pipeline.labels import KEYPOINT_NAMES, LABEL_NAMES
from pipeline.search.blocks import SearchOptions, clear_cache, run_search
from pipeline.search.inputs import SearchInputs, build_inputs

STATUS_NAMES = ("ok", "test image (not searched)", "no complete torso (cannot be a source)",
                "no admissible candidate")
ST_OK, ST_TEST, ST_NO_TORSO, ST_NO_CANDIDATE = range(4)

#: Images per chunk when reading label maps and building working-resolution inputs.
READ_CHUNK = 512


def options(params: SearchParams) -> SearchOptions:
    """The search options of params.yaml's ``search`` section."""
    return SearchOptions(top_k=params.top_k, min_pose_distance=params.min_pose_distance,
                         same_identity=params.same_identity, mismatch_cost=params.mismatch_cost,
                         block_size=params.block_size, workers=params.workers,
                         backend=params.backend, implementation=params.implementation)


def load_inputs(prepared: Path, work_hw: tuple[int, int]) -> tuple[SearchInputs, dict]:
    """Working-resolution search inputs of every image, read chunk by chunk (bounded memory)."""
    arts = open_aligned(["poses", "parsing", "masks"], prepared)
    labels_ds = arts["parsing"]["labels"]
    n, height, width = labels_ds.shape
    kp = arts["poses"]["keypoints"][:]
    chunks = [build_inputs(kp[i:i + READ_CHUNK], labels_ds[i:i + READ_CHUNK], (height, width),
                           work_hw) for i in range(0, n, READ_CHUNK)]
    inputs = SearchInputs(*(np.concatenate([getattr(c, f) for c in chunks])
                            for f in ("keypoints", "labels", "parts", "bbox", "torso_ok",
                                      "torso_size")))
    return inputs, arts


def search_stage(params: SearchParams, prepared: Path, out_path: Path, summary_path: Path,
                 cache_root: Path, progress: bool = True) -> dict:
    """Run the search over the training split and write pseudo.h5; returns the summary."""
    t0 = time.perf_counter()
    inputs, arts = load_inputs(prepared, (params.height, params.width))
    images = arts["images"]
    names = images.names
    n = len(names)
    split = images["split"][:]
    person = np.array(read_strings(images["person_id"]))
    train = split == SPLIT_TRAIN
    pool = np.flatnonzero(train & inputs.torso_ok)
    sources = pool.copy()
    opts = options(params)
    t1 = time.perf_counter()
    result = run_search(inputs, sources, pool, person, opts, cache_root, progress,
                        params.scheduler)
    t2 = time.perf_counter()

    status = np.full(n, ST_OK, np.uint8)
    status[~train] = ST_TEST
    status[train & ~inputs.torso_ok] = ST_NO_TORSO
    status[train & inputs.torso_ok & (result.target < 0)] = ST_NO_CANDIDATE
    target = result.target
    has = target >= 0
    _, height, width = arts["parsing"]["labels"].shape
    kp_img = arts["poses"]["keypoints"][:]
    with atomic_h5(out_path, stage="search", params=section_dict(params), source=str(prepared),
                   description="Pseudo target maps of the affine-warp nearest-pose search "
                               "(SPEC 4), one row per image of images.h5") as f:
        f.attrs.update(image_height=height, image_width=width, search_height=params.height,
                       search_width=params.width)
        write_names(f, names)
        write_array(f, "status", status, "outcome of the search for this image", "(N,)",
                    "uint8 code", status_names=list(STATUS_NAMES))
        write_array(f, "target_index", target, "c* = argmin_c cost(s, c): row of the chosen "
                    "candidate in images.h5", "(N,)", "int32 row index, -1 = none")
        write_array(f, "cost", result.cost, "cost(s, c*) of SPEC 4 at the working resolution",
                    "(N,)", "float32 pixel costs, NaN = none")
        write_array(f, "topk_index", result.topk_index, "the k cheapest candidates, cheapest "
                    "first (ties: lower row)", "(N, k)", "int32 row index, -1 = none")
        write_array(f, "topk_cost", result.topk_cost, "costs of topk_index", "(N, k)",
                    "float32, NaN = none")
        write_array(f, "num_admissible", result.num_admissible, "number of admissible "
                    "candidates searched", "(N,)", "int32, -1 = not searched")
        tkp = np.full((n, 18, 2), -1, np.float32)
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
    clear_cache(cache_root)
    t3 = time.perf_counter()
    pairs = int(result.num_admissible[result.num_admissible > 0].sum())
    summary = {
        "images": n, "train": int(train.sum()), "sources_searched": int(sources.size),
        "pool": int(pool.size), "with_target": int(has.sum()),
        "status_counts": {STATUS_NAMES[c]: int((status == c).sum()) for c in range(4)},
        "no_torso": [names[i] for i in np.flatnonzero(status == ST_NO_TORSO)],
        "no_candidate": [names[i] for i in np.flatnonzero(status == ST_NO_CANDIDATE)],
        "pairs_evaluated": pairs,
        "seconds": {"inputs": round(t1 - t0, 3), "search": round(t2 - t1, 3),
                    "write": round(t3 - t2, 3)},
        "pairs_per_second": round(pairs / max(t2 - t1, 1e-9), 1),
        "implementation": params.implementation, "backend": params.backend,
        "workers": params.workers,
    }
    atomic_write_json(summary_path, summary)
    return summary
