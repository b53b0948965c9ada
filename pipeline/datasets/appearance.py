"""Pairs as the appearance schemes read them: the pair at the image resolution, plus, when the
scheme runs G_S, the same pair at G_S's map resolution under key ``sem``.

Training, evaluation and inference build the same items with :class:`AppearancePairs`, so the
trained models see at test time exactly the inputs they were trained on.
"""
from __future__ import annotations

from typing import Any

from torch.utils.data import Dataset


class AppearancePairs(Dataset):
    """Pairs at the image resolution (``images``: any pair dataset built with ``image_hw``),
    plus, when the scheme runs G_S, the same pair at G_S's map resolution under key ``sem``
    (``sem``: the same dataset class over the same rows at the map resolution, or None). Both
    must make the same decisions per item (flips: same seed and keys)."""

    def __init__(self, images: Dataset, sem: Dataset | None) -> None:
        self.images, self.sem = images, sem

    def __len__(self) -> int:
        return len(self.images)  # type: ignore[arg-type]

    def __getitem__(self, key: Any) -> dict[str, Any]:
        item = self.images[key]
        if self.sem is not None:
            item["sem"] = self.sem[key]
        return item
