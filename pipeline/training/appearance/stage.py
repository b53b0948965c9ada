"""Stage `train_appearance`: the appearance generative network trained by its scheme
(:data:`pipeline.appearance_schemes.SCHEMES`), filled into
:class:`pipeline.training.stage.TrainingStage` (docs/method.md §5; docs/appearance-network.md).

Reads the prepared artifacts, models/semantic.safetensors (ts_pred, e2e), models/posenet.
safetensors (pose loss) and the VGG16 weights. Outputs (rank 0): ``models/appearance/``
(``generator.safetensors``, and e2e's jointly trained ``semantic.safetensors``; swapped into
place whole) and ``eval/appearance/`` (losses; SSIM, mask-SSIM and L1 of the generated test
images beside the unchanged source and the part warp; the learning curves: SSIM, ST-LPIPS and
the MediaPipe PCKh of the model and both references on the test pairs every
``appearance.curve_every`` steps, :mod:`pipeline.training.curves`; sample grids).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.appearance_schemes import SCHEMES
from pipeline.artifacts.atomic import atomic_dir
from pipeline.artifacts.paths import Paths
from pipeline.config.base import section_dict
from pipeline.datasets.appearance import AppearancePairs
from pipeline.datasets.pairs import PseudoPairDataset, TestPairDataset
from pipeline.evaluation.grids import image_rows, sample_grid
from pipeline.evaluation.scoring import score_images
from pipeline.inference.model_files import load_network, save_model_file
from pipeline.models.blocks import ArchitectureError
from pipeline.models.posenet import PoseNet
from pipeline.models.semantic import SemanticArch, SemanticDiscriminator, SemanticGenerator
from pipeline.models.vgg import VGGFeatures, VGGWeightsError, vgg_source
from pipeline.torch_utils.distributed import DistInfo
from pipeline.training.appearance.scheme import AppearanceScheme, Frozen, arch_of
from pipeline.training.appearance.curves import ImageCurveScorer
from pipeline.training.curves import Curves, curve_pairs
from pipeline.training.stage import SampleGrids, Training, TrainingStage, first_items

if TYPE_CHECKING:
    from pipeline.config.params import Params


def pair_datasets(params: Params, paths: Paths, semantic: SemanticArch | None,
                  train: bool) -> AppearancePairs:
    """Training (pseudo) or test pairs of the appearance stage (see :class:`AppearancePairs`).
    semantic: G_S's architecture (its map resolution and heatmap sigma), or None when the
    scheme has no G_S. Both sides carry the cycle's way back (e2e maps S~_Pt back to P_s)."""
    ap = params.appearance
    hw = (ap.height, ap.width)
    sem_hw = (semantic.height, semantic.width) if semantic is not None else None
    sem_sigma = semantic.heatmap_sigma if semantic is not None else 0.0
    if train:
        img = PseudoPairDataset(paths.prepared, hw, hw, flip=ap.flip, seed=ap.seed, cycle=True,
                                sigma=ap.heatmap_sigma)
        sem = (PseudoPairDataset(paths.prepared, sem_hw, flip=ap.flip, seed=ap.seed,
                                 cycle=True, sigma=sem_sigma)
               if sem_hw is not None else None)
    else:
        img = TestPairDataset(paths.prepared, hw, hw, cycle=True, sigma=ap.heatmap_sigma)
        sem = (TestPairDataset(paths.prepared, sem_hw, cycle=True, sigma=sem_sigma)
               if sem_hw is not None else None)
    return AppearancePairs(img, sem)


def trains_semantic_discriminator(params: Params) -> bool:
    """True when the scheme trains G_S jointly against D_S (e2e with joint steps and
    ``loss.semantic_adv`` > 0)."""
    ap = params.appearance
    return (SCHEMES[ap.scheme].semantic == "joint" and ap.joint_iterations > 0
            and params.loss.semantic_adv > 0)


def check_pose_targets(params: Params) -> None:
    """The pose loss compares the frozen detector's heatmaps with G_A's target heatmaps: both
    must be drawn with one sigma. A one-line :class:`ArchitectureError` naming the keys when
    ``posenet.heatmap_sigma`` and ``appearance.heatmap_sigma`` differ (``loss.pose`` > 0)."""
    pn, ap = params.posenet, params.appearance
    if params.loss.pose > 0 and pn.heatmap_sigma != ap.heatmap_sigma:
        raise ArchitectureError(
            f"loss.pose > 0 compares the pose detector's heatmaps (posenet.heatmap_sigma = "
            f"{pn.heatmap_sigma}) with G_A's targets (appearance.heatmap_sigma = "
            f"{ap.heatmap_sigma}): set both to one value (0 = 6 px x height / 256)")


def check_vgg(params: Params, vgg: VGGFeatures | None = None) -> None:
    """The paper profiles' demand for ImageNet VGG16 weights (``loss.require_imagenet_vgg``):
    a one-line :class:`VGGWeightsError` naming the keys when ``loss.vgg_weights`` is empty, or
    (given the loaded ``vgg``) holds weights other than torchvision's ImageNet VGG16."""
    loss = params.loss
    if loss.require_imagenet_vgg and vgg is not None and vgg.format != "torchvision":
        raise VGGWeightsError(
            f"loss.require_imagenet_vgg is true but loss.vgg_weights = {loss.vgg_weights} "
            f"holds {vgg.format} weights, not torchvision's ImageNet VGG16 "
            f"(vgg16-397923af.pth, docs/reproduce.md)")
    if loss.require_imagenet_vgg and not str(loss.vgg_weights).strip():
        raise VGGWeightsError(
            "loss.require_imagenet_vgg is true (the paper's content and style losses use "
            "ImageNet VGG16 features) but loss.vgg_weights is empty: set it to a local "
            "torchvision VGG16 state dict (vgg16-397923af.pth, docs/reproduce.md), or set "
            "loss.require_imagenet_vgg: false to train with the offline default trunk "
            "(docs/losses.md)")


def load_frozen(params: Params, paths: Paths) -> Frozen:
    """VGG features, the pose detector (when ``loss.pose`` > 0), G_S (when the scheme uses
    it) and D_S (:func:`trains_semantic_discriminator`), from their files."""
    loss = params.loss
    check_vgg(params)
    vgg = VGGFeatures(loss.vgg_weights, scale=loss.vgg_scale, input_range=loss.vgg_input)
    check_vgg(params, vgg)
    posenet = None
    if loss.pose > 0:
        posenet = load_network(paths.posenet_model, PoseNet, "train_posenet")
    semantic = None
    if SCHEMES[params.appearance.scheme].uses_semantic_network:
        semantic = load_network(paths.semantic_model, SemanticGenerator, "train_semantic")
    disc = None
    if trains_semantic_discriminator(params):
        disc = load_network(paths.semantic_discriminator, SemanticDiscriminator,
                            "train_semantic")
    return Frozen(vgg, posenet, semantic, disc)


def semantic_arch(frozen: Frozen) -> SemanticArch | None:
    """G_S's architecture (from its model file), or None without G_S."""
    return frozen.semantic.arch if frozen.semantic is not None else None


def write_models(paths: Paths, scheme: AppearanceScheme, params: Params) -> None:
    """G_A (and e2e's G_S) into models/appearance/, written beside it and swapped into
    place."""
    extra = {"params": json.dumps({"appearance": section_dict(params.appearance),
                                   "loss": section_dict(params.loss)}, sort_keys=True),
             "scheme": params.appearance.scheme, "stage": AppearanceStage.name,
             "vgg": vgg_source(params.loss.vgg_weights)}
    with atomic_dir(paths.appearance_models) as tmp:
        save_model_file(tmp / paths.appearance_generator.name, "appearance_generator",
                        scheme.generator, scheme.arch.to_dict(), extra=extra)
        g_s = scheme.networks.get("semantic_generator")
        if g_s is not None:
            save_model_file(tmp / paths.joint_semantic_model.name, "semantic_generator", g_s,
                            g_s.arch.to_dict(), extra=extra)


class AppearanceStage(TrainingStage):
    """`train_appearance` (module docstring)."""

    name = "train_appearance"
    section = "appearance"
    inputs = ("images", "poses", "parsing", "masks", "pseudo")
    seed_offset = 0xA9
    user_errors = TrainingStage.user_errors + (VGGWeightsError,)

    def __init__(self) -> None:
        self.frozen: Frozen | None = None

    def check(self, params: Params) -> None:
        arch_of(params.appearance, params.loss)
        check_vgg(params)
        check_pose_targets(params)

    def prepare(self, params: Params, paths: Paths) -> None:
        self.frozen = load_frozen(params, paths)

    def dataset(self, params: Params, paths: Paths) -> AppearancePairs:
        assert self.frozen is not None
        return pair_datasets(params, paths, semantic_arch(self.frozen), True)

    def scheme(self, params: Params, dist: DistInfo) -> AppearanceScheme:
        assert self.frozen is not None
        return AppearanceScheme(params.appearance, params.loss, dist, self.frozen)

    def digest_sections(self, params: Params) -> dict[str, Any]:
        return {"appearance": section_dict(params.appearance),
                "loss": section_dict(params.loss), "vgg": vgg_source(params.loss.vgg_weights)}

    def digest_files(self, params: Params, paths: Paths) -> list[Path]:
        """The input artifacts, the model files the scheme reads (and the VGG weights, by
        their source in the params)."""
        files = [paths.artifact(kind) for kind in self.inputs]
        if params.loss.pose > 0:
            files.append(paths.posenet_model)
        if SCHEMES[params.appearance.scheme].uses_semantic_network:
            files.append(paths.semantic_model)
        if trains_semantic_discriminator(params):
            files.append(paths.semantic_discriminator)
        return files

    def samples(self, params: Params, paths: Paths, scheme: AppearanceScheme,
                folder: Path) -> SampleGrids:
        assert self.frozen is not None
        return AppearanceGrids(scheme, params, paths, semantic_arch(self.frozen), folder)

    def curves(self, params: Params, paths: Paths, scheme: AppearanceScheme) -> Curves | None:
        """SSIM, ST-LPIPS and MediaPipe PCKh of the generated test images (and of the image
        references) every ``curve_every`` steps on ``curve_pairs`` test pairs."""
        assert self.frozen is not None
        ap = params.appearance
        if not ap.curve_every:
            return None
        test = pair_datasets(params, paths, semantic_arch(self.frozen), False)
        return Curves(ImageCurveScorer(scheme.predict, curve_pairs(test, ap.curve_pairs),
                                       str(scheme.device)), ap.curve_every)

    def describe(self, params: Params, summary: dict[str, Any], training: Training) -> None:
        summary["scheme"] = params.appearance.scheme
        summary["style"] = SCHEMES[params.appearance.scheme].style(params.loss.style)

    def finish(self, params: Params, paths: Paths, scheme: AppearanceScheme
               ) -> tuple[dict[str, Any], dict[str, Any]]:
        assert self.frozen is not None
        write_models(paths, scheme, params)
        test = score_images(scheme.predict,
                            pair_datasets(params, paths, semantic_arch(self.frozen), False))
        metrics: dict[str, Any] = {"test": test, "scheme": {"name": params.appearance.scheme,
                                                            "style": scheme.style}}
        fields = {"model": str(paths.appearance_models),
                  "test": {k: {m: test[k][m] for m in ("ssim", "mask_ssim", "l1")}
                           for k in ("model", "source", "part_warp")}}
        return metrics, fields

    def label(self, params: Params) -> str:
        scheme = params.appearance.scheme
        return f"{self.name} ({scheme}, style {SCHEMES[scheme].style(params.loss.style)})"

    def result_lines(self, summary: dict[str, Any]) -> list[str]:
        return [f"  test pairs {k:>10}: SSIM {v['ssim']}  mask-SSIM {v['mask_ssim']}  "
                f"L1 {v['l1']}" for k, v in summary.get("test", {}).items()]


class AppearanceGrids(SampleGrids):
    """Per pair: source, target pose, predicted map, generated image, cycle reconstruction
    (and the true target on test pairs)."""

    def __init__(self, scheme: AppearanceScheme, params: Params, paths: Paths,
                 semantic: SemanticArch | None, folder: Path) -> None:
        super().__init__(folder)
        self.scheme, self.params, self.paths, self.semantic = scheme, params, paths, semantic

    def fixed(self) -> dict[str, Any]:
        out = {}
        for name, train in (("train", True), ("test", False)):
            ds = pair_datasets(self.params, self.paths, self.semantic, train)
            if train:
                ds.images.flip = False
                if ds.sem is not None:
                    ds.sem.flip = False
            batch = first_items(ds, self.params.appearance.sample_count)
            if batch is not None:
                out[name] = batch
        return out

    def draw(self, name: str, batch: dict[str, Any], iteration: int) -> np.ndarray:
        out = self.scheme.generate(batch, back=True)
        labels = out.tgt_maps.argmax(1).cpu() if out.tgt_maps is not None else None
        rows = image_rows(batch, out.fake_t.cpu(), out.fake_s.cpu(), labels)
        return sample_grid(rows, f"{name} pairs ({self.params.appearance.scheme}), "
                                 f"iteration {iteration}")


#: The stage's entry points (stages/train_appearance.py, tests, benchmarks).
USER_ERRORS, run, summary_text = AppearanceStage.entry_points()
