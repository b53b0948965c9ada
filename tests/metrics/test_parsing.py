"""Pixel accuracy, IoU per label and mIoU of label maps, accumulated over batches."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.evaluation.search_report import label_iou_counts
from pipeline.metrics.parsing import ParsingScores


def test_hand_computed_example():
    true = np.array([[0, 1, 1], [2, 2, 0]])
    pred = np.array([[0, 1, 2], [2, 2, 1]])
    s = ParsingScores()
    s.update(pred, true)
    r = s.result()
    assert r["pixel_accuracy"] == round(4 / 6, 4)
    # label 1: inter 1, union 3; label 2: inter 2, union 3; background: inter 1, union 2
    assert r["per_label_iou"] == {"background": 0.5, "face": round(1 / 3, 4),
                                  "hair": round(2 / 3, 4)}
    assert r["miou"] == round((1 / 3 + 2 / 3) / 2, 4)
    assert r["miou_all"] == round((0.5 + 1 / 3 + 2 / 3) / 3, 4)


def test_batches_accumulate_like_one_update_and_match_the_search_report():
    rng = np.random.default_rng(0)
    true = rng.integers(0, 10, (6, 16, 16))
    pred = np.where(rng.random((6, 16, 16)) < 0.6, true, rng.integers(0, 10, (6, 16, 16)))
    whole, parts = ParsingScores(), ParsingScores()
    whole.update(torch.from_numpy(pred), torch.from_numpy(true))
    for i in range(0, 6, 2):
        parts.update(pred[i:i + 2], true[i:i + 2])
    np.testing.assert_array_equal(whole.confusion, parts.confusion)
    inter, union = label_iou_counts(pred.reshape(-1, 16), true.reshape(-1, 16), 10)
    np.testing.assert_allclose(whole.iou(), inter / union)


def test_absent_labels_have_no_iou_and_bad_input_is_refused():
    s = ParsingScores()
    s.update(np.zeros((4, 4), int), np.zeros((4, 4), int))
    r = s.result()
    assert r["miou"] is None and r["pixel_accuracy"] == 1.0
    assert list(r["per_label_iou"]) == ["background"]
    with pytest.raises(ValueError, match="shape"):
        s.update(np.zeros((4, 4), int), np.zeros((4, 5), int))
    with pytest.raises(ValueError, match="0..9"):
        s.update(np.full((2, 2), 10), np.zeros((2, 2), int))
