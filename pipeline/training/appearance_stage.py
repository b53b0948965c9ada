"""Stage library of `train_appearance`: the appearance generative network and its scheme
(SPEC 5, :mod:`pipeline.training.appearance`).

Reads images.h5, poses.h5, parsing.h5, masks.h5, pseudo.h5 (training pairs: pseudo.h5 rows with
status ok; test pairs: images.h5 /pairs/test), models/semantic.safetensors (G_S, for ts_pred and
e2e), models/posenet.safetensors (the frozen pose detector of the pose loss) and the VGG16
weights (``loss.vgg_weights`` or the offline default). Writes (rank 0 only):

- ``models/appearance/`` (the DVC output): ``generator.safetensors`` (G_A with E_A, E'_S; its
  metadata holds the architecture, the scheme and the params) and, for e2e, the jointly
  trained ``semantic.safetensors`` (G_S after the joint phase). Written in a temporary folder
  and swapped into place.
- ``eval/appearance/``: DVCLive metrics.json: the final losses; on the test pairs SSIM,
  mask-SSIM and L1 of the generated images against the true targets, beside two references
  that need no learning (the unchanged source image, the source warped part by part), with the
  SSIM settings; loss curves and sample grids (source, target pose, predicted map, generated
  image, cycle reconstruction, and the true target on test pairs).
- ``data/cache/train_appearance/<digest>/``: checkpoint and grids of a run in progress.

One process or ``torchrun --nproc_per_node N`` (DDP); ``appearance.batch_size`` is the global batch.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from pipeline.artifacts import Paths
from pipeline.config import Params, section_dict
from pipeline.datasets.appearance import AppearancePairs
from pipeline.datasets.pairs import DatasetError, PseudoPairDataset, TestPairDataset
from pipeline.models.appearance import AppearanceArch
from pipeline.models.blocks import ArchitectureError
from pipeline.models.semantic import SemanticGenerator
from pipeline.models.vgg import VGGFeatures, VGGWeightsError, vgg_source
from pipeline.torch_utils.distributed import DistInfo, barrier
from pipeline.torch_utils.misc import ResumableSampler, derive_seed, seed_everything
from pipeline.training.appearance import (USES_SEMANTIC_NETWORK, AppearanceScheme, Frozen,
                                          arch_of, style_kind)
from pipeline.training.checkpoint import CheckpointError, load_model_file, save_model_file
from pipeline.training.trained import GENERATOR_FILE, JOINT_SEMANTIC_FILE
from pipeline.training.trained import appearance_dir as model_dir
from pipeline.training.trained import posenet_file as posenet_model
from pipeline.training.trained import pretrained_semantic_file as semantic_model
from pipeline.training.grids import sample_grid
from pipeline.training.image_eval import evaluate_image_pairs, image_rows
from pipeline.training.logging import LossHistory, publish_eval
from pipeline.training.loop import LoopConfig, TrainingError, train
from pipeline.training.runner import (build_loader, remove_work_dir, run_digest, summary_base,
                                      training_process, work_dir)
from pipeline.visualize import save_png

#: Name of the stage (cache folder, eval names).
STAGE = "train_appearance"
#: Artifacts the stage reads (DVC deps).
INPUTS = ("images", "poses", "parsing", "masks", "pseudo")
#: Errors caused by the user's inputs or settings: the stage script prints them as one line.
USER_ERRORS = (TrainingError, CheckpointError, DatasetError, ArchitectureError,
               VGGWeightsError)


def eval_dir(paths: Paths) -> Path:
    """eval/appearance/."""
    return paths.eval / "appearance"


def pair_datasets(params: Params, paths: Paths, sem_hw: tuple[int, int] | None,
                  train: bool) -> AppearancePairs:
    """Training (pseudo) or test pairs of the appearance stage (see :class:`AppearancePairs`).
    sem_hw: G_S's map resolution, or None when the scheme has no G_S."""
    tp = params.appearance
    hw = (tp.height, tp.width)
    if train:
        img = PseudoPairDataset(paths.prepared, hw, hw, flip=tp.flip, seed=tp.seed, cycle=True)
        sem = (PseudoPairDataset(paths.prepared, sem_hw, flip=tp.flip, seed=tp.seed)
               if sem_hw is not None else None)
    else:
        img = TestPairDataset(paths.prepared, hw, hw, cycle=True)
        sem = TestPairDataset(paths.prepared, sem_hw) if sem_hw is not None else None
    return AppearancePairs(img, sem)


def load_frozen(params: Params, paths: Paths) -> Frozen:
    """VGG features, the pose detector (when ``loss.pose`` > 0) and G_S (when the scheme
    uses it), from their files."""
    loss, scheme = params.loss, params.appearance.scheme
    vgg = VGGFeatures(loss.vgg_weights, scale=loss.vgg_scale)
    posenet = None
    if loss.pose > 0:
        posenet = _load(posenet_model(paths), "train_posenet")
    semantic = None
    if USES_SEMANTIC_NETWORK[scheme]:
        semantic = _load(semantic_model(paths), "train_semantic")
        if not isinstance(semantic, SemanticGenerator):
            raise CheckpointError(f"{semantic_model(paths)}: holds a "
                                  f"{type(semantic).__name__}, not the semantic generator")
    return Frozen(vgg, posenet, semantic)


def _load(path: Path, stage: str) -> torch.nn.Module:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; run `dvc repro {stage}` first")
    return load_model_file(path)


def appearance_digest(params: Params, paths: Paths) -> str:
    """Identity of a run: the result-shaping params, the inputs (artifacts, the model files
    the scheme reads, the VGG weights) and the code."""
    files = [paths.artifact(kind) for kind in INPUTS]
    if params.loss.pose > 0:
        files.append(posenet_model(paths))
    if USES_SEMANTIC_NETWORK[params.appearance.scheme]:
        files.append(semantic_model(paths))
    return run_digest({"appearance": section_dict(params.appearance), "loss": section_dict(params.loss),
                       "vgg": vgg_source(params.loss.vgg_weights)}, files)


@dataclass
class Training:
    """Everything an appearance training run is made of (shared by the stage and the bench)."""

    dataset: AppearancePairs
    sampler: ResumableSampler
    loader: DataLoader
    scheme: AppearanceScheme


def build_training(params: Params, dist: DistInfo, frozen: Frozen, dataset: AppearancePairs
                   ) -> Training:
    """Sampler, loader and scheme; seeded: the same initial weights on every rank."""
    tp = params.appearance
    sampler, loader = build_loader(dataset, tp, dist, "train")
    torch.manual_seed(derive_seed(tp.seed, 0xA9))
    scheme = AppearanceScheme(tp, params.loss, dist, frozen)
    seed_everything(tp.seed, dist.rank)
    return Training(dataset, sampler, loader, scheme)


def sem_hw_of(frozen: Frozen) -> tuple[int, int] | None:
    """G_S's map resolution (from its model file), or None without G_S."""
    if frozen.semantic is None:
        return None
    return frozen.semantic.arch.height, frozen.semantic.arch.width


def run(params: Params, paths: Paths, progress: bool = True,
        stop_after: int | None = None) -> dict:
    """Train (or resume) the appearance network with ``appearance.scheme`` and write its outputs;
    returns the summary. stop_after: stop as if killed after this many iterations (tests)."""
    tp = params.appearance
    arch_of(tp, params.loss)                        # shape errors before any work
    with training_process(tp.device, tp.threads) as dist:
        return _run(params, paths, progress, stop_after, dist)


def _run(params: Params, paths: Paths, progress: bool, stop_after: int | None,
         dist: DistInfo) -> dict:
    tp = params.appearance
    t0 = time.perf_counter()
    frozen = load_frozen(params, paths)
    sem_hw = sem_hw_of(frozen)
    tr = build_training(params, dist, frozen, pair_datasets(params, paths, sem_hw, True))
    digest = appearance_digest(params, paths)
    wdir = work_dir(paths, STAGE, digest)
    samples = _Samples(tr.scheme, params, paths, sem_hw, wdir / "samples")
    cfg = LoopConfig(iterations=tp.iterations, log_every=tp.log_every,
                     sample_every=tp.sample_every, checkpoint_every=tp.checkpoint_every,
                     checkpoint=wdir / "checkpoint.pt", digest=digest, progress=progress,
                     stop_after=stop_after, desc=f"{STAGE} ({tp.scheme})",
                     hint=f"lower appearance.batch_size (now {tp.batch_size}) or appearance.height x "
                          f"width (now {tp.height} x {tp.width}), or use more processes")
    result = train(tr.scheme, tr.loader, tr.sampler, cfg, on_sample=samples,
                   history=LossHistory())
    t1 = time.perf_counter()
    summary = summary_base(STAGE, dist, len(tr.dataset), result)
    summary["scheme"] = tp.scheme
    summary["style"] = style_kind(tp.scheme, params.loss.style)
    if not result.finished:
        return summary
    if dist.is_main:
        summary.update(_finish(params, paths, tr.scheme, samples, result.history, sem_hw,
                               wdir))
    barrier()
    summary["seconds"] = {"train": round(t1 - t0, 2), "total": round(time.perf_counter() - t0, 2)}
    return summary


def write_models(folder: Path, scheme: AppearanceScheme, params: Params) -> None:
    """G_A (and e2e's G_S) into ``folder``, written beside it and swapped into place."""
    tmp = folder.parent / f".{folder.name}.tmp"
    old = folder.parent / f".{folder.name}.old.tmp"
    for p in (tmp, old):
        shutil.rmtree(p, ignore_errors=True)
    tmp.mkdir(parents=True)
    extra = {"params": json.dumps({"appearance": section_dict(params.appearance),
                                   "loss": section_dict(params.loss)}, sort_keys=True),
             "scheme": params.appearance.scheme, "stage": STAGE,
             "vgg": vgg_source(params.loss.vgg_weights)}
    save_model_file(tmp / GENERATOR_FILE, "appearance_generator", scheme.generator,
                    scheme.arch.to_dict(), extra=extra)
    g_s = scheme.networks.get("semantic_generator")
    if g_s is not None:
        save_model_file(tmp / JOINT_SEMANTIC_FILE, "semantic_generator", g_s,
                        g_s.arch.to_dict(), extra=extra)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _finish(params: Params, paths: Paths, scheme: AppearanceScheme, samples: "_Samples",
            history: LossHistory, sem_hw: tuple[int, int] | None, wdir: Path) -> dict:
    """Rank 0 after the last step: model files, metrics, published eval folder."""
    write_models(model_dir(paths), scheme, params)
    test = evaluate_image_pairs(scheme.predict, pair_datasets(params, paths, sem_hw, False))
    metrics: dict[str, Any] = {"test": test, "scheme": {"name": params.appearance.scheme,
                                                        "style": scheme.style}}
    publish_eval(eval_dir(paths), history, metrics, samples=samples.folder)
    remove_work_dir(wdir)
    return {"model": str(model_dir(paths)),
            "test": {k: {m: test[k][m] for m in ("ssim", "mask_ssim", "l1")}
                     for k in ("model", "source", "part_warp")}}


class _Samples:
    """Sample grids of fixed training and test pairs (rank 0) in ``folder``."""

    def __init__(self, scheme: AppearanceScheme, params: Params, paths: Paths,
                 sem_hw: tuple[int, int] | None, folder: Path) -> None:
        self.scheme, self.params, self.paths, self.sem_hw = scheme, params, paths, sem_hw
        self.count = params.appearance.sample_count
        self.folder = folder
        self._batches: dict[str, dict[str, Any]] | None = None

    def _fixed(self) -> dict[str, dict[str, Any]]:
        if self._batches is None:
            out = {}
            for name, train in (("train", True), ("test", False)):
                ds = pair_datasets(self.params, self.paths, self.sem_hw, train)
                if train:
                    ds.images.flip = False
                    if ds.sem is not None:
                        ds.sem.flip = False
                n = min(self.count, len(ds))
                if n:
                    out[name] = next(iter(DataLoader(Subset(ds, range(n)), batch_size=n)))
            self._batches = out
        return self._batches

    def __call__(self, iteration: int) -> None:
        for name, batch in self._fixed().items():
            out = self.scheme.generate(batch, back=True)
            labels = out.tgt_maps.argmax(1).cpu() if out.tgt_maps is not None else None
            rows = image_rows(batch, out.fake_t.cpu(), out.fake_s.cpu(), labels)
            grid = sample_grid(rows, f"{name} pairs ({self.params.appearance.scheme}), "
                                     f"iteration {iteration}")
            save_png(self.folder / f"{name}_{iteration:06d}.png", grid)


def summary_text(summary: dict) -> str:
    """Console lines of the stage."""
    if not summary.get("finished"):
        return (f"{STAGE}: stopped at iteration {summary['iterations']} (checkpoint kept; "
                f"rerun to resume)")
    lines = [f"{STAGE} ({summary['scheme']}, style {summary['style']}): "
             f"{summary['iterations']} iterations on {summary['training_items']} pseudo pairs "
             f"({summary['device']}, {summary['processes']} process(es), "
             f"{summary['iterations_per_second']} it/s, data wait "
             f"{100 * summary['data_wait_share']:.1f}%)"]
    for k, v in summary.get("test", {}).items():
        lines.append(f"  test pairs {k:>10}: SSIM {v['ssim']}  mask-SSIM {v['mask_ssim']}  "
                     f"L1 {v['l1']}")
    return "\n".join(lines)
