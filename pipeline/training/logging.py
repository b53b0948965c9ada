"""Loss curves and metrics through DVCLive, published as one finished folder.

During training the loop keeps the loss history in memory (and in every checkpoint, so a resumed
run continues the same history). At the end :func:`publish_eval` replays it into DVCLive
(``Live(dir=..., save_dvc_exp=False, dvcyaml=None)``) in a temporary sibling folder, adds the
final metrics and the sample grids, and swaps the folder into place. A killed run therefore
never leaves half a curve, and a resumed run writes exactly the files an uninterrupted run
writes. Layout of the published folder (``eval/semantic/`` for the semantic stage):

    metrics.json                    final losses and metrics (``dvc metrics show``)
    plots/metrics/train/<loss>.tsv  one curve per loss: step, value (``dvc plots show``)
    plots/metrics/curves/<system>/<metric>.tsv
                                    learning curves on the test pairs (when on): the model
                                    and the references (constant) at the scoring steps
    samples/*.png                   sample grids
"""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any


class LossHistory:
    """Loss values logged at steps: ``steps`` (list of int) and ``values[name]`` (floats).

    Also holds the running sums of the current logging window, so a checkpoint taken between
    two logging steps resumes the same averages.
    """

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.values: dict[str, list[float]] = {}
        self.window: dict[str, float] = {}
        self.window_count = 0

    def accumulate(self, losses: dict[str, float]) -> None:
        """Add one step's losses to the current window."""
        self.add_sums(losses, 1)

    def add_sums(self, sums: dict[str, float], count: int) -> None:
        """Add the sums of ``count`` steps' losses to the current window."""
        for k, v in sums.items():
            self.window[k] = self.window.get(k, 0.0) + float(v)
        self.window_count += int(count)

    def window_means(self) -> dict[str, float]:
        n = max(1, self.window_count)
        return {k: v / n for k, v in sorted(self.window.items())}

    def add(self, step: int, means: dict[str, float]) -> None:
        """Record ``means`` at ``step`` and start a new window."""
        self.steps.append(int(step))
        for k, v in means.items():
            self.values.setdefault(k, [float("nan")] * (len(self.steps) - 1)).append(float(v))
        for k, col in self.values.items():
            if len(col) < len(self.steps):
                col.append(float("nan"))
        self.window, self.window_count = {}, 0

    def last(self) -> dict[str, float]:
        return {k: v[-1] for k, v in self.values.items() if v}

    def state_dict(self) -> dict[str, Any]:
        return {"steps": list(self.steps), "values": {k: list(v) for k, v in self.values.items()},
                "window": dict(self.window), "window_count": self.window_count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = [int(s) for s in state["steps"]]
        self.values = {k: [float(x) for x in v] for k, v in state["values"].items()}
        self.window = {k: float(v) for k, v in state["window"].items()}
        self.window_count = int(state["window_count"])


def publish_eval(out_dir: Path | str, history: LossHistory, metrics: dict[str, Any],
                 samples: Path | str | None = None, prefix: str = "train",
                 curves: LossHistory | None = None, curve_prefix: str = "curves") -> Path:
    """Write ``out_dir`` (see module docstring) from scratch and swap it into place. Entries
    of an existing ``out_dir`` that this function does not write (e.g. the ``.gitignore`` DVC
    keeps there) are moved over unchanged; the ones it writes are replaced.

    history: the loss curves (logged as ``<prefix>/<name>`` at their steps; the last values
    also go to metrics.json); metrics: nested dict of final numbers (no curves); samples: a
    folder of PNG grids copied to ``out_dir/samples``; curves: the learning curves (logged as
    ``<curve_prefix>/<system>/<metric>``, NaN points left out; their last values also go to
    metrics.json).
    """
    from dvclive import Live

    out_dir = Path(out_dir)
    stage = out_dir.parent / f".{out_dir.name}.tmp"
    old = out_dir.parent / f".{out_dir.name}.old.tmp"
    for p in (stage, old):
        shutil.rmtree(p, ignore_errors=True)
    stage.mkdir(parents=True)
    with Live(dir=str(stage), save_dvc_exp=False, dvcyaml=None, report=None,
              monitor_system=False) as live:
        for step, values in sorted(_points(history, prefix, curves, curve_prefix).items()):
            live.step = step
            for key, value in values:
                live.log_metric(key, value)
        for key, value in _flatten(metrics):
            live.log_metric(key, value, plot=False)
    if samples is not None and Path(samples).is_dir():
        shutil.copytree(samples, stage / "samples")
    if out_dir.exists():
        for entry in out_dir.iterdir():       # keep what others put there (DVC's .gitignore)
            if not (stage / entry.name).exists():
                os.replace(entry, stage / entry.name)
        os.replace(out_dir, old)
    os.replace(stage, out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return out_dir


def _points(history: LossHistory, prefix: str, curves: LossHistory | None,
            curve_prefix: str) -> dict[int, list[tuple[str, float]]]:
    """step -> [(DVCLive key, value)]: every loss point (NaN included, as logged), then the
    finite curve points, in name order per step."""
    out: dict[int, list[tuple[str, float]]] = {}
    for i, step in enumerate(history.steps):
        out.setdefault(step, []).extend((f"{prefix}/{name}", col[i])
                                        for name, col in sorted(history.values.items()))
    if curves is not None:
        for i, step in enumerate(curves.steps):
            out.setdefault(step, []).extend((f"{curve_prefix}/{name}", col[i])
                                            for name, col in sorted(curves.values.items())
                                            if math.isfinite(col[i]))
    return out


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, float | str]]:
    out: list[tuple[str, float | str]] = []
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out += _flatten(v, key + "/")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append((key, v))
        elif v is None:
            continue
        else:
            out.append((key, str(v)))
    return out

