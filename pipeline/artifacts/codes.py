"""Integer codes stored in the artifacts: the split of each image (``/split`` of images.h5)
and the search's outcome per image (``/status`` of pseudo.h5)."""
from __future__ import annotations

#: Split codes of ``/split`` in images.h5.
SPLIT_TRAIN = 0
SPLIT_TEST = 1
SPLIT_NAMES = {SPLIT_TRAIN: "train", SPLIT_TEST: "test"}

#: Codes of ``/status`` in pseudo.h5 (the search's outcome per image; index = code).
SEARCH_STATUS_NAMES = ("ok", "test image (not searched)",
                       "no complete torso (cannot be a source)", "no admissible candidate")
STATUS_OK, STATUS_TEST, STATUS_NO_TORSO, STATUS_NO_CANDIDATE = range(len(SEARCH_STATUS_NAMES))
