"""The training-stage template: what `train_semantic`, `train_posenet` and `train_appearance`
do around their scheme, written once; each ``pipeline.training.<network>.stage`` fills in only
what differs (section, inputs, dataset, scheme, grids, final scores).

One run (:meth:`TrainingStage.run`): check the architecture; set up the process (threads, DDP,
deterministic CPU kernels); :meth:`~TrainingStage.prepare` (frozen networks), the dataset, a
resumable sampler and loader, the seed ``derive_seed(seed, seed_offset)`` (identical initial
weights on every rank), the scheme, per-rank RNG streams; the loop (AMP, DDP, resume,
progress, loss curves, learning curves on the test pairs (:meth:`~TrainingStage.curves`),
grids, checkpoints in ``data/cache/<stage>/<digest>/``, the digest covering params, input
files and code); then rank 0 writes the model file(s), scores the held-out test
pairs beside the references (:meth:`~TrainingStage.finish`) and publishes ``eval/<network>/``.
``stop_after`` stops as if killed (the checkpoint stays; ``finished: False``). On CPU the
outputs are bit-identical for the same params, inputs, torch build and thread count, resumed
or not (docs/reproducibility.md).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from pipeline.artifacts.paths import Paths
from pipeline.config.base import section_dict
from pipeline.datasets.pairs import DatasetError
from pipeline.inference.model_files import ModelFileError
from pipeline.models.blocks import ArchitectureError
from pipeline.torch_utils.distributed import DistInfo, barrier
from pipeline.torch_utils.misc import ResumableSampler, derive_seed, seed_everything
from pipeline.training.checkpoint import CheckpointError
from pipeline.training.logging import LossHistory, publish_eval
from pipeline.training.loop import LoopConfig, LoopResult, TrainingError, train
from pipeline.training.process import (build_loader, remove_work_dir, run_digest, summary_base,
                                       training_process, work_dir)
from pipeline.training.scheme import TrainingScheme
from pipeline.visualize import save_png

if TYPE_CHECKING:
    from pipeline.config.params import Params
    from pipeline.training.curves import Curves


@dataclass
class Training:
    """Everything a training run is made of (shared by the stage, the benchmarks and the
    DDP tests)."""

    dataset: Dataset
    sampler: ResumableSampler
    loader: DataLoader
    scheme: TrainingScheme


class SampleGrids:
    """Sample grids of fixed training and test items, written by rank 0 every
    ``sample_every`` steps as ``<folder>/<set>_<iteration>.png``. Subclasses build the fixed
    batches once (:meth:`fixed`: set name -> batch) and draw one grid (:meth:`draw`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._batches: dict[str, Any] | None = None

    def fixed(self) -> dict[str, Any]:
        raise NotImplementedError

    def draw(self, name: str, batch: Any, iteration: int) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, iteration: int) -> None:
        if self._batches is None:
            self._batches = self.fixed()
        for name, batch in self._batches.items():
            save_png(self.folder / f"{name}_{iteration:06d}.png",
                     self.draw(name, batch, iteration))


def first_items(dataset: Dataset, count: int) -> dict[str, Any] | None:
    """The first ``count`` items of ``dataset`` as one collated batch (None when empty)."""
    n = min(count, len(dataset))  # type: ignore[arg-type]
    if not n:
        return None
    return next(iter(DataLoader(torch.utils.data.Subset(dataset, range(n)), batch_size=n)))


class TrainingStage:
    """The template of a training stage (module docstring). Subclasses set the class
    attributes and implement the hooks; every hook receives the params and paths it reads."""

    name: ClassVar[str]                     #: stage name in dvc.yaml
    section: ClassVar[str]                  #: params section, also eval/<section>/
    inputs: ClassVar[tuple[str, ...]]       #: artifacts read (part of the run's identity)
    seed_offset: ClassVar[int]              #: offset of the initial-weights seed
    items: ClassVar[str] = "training pairs"  #: what the training items are (console)
    #: Errors caused by the user's inputs or settings: printed as one line.
    user_errors: ClassVar[tuple[type[Exception], ...]] = (
        TrainingError, CheckpointError, ModelFileError, DatasetError, ArchitectureError)

    # ---------------------------------------------------------------- hooks
    #: The scheme, built from the section alone (else override :meth:`scheme`), and the
    #: function section -> architecture that raises its errors (else override :meth:`check`).
    scheme_class: ClassVar[Callable[[Any, DistInfo], TrainingScheme]]
    architecture: ClassVar[Callable[[Any], Any]]

    def check(self, params: Params) -> None:
        """Raise the architecture's errors before any work."""
        type(self).architecture(getattr(params, self.section))

    def prepare(self, params: Params, paths: Paths) -> None:
        """Load what the run needs besides its data (frozen networks)."""

    def dataset(self, params: Params, paths: Paths) -> Dataset:
        """The training items, keyed ``(index, epoch)`` by the sampler."""
        raise NotImplementedError

    def scheme(self, params: Params, dist: DistInfo) -> TrainingScheme:
        """The networks and their optimisation (built after the seed is set)."""
        return type(self).scheme_class(getattr(params, self.section), dist)

    def digest_sections(self, params: Params) -> dict[str, Any]:
        """The result-shaping params (JSON-able) of the run's identity: the section."""
        return {self.section: section_dict(getattr(params, self.section))}

    def digest_files(self, params: Params, paths: Paths) -> list[Path]:
        """The files of the run's identity: the input artifacts (and model files read)."""
        return [paths.artifact(kind) for kind in self.inputs]

    def samples(self, params: Params, paths: Paths, scheme: TrainingScheme,
                folder: Path) -> SampleGrids:
        raise NotImplementedError

    def curves(self, params: Params, paths: Paths, scheme: TrainingScheme) -> Curves | None:
        """The learning curves on the test pairs (built on every rank; rank 0 scores), or
        None (the default; a stage whose ``curve_every`` is 0)."""
        return None

    def describe(self, params: Params, summary: dict[str, Any], training: Training) -> None:
        """Add the stage's own fields to the summary (also of an unfinished run)."""

    def label(self, params: Params) -> str:
        """The stage's name on the console (progress bar, summary)."""
        return self.name

    def finish(self, params: Params, paths: Paths, scheme: TrainingScheme
               ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Rank 0 after the last step: write the model file(s) and score; returns (the eval
        folder's metrics, the summary's fields)."""
        raise NotImplementedError

    def result_lines(self, summary: dict[str, Any]) -> list[str]:
        """Console lines of a finished run's scores."""
        return []

    # ---------------------------------------------------------------- the template
    @classmethod
    def entry_points(cls) -> tuple[tuple[type[Exception], ...],
                                   Callable[..., dict[str, Any]], Callable[[dict], str]]:
        """(user errors, ``run(params, paths, progress=True, stop_after=None)``,
        ``summary_text(summary)``) of the stage; each run uses a new instance, so nothing
        (e.g. a frozen network) outlives it."""
        def run(params: Params, paths: Paths, progress: bool = True,
                stop_after: int | None = None) -> dict[str, Any]:
            return cls().run(params, paths, progress, stop_after)

        return cls.user_errors, run, cls().summary_text

    def eval_dir(self, paths: Paths) -> Path:
        """eval/<network>/: metrics, curves and sample grids of the last finished run."""
        return paths.eval_dir(self.section)

    def digest(self, params: Params, paths: Paths) -> str:
        """Identity of a run: the result-shaping params, the input files and the code."""
        return run_digest(self.digest_sections(params), self.digest_files(params, paths))

    def build(self, params: Params, dist: DistInfo, dataset: Dataset) -> Training:
        """Resumable sampler, DataLoader and scheme of a run over ``dataset`` (the stage's
        :meth:`dataset`, or another one in tests); seeded: identical initial weights on every
        rank, then per-rank RNG streams."""
        s = getattr(params, self.section)
        sampler, loader = build_loader(dataset, s, dist, self.section, what=self.items)
        torch.manual_seed(derive_seed(s.seed, self.seed_offset))
        scheme = self.scheme(params, dist)
        seed_everything(s.seed, dist.rank)
        return Training(dataset, sampler, loader, scheme)

    def run(self, params: Params, paths: Paths, progress: bool = True,
            stop_after: int | None = None) -> dict[str, Any]:
        """Train (or resume) the network, write its outputs; returns the summary."""
        self.check(params)
        s = getattr(params, self.section)
        with training_process(s.device, s.threads) as dist:
            return self._run(params, paths, progress, stop_after, dist)

    def _run(self, params: Params, paths: Paths, progress: bool, stop_after: int | None,
             dist: DistInfo) -> dict[str, Any]:
        s, sec = getattr(params, self.section), self.section
        t0 = time.perf_counter()
        self.prepare(params, paths)
        tr = self.build(params, dist, self.dataset(params, paths))
        digest = self.digest(params, paths)
        wdir = work_dir(paths, self.name, digest)
        samples = self.samples(params, paths, tr.scheme, wdir / "samples")
        cfg = LoopConfig(iterations=s.iterations, log_every=s.log_every,
                         sample_every=s.sample_every, checkpoint_every=s.checkpoint_every,
                         checkpoint=wdir / "checkpoint.pt", digest=digest, progress=progress,
                         stop_after=stop_after, desc=self.label(params),
                         hint=f"lower {sec}.batch_size (now {s.batch_size}) or {sec}.height "
                              f"x width (now {s.height} x {s.width}), or use more processes")
        curves = self.curves(params, paths, tr.scheme)
        result = train(tr.scheme, tr.loader, tr.sampler, cfg, on_sample=samples,
                       history=LossHistory(), curves=curves)
        t1 = time.perf_counter()
        summary = summary_base(self.name, dist, len(tr.dataset), result)  # type: ignore[arg-type]
        summary["label"] = self.label(params)
        self.describe(params, summary, tr)
        if curves is not None:
            summary["curve_seconds"] = round(curves.seconds, 2)   # this process, this run
        if not result.finished:
            return summary
        if dist.is_main:
            summary.update(self._finish(params, paths, tr.scheme, samples, result, wdir,
                                        curves))
        barrier()
        summary["seconds"] = {"train": round(t1 - t0, 2),
                              "total": round(time.perf_counter() - t0, 2)}
        return summary

    def _finish(self, params: Params, paths: Paths, scheme: TrainingScheme,
                samples: SampleGrids, result: LoopResult, wdir: Path,
                curves: Curves | None = None) -> dict[str, Any]:
        metrics, fields = self.finish(params, paths, scheme)
        if curves is not None:
            metrics["curve_settings"] = curves.settings()
        publish_eval(self.eval_dir(paths), result.history, metrics, samples=samples.folder,
                     curves=curves.history if curves is not None else None)
        remove_work_dir(wdir)
        return fields

    def summary_text(self, summary: dict[str, Any]) -> str:
        """Console lines of the stage."""
        if not summary.get("finished"):
            return (f"{self.name}: stopped at iteration {summary['iterations']} (checkpoint "
                    f"kept; rerun to resume)")
        lines = [f"{summary.get('label', self.name)}: {summary['iterations']} iterations on "
                 f"{summary['training_items']} {self.items} ({summary['device']}, "
                 f"{summary['processes']} process(es), {summary['iterations_per_second']} "
                 f"it/s, data wait {100 * summary['data_wait_share']:.1f}%)"]
        if "curve_seconds" in summary:
            lines.append(f"  learning curves on the test pairs: {summary['curve_seconds']} s "
                         f"(eval/{self.section}/plots/metrics/curves/)")
        return "\n".join(lines + self.result_lines(summary))
