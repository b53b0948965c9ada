"""Stage `train_semantic`: pseudo targets -> the semantic generative network G_S, filled into
:class:`pipeline.training.stage.TrainingStage` (docs/method.md §5; docs/semantic-network.md).

Outputs (rank 0): ``models/semantic.safetensors`` (G_S + metadata: network, arch, params) and
``eval/semantic/`` (losses; pixel accuracy and mIoU of the model, the unchanged source map and
f(S_Ps) on the test pairs; on synthetic data the oracle scores of training sources; the
learning curves: mIoU of the model and both references on the test pairs every
``semantic.curve_every`` steps, :mod:`pipeline.training.curves`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pipeline.artifacts.paths import Paths
from pipeline.config.base import section_dict
from pipeline.datasets.pairs import PseudoPairDataset, TestPairDataset
from pipeline.evaluation.grids import pair_row, sample_grid
from pipeline.evaluation.references import part_warp_labels
from pipeline.evaluation.scoring import oracle_truth_fn, score_maps, score_oracle
from pipeline.inference.model_files import save_model_file
from pipeline.training.curves import Curves, curve_pairs
from pipeline.training.semantic.curves import MapCurveScorer
from pipeline.training.semantic.scheme import SemanticScheme, arch_of
from pipeline.training.stage import SampleGrids, TrainingStage, first_items

if TYPE_CHECKING:
    from pipeline.config.params import Params


class SemanticStage(TrainingStage):
    """`train_semantic` (module docstring)."""

    name = "train_semantic"
    section = "semantic"
    inputs = ("images", "poses", "parsing", "masks", "pseudo")
    seed_offset = 0x5E
    scheme_class = SemanticScheme
    architecture = staticmethod(arch_of)

    def dataset(self, params: Params, paths: Paths) -> PseudoPairDataset:
        """The training pairs (pseudo.h5 rows with status ok) at the network's map
        resolution."""
        sp = params.semantic
        return PseudoPairDataset(paths.prepared, (sp.height, sp.width), flip=sp.flip,
                                 seed=sp.seed, sigma=sp.heatmap_sigma)

    def samples(self, params: Params, paths: Paths, scheme: SemanticScheme,
                folder: Path) -> SampleGrids:
        return SemanticGrids(scheme, paths, params, folder)

    def curves(self, params: Params, paths: Paths, scheme: SemanticScheme) -> Curves | None:
        """mIoU of G_S's test maps (and of the map references) every ``curve_every`` steps
        on ``curve_pairs`` test pairs at the network's map resolution."""
        sp = params.semantic
        if not sp.curve_every:
            return None
        test = TestPairDataset(paths.prepared, (sp.height, sp.width), sigma=sp.heatmap_sigma)
        return Curves(MapCurveScorer(scheme.predict, curve_pairs(test, sp.curve_pairs)),
                      sp.curve_every)

    def finish(self, params: Params, paths: Paths, scheme: SemanticScheme
               ) -> tuple[dict[str, Any], dict[str, Any]]:
        sp = params.semantic
        hw = (sp.height, sp.width)
        extra = {"params": json.dumps(section_dict(sp), sort_keys=True), "stage": self.name}
        save_model_file(paths.semantic_model, "semantic_generator", scheme.generator,
                        scheme.arch.to_dict(), extra=extra)
        # D_S too: e2e's joint phase trains G_S on against it (docs/method.md §5)
        save_model_file(paths.semantic_discriminator, "semantic_discriminator",
                        scheme.discriminator, scheme.arch.to_dict(), extra=extra)
        test = score_maps(scheme.predict, TestPairDataset(paths.prepared, hw,
                                                          sigma=sp.heatmap_sigma))
        metrics: dict[str, Any] = {"test": test}
        root = paths.dataset(params.data.root)
        if params.data.source == "synthetic" and (root / "truth.h5").is_file():
            train_eval = PseudoPairDataset(paths.prepared, hw, flip=False, seed=sp.seed,
                                           sigma=sp.heatmap_sigma)
            truth = oracle_truth_fn(root, train_eval.arts["images"].names, hw)
            metrics["train_oracle"] = score_oracle(scheme.predict, train_eval, truth)
        fields = {"model": str(paths.semantic_model),
                  "test": {k: {"miou": v["miou"], "pixel_accuracy": v["pixel_accuracy"]}
                           for k, v in test.items() if k != "pairs"},
                  "train_oracle": {k: v["miou"]
                                   for k, v in metrics.get("train_oracle", {}).items()
                                   if isinstance(v, dict)}}
        return metrics, fields

    def result_lines(self, summary: dict[str, Any]) -> list[str]:
        t = summary.get("test", {})
        lines = [f"  test pairs {k:>10}: mIoU {t[k]['miou']}  pixel acc "
                 f"{t[k]['pixel_accuracy']}" for k in ("model", "source_map", "part_warp")
                 if k in t]
        oracle = summary.get("train_oracle")
        if oracle:
            lines.append(f"  training sources vs oracle: mIoU model {oracle.get('model')}, "
                         f"pseudo target {oracle.get('pseudo_target')}")
        return lines


class SemanticGrids(SampleGrids):
    """Per pair: source map with P_s, target pose, predicted S~_Pt, f(S_Ps), and the pseudo
    target (training pairs) or the true map (test pairs)."""

    def __init__(self, scheme: SemanticScheme, paths: Paths, params: Params,
                 folder: Path) -> None:
        super().__init__(folder)
        sp = params.semantic
        self.scheme, self.paths = scheme, paths
        self.map_hw, self.count = (sp.height, sp.width), sp.sample_count
        self.sigma = sp.heatmap_sigma

    def fixed(self) -> dict[str, Any]:
        sets = {"train": PseudoPairDataset(self.paths.prepared, self.map_hw,
                                           sigma=self.sigma),
                "test": TestPairDataset(self.paths.prepared, self.map_hw, sigma=self.sigma)}
        batches = {name: first_items(ds, self.count) for name, ds in sets.items()}
        return {name: b for name, b in batches.items() if b is not None}

    def draw(self, name: str, batch: dict[str, torch.Tensor], iteration: int) -> np.ndarray:
        pred = self.scheme.predict(batch).argmax(1).cpu().numpy()
        warped = part_warp_labels(batch).numpy()
        rows = [pair_row(batch["src_labels"][i].numpy(), batch["src_keypoints"][i].numpy(),
                         batch["tgt_keypoints"][i].numpy(), pred[i], warped[i],
                         batch["tgt_labels"][i].numpy(),
                         "pseudo S*_Pt" if name == "train" else "true S_Pt")
                 for i in range(len(pred))]
        return sample_grid(rows, f"{name} pairs, iteration {iteration}")


#: The stage's entry points (stages/train_semantic.py, tests, benchmarks).
USER_ERRORS, run, summary_text = SemanticStage.entry_points()
