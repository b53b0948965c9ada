"""Pose transfer of one person (paper, section 4; docs/method.md §5): the source person rendered in a
target pose, on the target map of the models' scheme (G_S's prediction for ts_pred / e2e, the
target's own parsing for ts_gt, none for baseline)."""
from __future__ import annotations

from pipeline.applications.person import Person
from pipeline.applications.poses import Target
from pipeline.applications.render import Rendering, render
from pipeline.inference.trained import TrainedModels


def pose_transfer(models: TrainedModels, source: Person, target: Target,
                  models_dir: str = "models") -> Rendering:
    """``source`` in ``target``'s pose (see :func:`pipeline.applications.render.render`)."""
    return render(models, source, target.arrays, models_dir=models_dir)
