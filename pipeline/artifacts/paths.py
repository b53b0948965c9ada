"""Every path of the project below one root: :class:`Paths`, and the artifact file names.

The prepared artifacts live in ``data/prepared/`` (:data:`ARTIFACT_FILES`), the trained
networks in ``models/`` and the metrics and reports in ``eval/``. Stage libraries, benches
and tests take every path from a :class:`Paths`; nothing else spells a file name of the
project.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PREPARED_DIR = Path("data/prepared")

#: Artifact file names (kind -> file name in ``data/prepared``).
ARTIFACT_FILES = {
    "images": "images.h5",
    "poses": "poses.h5",
    "parsing": "parsing.h5",
    "masks": "masks.h5",
    "pseudo": "pseudo.h5",
}


def artifact_path(kind: str, folder: Path | str = PREPARED_DIR) -> Path:
    """Path of artifact ``kind`` ('images', 'poses', ...) in ``folder``."""
    if kind not in ARTIFACT_FILES:
        raise KeyError(f"unknown artifact kind {kind!r}; known: {sorted(ARTIFACT_FILES)}")
    return Path(folder) / ARTIFACT_FILES[kind]


@dataclass(frozen=True)
class Paths:
    """Every path the pipeline reads or writes, below one project root.

    ``Paths()`` is the repository itself (DVC runs the stages from its root); tests pass a
    temporary folder. Dataset paths of params.yaml (``data.root``) are relative to ``root``.
    """

    root: Path = Path(".")

    # ------------------------------------------------------------------ data
    @property
    def prepared(self) -> Path:
        """root/data/prepared: the HDF5 artifacts and their summaries (DVC outputs)."""
        return Path(self.root) / PREPARED_DIR

    @property
    def cache(self) -> Path:
        """root/data/cache: resumable work of interrupted stages (not a DVC output)."""
        return Path(self.root) / "data" / "cache"

    @property
    def synthetic(self) -> Path:
        """root/data/raw/synthetic: the embedded dataset the `synthesize` stage writes."""
        return Path(self.root) / "data" / "raw" / "synthetic"

    def dataset(self, data_root: str | Path) -> Path:
        """The dataset folder ``data.root`` (relative to ``root`` unless absolute)."""
        return Path(self.root) / data_root

    def artifact(self, kind: str) -> Path:
        """prepared/<kind>.h5 ('images', 'poses', 'parsing', 'masks', 'pseudo')."""
        return artifact_path(kind, self.prepared)

    def summary(self, kind: str) -> Path:
        """prepared/<kind>.summary.json: what the stage of artifact ``kind`` kept and left out."""
        if kind not in ARTIFACT_FILES:
            raise KeyError(f"unknown artifact kind {kind!r}; known: {sorted(ARTIFACT_FILES)}")
        return self.prepared / f"{kind}.summary.json"

    # ------------------------------------------------------------------ models
    @property
    def models(self) -> Path:
        """root/models: trained networks."""
        return Path(self.root) / "models"

    @property
    def semantic_discriminator(self) -> Path:
        """models/semantic_discriminator.safetensors: D_S as train_semantic left it; e2e's
        joint phase goes on training it against G_S (docs/method.md §5)."""
        return self.models / "semantic_discriminator.safetensors"

    @property
    def semantic_model(self) -> Path:
        """models/semantic.safetensors: the pretrained semantic generator G_S (stage
        train_semantic's output)."""
        return self.models / "semantic.safetensors"

    @property
    def posenet_model(self) -> Path:
        """models/posenet.safetensors: the pose detector of the pose loss and PCKh (stage
        train_posenet's output)."""
        return self.models / "posenet.safetensors"

    @property
    def appearance_models(self) -> Path:
        """models/appearance/: the folder stage train_appearance writes (its DVC output):
        :attr:`appearance_generator` and, for the ``e2e`` scheme, :attr:`joint_semantic_model`."""
        return self.models / "appearance"

    @property
    def appearance_generator(self) -> Path:
        """models/appearance/generator.safetensors: the appearance generator G_A (with E_A and
        E'_S; the scheme and training parameters in its metadata)."""
        return self.appearance_models / "generator.safetensors"

    @property
    def joint_semantic_model(self) -> Path:
        """models/appearance/semantic.safetensors: the semantic generator G_S trained jointly
        with G_A by the ``e2e`` scheme (absent for the other schemes)."""
        return self.appearance_models / "semantic.safetensors"

    # ------------------------------------------------------------------ metrics and reports
    @property
    def eval(self) -> Path:
        """root/eval: metrics and reports (git-tracked DVC metrics)."""
        return Path(self.root) / "eval"

    def eval_dir(self, name: str) -> Path:
        """eval/<name>/: the reports folder of one stage, e.g. 'semantic', 'posenet',
        'appearance'."""
        return self.eval / name

    def metric(self, name: str) -> Path:
        """eval/<name>.json: a DVC metric."""
        return self.eval / f"{name}.json"
