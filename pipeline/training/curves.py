"""Learning curves: the model scored on held-out test pairs during training, beside the
references that need no learning, published with the loss curves (docs/appearance-network.md,
docs/semantic-network.md "Learning curves").

    curves = Curves(MapCurveScorer(scheme.predict, test_pairs), every=100)
    train(scheme, loader, sampler, cfg, curves=curves)      # scores at 0, 100, ..., the last
    publish_eval(out_dir, history, metrics, curves=curves.history)

- **What.** A scorer returns ``{system: {metric: value}}`` for the systems ``model`` and the
  references (:data:`pipeline.evaluation.references.IMAGE_REFERENCES` for images,
  :data:`~pipeline.evaluation.references.MAP_REFERENCES` for maps). The references do not
  change with the steps: they are scored once and repeated at every point, so each plot draws
  the model against two constant lines. The scorers live with their networks:
  :class:`pipeline.training.appearance.curves.ImageCurveScorer` (SSIM, ST-LPIPS when its
  weights are installed, the independent MediaPipe PCKh of generated test images) and
  :class:`pipeline.training.semantic.curves.MapCurveScorer` (mIoU of G_S's test maps against
  the true target maps).
- **Which pairs.** At most ``count`` TEST pairs, evenly spaced over the test set
  (:func:`curve_pairs`), never training pairs; collated once and kept in memory.
- **No effect on training.** Scoring runs under :func:`keep_rng` (every RNG state restored
  after, so the training streams draw the same numbers), through the scheme's ``predict``
  (eval mode, no gradients, train mode restored: no BatchNorm statistic moves), on batches
  of its own (the training loader is not touched). The trained weights with curves on are
  bit-identical to those with curves off (tests/training/test_curves.py).
- **Resume.** The points are kept in a :class:`~pipeline.training.logging.LossHistory` that
  every checkpoint holds, so a resumed run publishes the curves of an uninterrupted run.
- **Processes.** Only rank 0 scores (the loop waits for it at a barrier), as for the sample
  grids.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
from torch.utils.data import Dataset, Subset

from pipeline.evaluation.scoring import Batch, batches
from pipeline.training.checkpoint import rng_state, set_rng_state
from pipeline.training.logging import LossHistory

#: System -> metric -> value of one scoring.
Scores = dict[str, dict[str, float]]


@contextmanager
def keep_rng() -> Iterator[None]:
    """Run the block with every RNG state (torch CPU and CUDA, NumPy, Python) restored after
    it: whatever the block draws, the caller's streams go on as if it had not run."""
    state = rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def curve_pairs(dataset: Dataset, count: int) -> Dataset:
    """At most ``count`` pairs of ``dataset``, evenly spaced in its order (all when it has no
    more): the same pairs at every scoring and in every run."""
    n = len(dataset)  # type: ignore[arg-type]
    if n <= count:
        return dataset
    return Subset(dataset, np.unique(np.linspace(0, n - 1, count).round().astype(int)).tolist())


class CurveScorer(Protocol):
    """Scores the current model on fixed test pairs: ``{system: {metric: value}}``."""

    def __call__(self) -> Scores: ...

    def settings(self) -> dict[str, Any]:
        """The pairs scored and, per metric, how (or ``"not computed: <why>"``): flat,
        eval/<network>/metrics.json ``curve_settings``."""
        ...


class FixedBatches:
    """The collated batches (``batch_size`` pairs each, dataset order) of a pair set, built on
    the first :meth:`get` and kept in memory (16 pairs at 64 px: ~1 MB)."""

    def __init__(self, dataset: Dataset, batch_size: int) -> None:
        self.dataset, self.batch_size = dataset, batch_size
        self._batches: list[Batch] | None = None

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def get(self) -> list[Batch]:
        if self._batches is None:
            self._batches = [b for _, b in batches(self.dataset, self.batch_size)]
        return self._batches


class Curves:
    """The learning curves of one run: ``scorer`` called at step 0, every ``every`` steps and
    at the last step (0 = never); the points in :attr:`history` (``<system>/<metric>`` at
    their steps), the wall time spent in :attr:`seconds`."""

    def __init__(self, scorer: CurveScorer, every: int) -> None:
        self.scorer, self.every = scorer, int(every)
        self.history = LossHistory()
        self.seconds = 0.0

    def due(self, step: int, iterations: int) -> bool:
        """Whether ``step`` is a scoring step (0, multiples of ``every``, the last)."""
        return self.every > 0 and (step % self.every == 0 or step == iterations)

    def score(self, step: int) -> None:
        """Score the model now and record the point at ``step`` (RNG states kept)."""
        t0 = time.perf_counter()
        with keep_rng():
            scores = self.scorer()
        self.history.add(step, {f"{system}/{metric}": value
                                for system, values in scores.items()
                                for metric, value in values.items()})
        self.seconds += time.perf_counter() - t0

    def settings(self) -> dict[str, Any]:
        """The schedule and the scorer's settings (metrics.json ``curve_settings``)."""
        return {"every": self.every, "points": len(self.history.steps),
                **self.scorer.settings()}

    def state_dict(self) -> dict[str, Any]:
        return self.history.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history.load_state_dict(state)
