"""Stage library of `train_semantic`: pseudo targets -> the semantic generative network (SPEC 5).

Reads images.h5, poses.h5, parsing.h5, masks.h5 and pseudo.h5 (training pairs: pseudo.h5 rows
with status ok; test pairs: images.h5 /pairs/test). Writes (rank 0 only):
- ``models/semantic.safetensors``: G_S weights + metadata (``network``, ``arch`` JSON, ``params``
  JSON of the result-shaping params), rebuildable with
  :func:`pipeline.training.checkpoint.load_model_file`. The DVC output.
- ``eval/semantic/``: DVCLive metrics.json (final losses; test-pair pixel accuracy / mIoU of the
  model, the unchanged source map and the part warp f(S_Ps); on synthetic data the oracle
  scores of training sources), loss curves plots/metrics/train/*.tsv and samples/*.png grids.
- ``data/cache/train_semantic/<digest>/``: the checkpoint and the grids of a run in progress
  (not a DVC output; deleted when the run finished). ``<digest>`` covers the result-shaping
  params, the input files and the training code, so a checkpoint of anything else is never
  resumed.

The same entry point runs in one process or under ``torchrun --nproc_per_node N``
(DistributedDataParallel; gloo on CPU, NCCL on CUDA); ``semantic.batch_size`` is the global
batch, split evenly over the processes.

Determinism: on CPU the run uses deterministic kernels and ``semantic.threads`` intra-op
threads; its outputs are bit-identical for the same params, inputs, torch build and thread
count (the thread count is execution-only and fixed by default, so `dvc repro` reproduces
dvc.lock on the same software).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from pipeline.artifacts import Paths
from pipeline.config import Params, SemanticParams, section_dict
from pipeline.datasets.pairs import DatasetError, PseudoPairDataset, TestPairDataset
from pipeline.models.blocks import ArchitectureError
from pipeline.models.semantic import SemanticArch
from pipeline.torch_utils.distributed import DistInfo, barrier
from pipeline.torch_utils.misc import ResumableSampler, derive_seed, seed_everything
from pipeline.training.checkpoint import CheckpointError, save_model_file
from pipeline.training.evaluate import (evaluate_oracle, evaluate_test_pairs, oracle_truth_fn,
                                        part_warp)
from pipeline.training.grids import pair_row, sample_grid
from pipeline.training.logging import LossHistory, publish_eval
from pipeline.training.loop import LoopConfig, TrainingError, train
from pipeline.training.runner import (build_loader, remove_work_dir, run_digest, summary_base,
                                      training_process, work_dir)
from pipeline.training.semantic import SemanticScheme, arch_of
from pipeline.visualize import save_png

#: Name of the stage (cache folder, model and eval names).
STAGE = "train_semantic"
#: Artifacts the stage reads (DVC deps).
INPUTS = ("images", "poses", "parsing", "masks", "pseudo")
#: Errors caused by the user's inputs or settings: the stage script prints them as one line.
USER_ERRORS = (TrainingError, CheckpointError, DatasetError, ArchitectureError)


def model_path(paths: Paths) -> Path:
    """models/semantic.safetensors."""
    return paths.models / "semantic.safetensors"


def eval_dir(paths: Paths) -> Path:
    """eval/semantic/."""
    return paths.eval / "semantic"


def semantic_digest(params: SemanticParams, paths: Paths) -> str:
    """Identity of a run: the result-shaping params, the input artifacts and the code."""
    return run_digest({"semantic": section_dict(params)},
                      [paths.artifact(kind) for kind in INPUTS])


def run(params: Params, paths: Paths, progress: bool = True,
        stop_after: int | None = None) -> dict:
    """Train (or resume) the semantic network and write its outputs; returns the summary.

    stop_after: stop after this many iterations as if killed (tests, benchmarks): the
    checkpoint stays and nothing else is written; the summary then has ``finished: False``.
    """
    sp = params.semantic
    arch = arch_of(sp)                              # resolution / depth errors before any work
    with training_process(sp.device, sp.threads) as dist:
        return _run(params, paths, progress, stop_after, dist, arch)


@dataclass
class Training:
    """Everything a semantic training run is made of (shared by the stage and the bench)."""

    dataset: Dataset
    sampler: ResumableSampler
    loader: DataLoader
    scheme: SemanticScheme


def training_dataset(sp: SemanticParams, paths: Paths) -> PseudoPairDataset:
    """The training pairs (pseudo.h5 rows with status ok) at the network's map resolution."""
    return PseudoPairDataset(paths.prepared, (sp.height, sp.width), flip=sp.flip, seed=sp.seed)


def build_training(sp: SemanticParams, dist: DistInfo, dataset: Dataset) -> Training:
    """Resumable sampler, DataLoader and scheme of a run over ``dataset`` (items keyed by
    ``(index, epoch)``); seeded: identical initial weights on every rank, then per-rank RNG
    streams."""
    sampler, loader = build_loader(dataset, sp, dist, "semantic")
    torch.manual_seed(derive_seed(sp.seed, 0x5E))    # same initial weights on every rank
    scheme = SemanticScheme(sp, dist)
    seed_everything(sp.seed, dist.rank)
    return Training(dataset, sampler, loader, scheme)


def _run(params: Params, paths: Paths, progress: bool, stop_after: int | None,
         dist: DistInfo, arch: SemanticArch) -> dict:
    sp = params.semantic
    t0 = time.perf_counter()
    tr = build_training(sp, dist, training_dataset(sp, paths))
    digest = semantic_digest(sp, paths)
    wdir = work_dir(paths, STAGE, digest)
    samples = _Samples(tr.scheme, paths, (sp.height, sp.width), sp.sample_count,
                       wdir / "samples")
    cfg = LoopConfig(iterations=sp.iterations, log_every=sp.log_every,
                     sample_every=sp.sample_every, checkpoint_every=sp.checkpoint_every,
                     checkpoint=wdir / "checkpoint.pt", digest=digest, progress=progress,
                     stop_after=stop_after, desc=STAGE,
                     hint=f"lower semantic.batch_size (now {sp.batch_size}) or "
                          f"semantic.height x width (now {sp.height} x {sp.width}), or use "
                          f"more processes")
    result = train(tr.scheme, tr.loader, tr.sampler, cfg, on_sample=samples,
                   history=LossHistory())
    t1 = time.perf_counter()
    summary = summary_base(STAGE, dist, len(tr.dataset), result)
    if not result.finished:
        return summary
    if dist.is_main:
        summary.update(_finish(params, paths, tr.scheme, samples, result, arch, wdir))
    barrier()
    summary["seconds"] = {"train": round(t1 - t0, 2), "total": round(time.perf_counter() - t0, 2)}
    return summary


def _finish(params: Params, paths: Paths, scheme: SemanticScheme, samples: "_Samples",
            result: LoopResult, arch: SemanticArch, wdir: Path) -> dict:
    """Rank 0 after the last step: model file, metrics, published eval folder."""
    sp = params.semantic
    save_model_file(model_path(paths), "semantic_generator", scheme.generator, arch.to_dict(),
                    extra={"params": json.dumps(section_dict(sp), sort_keys=True),
                           "stage": STAGE})
    predict = scheme.predict
    test = evaluate_test_pairs(predict, TestPairDataset(paths.prepared, (sp.height, sp.width)))
    metrics: dict[str, Any] = {"test": test}
    root = paths.dataset(params.data.root)
    if params.data.source == "synthetic" and (root / "truth.h5").is_file():
        train_eval = PseudoPairDataset(paths.prepared, (sp.height, sp.width), flip=False,
                                       seed=sp.seed)
        truth = oracle_truth_fn(root, train_eval.arts["images"].names, (sp.height, sp.width))
        metrics["train_oracle"] = evaluate_oracle(predict, train_eval, truth)
    publish_eval(eval_dir(paths), result.history, metrics, samples=samples.folder)
    remove_work_dir(wdir)
    return {"model": str(model_path(paths)), "test": {k: {"miou": v["miou"],
                                                          "pixel_accuracy": v["pixel_accuracy"]}
                                                      for k, v in test.items() if k != "pairs"},
            "train_oracle": {k: v["miou"] for k, v in metrics.get("train_oracle", {}).items()
                             if isinstance(v, dict)}}


class _Samples:
    """Writes sample grids of fixed training and test pairs (rank 0) into ``folder``."""

    def __init__(self, scheme: SemanticScheme, paths: Paths, map_hw: tuple[int, int],
                 count: int, folder: Path) -> None:
        self.scheme, self.paths, self.map_hw, self.count = scheme, paths, map_hw, count
        self.folder = folder
        self._batches: dict[str, dict[str, torch.Tensor]] | None = None

    def _fixed(self) -> dict[str, dict[str, torch.Tensor]]:
        if self._batches is None:
            out = {}
            for name, ds in (("train", PseudoPairDataset(self.paths.prepared, self.map_hw)),
                             ("test", TestPairDataset(self.paths.prepared, self.map_hw))):
                n = min(self.count, len(ds))
                if n:
                    out[name] = next(iter(DataLoader(torch.utils.data.Subset(ds, range(n)),
                                                     batch_size=n)))
            self._batches = out
        return self._batches

    def __call__(self, iteration: int) -> None:
        for name, batch in self._fixed().items():
            pred = self.scheme.predict(batch).argmax(1).cpu().numpy()
            warped = part_warp(batch).numpy()
            rows = [pair_row(batch["src_labels"][i].numpy(), batch["src_keypoints"][i].numpy(),
                             batch["tgt_keypoints"][i].numpy(), pred[i], warped[i],
                             batch["tgt_labels"][i].numpy(),
                             "pseudo S*_Pt" if name == "train" else "true S_Pt")
                    for i in range(len(pred))]
            grid = sample_grid(rows, f"{name} pairs, iteration {iteration}")
            save_png(self.folder / f"{name}_{iteration:06d}.png", grid)


def summary_text(summary: dict) -> str:
    """Console lines of the stage."""
    if not summary.get("finished"):
        return (f"{STAGE}: stopped at iteration {summary['iterations']} (checkpoint kept; "
                f"rerun to resume)")
    t = summary.get("test", {})
    lines = [f"{STAGE}: {summary['iterations']} iterations on {summary['training_items']} "
             f"pseudo pairs ({summary['device']}, {summary['processes']} process(es), "
             f"{summary['iterations_per_second']} it/s, data wait "
             f"{100 * summary['data_wait_share']:.1f}%)"]
    for k in ("model", "source_map", "part_warp"):
        if k in t:
            lines.append(f"  test pairs {k:>10}: mIoU {t[k]['miou']}  pixel acc "
                         f"{t[k]['pixel_accuracy']}")
    if summary.get("train_oracle"):
        lines.append(f"  training sources vs oracle: mIoU model {summary['train_oracle'].get('model')}"
                     f", pseudo target {summary['train_oracle'].get('pseudo_target')}")
    return "\n".join(lines)
