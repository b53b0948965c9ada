"""The training loop shared by every scheme: resume, progress, loss history, grids, checkpoints.

    result = train(scheme, loader, sampler, LoopConfig(...), on_sample=...)

- **Resume.** With ``cfg.checkpoint`` set, a checkpoint written by an earlier run of the same
  ``cfg.digest`` (params, inputs and code) is loaded first: networks, optimisers, scaler, RNG
  states of every rank, the sampler cursor and the loss history; training continues at the next
  iteration. A checkpoint of another digest is ignored (and replaced by the next save).
  Because every random draw of a step is reproducible from the saved state (the sampler and
  the flips are seeded, the networks use no dropout), a run stopped at iteration k and resumed
  ends with the weights of an uninterrupted run on CPU in deterministic mode.
- **Only rank 0 writes** (checkpoints, grids); every rank computes the same logged means
  (losses are averaged over ranks at logging steps).
- **Learning curves.** With ``curves`` (:class:`pipeline.training.curves.Curves`), rank 0
  scores the held-out test pairs at step 0, every ``curves.every`` steps and at the last step
  (the other ranks wait); the points travel in every checkpoint. Scoring draws from no
  training RNG stream and moves no weight or statistic, so the weights are those of a run
  without curves; its wall time is left out of the step timings.
- **Progress.** A tqdm bar (rank 0) with iterations/s and the current losses.
- **Out of memory** stops with one line naming the batch size and resolution to lower.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.distributed as tdist
from tqdm import tqdm

from pipeline.torch_utils.distributed import all_reduce_mean, barrier
from pipeline.torch_utils.misc import ResumableSampler
from pipeline.training.checkpoint import (CheckpointError, load_checkpoint, rng_state,
                                          save_checkpoint, set_rng_state)
from pipeline.training.logging import LossHistory
from pipeline.training.scheme import TrainingScheme

if TYPE_CHECKING:      # the loop only calls it: posenet's stage does not import the scorers
    from pipeline.training.curves import Curves


class TrainingError(RuntimeError):
    """A training run that cannot go on (the message says what to change)."""


@dataclass
class LoopConfig:
    """iterations: optimiser steps in all; log_every / sample_every / checkpoint_every: steps
    between loss-curve points, sample-grid calls and checkpoints; checkpoint: the checkpoint
    file (None = no checkpoints, no resume); digest: identity of the run (a checkpoint of
    another digest is not resumed); stop_after: stop after this many steps as if the process
    were killed (tests and benchmarks; the checkpoint stays); hint: what to lower on OOM."""

    iterations: int
    log_every: int = 20
    sample_every: int = 0
    checkpoint_every: int = 0
    checkpoint: Path | None = None
    digest: str = ""
    progress: bool = True
    stop_after: int | None = None
    desc: str = "train"
    hint: str = "lower the batch size or the resolution"


@dataclass
class LoopResult:
    """iteration: steps done; finished: reached cfg.iterations; resumed_from: the iteration a
    checkpoint restored (0 = fresh start); data_seconds / step_seconds: wall time waiting for
    batches / in whole steps (this process, this run)."""

    iteration: int
    finished: bool
    resumed_from: int
    history: LossHistory
    data_seconds: float = 0.0
    step_seconds: float = 0.0
    steps_timed: int = 0
    extra: dict = field(default_factory=dict)


def _gather_rng(world: int) -> list:
    state = rng_state()
    if world > 1:
        out: list = [None] * world
        tdist.all_gather_object(out, state)
        return out
    return [state]


def try_resume(scheme: TrainingScheme, sampler: ResumableSampler, history: LossHistory,
               cfg: LoopConfig, curves: Curves | None = None) -> int:
    """Load ``cfg.checkpoint`` when it belongs to this run; returns the iteration it holds
    (0 when there is none, or it is of another digest). ``curves``: their points too."""
    if cfg.checkpoint is None or not Path(cfg.checkpoint).is_file():
        return 0
    state = load_checkpoint(cfg.checkpoint, map_location="cpu")
    if state.get("digest") != cfg.digest:
        return 0
    scheme.load_state_dict(state["scheme"])
    sampler.load_state_dict(state["sampler"])
    history.load_state_dict(state["history"])
    if curves is not None and state.get("curves") is not None:
        curves.load_state_dict(state["curves"])
    rank = scheme.dist.rank
    rngs = state["rng"]
    if len(rngs) != scheme.dist.world_size:
        raise CheckpointError(f"{cfg.checkpoint}: written by {len(rngs)} processes, this run "
                              f"has {scheme.dist.world_size}; resume with the same count or "
                              f"delete it")
    set_rng_state(rngs[rank])
    return int(state["iteration"])


def save(scheme: TrainingScheme, sampler: ResumableSampler, history: LossHistory,
         cfg: LoopConfig, iteration: int, curves: Curves | None = None) -> None:
    """Checkpoint (collective: every rank must call it; rank 0 writes)."""
    rngs = _gather_rng(scheme.dist.world_size)
    if scheme.dist.is_main and cfg.checkpoint is not None:
        save_checkpoint(cfg.checkpoint, {"digest": cfg.digest, "iteration": iteration,
                                         "scheme": scheme.state_dict(),
                                         "sampler": sampler.state_dict(),
                                         "history": history.state_dict(), "rng": rngs,
                                         "curves": None if curves is None else curves.state_dict()})
    barrier()


def _is_oom(err: BaseException) -> bool:
    if isinstance(err, torch.cuda.OutOfMemoryError):
        return True
    msg = str(err)
    return isinstance(err, RuntimeError) and ("out of memory" in msg
                                              or "can't allocate memory" in msg)


def _flush(pending: list[dict[str, torch.Tensor]], history: LossHistory) -> None:
    """Move the pending steps' losses into the history window, one step at a time in float64
    (the same sums whatever the checkpoint interval, which is execution-only)."""
    if pending:
        names = sorted(pending[0])
        values = torch.stack([torch.stack([p[k].detach().float() for k in names])
                              for p in pending]).cpu().tolist()
        for row in values:
            history.accumulate(dict(zip(names, row)))
        pending.clear()


def _score_curves(curves: Curves | None, step: int, iterations: int, main: bool) -> float:
    """Rank 0 scores the curves when ``step`` is due, every rank waits for it (collective);
    returns the seconds it took."""
    if curves is None or not curves.due(step, iterations):
        return 0.0
    t0 = time.perf_counter()
    if main:
        curves.score(step)
    barrier()
    return time.perf_counter() - t0


def train(scheme: TrainingScheme, loader: Iterable, sampler: ResumableSampler, cfg: LoopConfig,
          on_sample: Callable[[int], None] | None = None,
          history: LossHistory | None = None, curves: Curves | None = None) -> LoopResult:
    """Run ``cfg.iterations`` steps (or up to ``cfg.stop_after``), resuming when possible.
    curves: the learning curves (module docstring; every rank passes one, or none does)."""
    history = history or LossHistory()
    start = try_resume(scheme, sampler, history, cfg, curves)
    result = LoopResult(start, start >= cfg.iterations, start, history)
    if result.finished:
        return result
    scheme.train(True)
    main = scheme.dist.is_main
    if start == 0:
        _score_curves(curves, 0, cfg.iterations, main)
    bar = tqdm(total=cfg.iterations, initial=start, desc=cfg.desc, unit="it",
               disable=not (cfg.progress and main), dynamic_ncols=True)
    it = start
    pending: list[dict[str, torch.Tensor]] = []
    batches = iter(loader)
    t_prev = time.perf_counter()
    try:
        while it < cfg.iterations:
            batch = next(batches)
            t_data = time.perf_counter()
            scheme.set_input(batch)
            losses = scheme.optimize_parameters()
            sampler.advance(1)
            it += 1
            pending.append(losses)               # kept on the device: no sync per step
            log_now = it % cfg.log_every == 0 or it == cfg.iterations
            ckpt_now = (cfg.checkpoint is not None and cfg.checkpoint_every
                        and it % cfg.checkpoint_every == 0 and it < cfg.iterations)
            if log_now or ckpt_now:
                _flush(pending, history)
            if log_now:
                names = sorted(history.window)
                means = history.window_means()
                vec = all_reduce_mean(torch.tensor([means[k] for k in names],
                                                   dtype=torch.float64, device=scheme.device))
                history.add(it, {k: float(v) for k, v in zip(names, vec.tolist())})
                bar.set_postfix({k.removeprefix("loss_"): f"{v:.3f}"
                                 for k, v in history.last().items()}, refresh=False)
            if on_sample is not None and cfg.sample_every and (
                    it % cfg.sample_every == 0 or it == cfg.iterations):
                if main:
                    on_sample(it)
                barrier()
            # scored before the checkpoint, which then holds the point; not timed as a step
            curve_s = _score_curves(curves, it, cfg.iterations, main)
            if ckpt_now:
                save(scheme, sampler, history, cfg, it, curves)
            bar.update(1)
            t_now = time.perf_counter()
            result.data_seconds += t_data - t_prev
            result.step_seconds += t_now - t_prev - curve_s
            result.steps_timed += 1
            t_prev = t_now
            if cfg.stop_after is not None and it >= cfg.stop_after:
                break
    except (RuntimeError, torch.cuda.OutOfMemoryError) as err:
        if _is_oom(err):
            raise TrainingError(f"out of memory at iteration {it + 1} on "
                                f"{scheme.device}: {cfg.hint}") from None
        raise
    finally:
        bar.close()
    result.iteration = it
    result.finished = it >= cfg.iterations
    return result
