"""Clothing texture transfer [paper, section 4.5]: person A's clothing textures rendered on
person B's semantic layout and pose. Source = A; target pose = B's pose; target map S_t = B's
parsing (one-hot) in place of G_S's prediction. Needs a scheme with maps (ts_pred, ts_gt,
e2e): baseline renders without maps and is refused with one line."""
from __future__ import annotations

from pipeline.applications.person import Person
from pipeline.applications.render import Rendering, render
from pipeline.datasets.pairs import PersonArrays
from pipeline.inference.trained import TrainedModels


def texture_transfer(models: TrainedModels, a: Person, b: Person,
                     models_dir: str = "models") -> Rendering:
    """A's textures on B's layout and pose."""
    layout = PersonArrays(b.keypoints, b.arrays.pose_mask, b.labels)
    return render(models, a, layout, given_layout=True, models_dir=models_dir)
