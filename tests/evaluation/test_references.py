"""The references that need no learning and the scores of test pairs (maps and images), on
the session's tiny project."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from pipeline.datasets.pairs import TestPairDataset
from pipeline.geometry import part_affines
from pipeline.metrics.images import to_uint8
from pipeline.torch_utils.warp import affines_to_theta, warp_by_parts, warp_parts
from pipeline.evaluation.grids import MIN_PANEL, image_pair_row, image_rows
from pipeline.evaluation.references import part_warp_images, source_background
from pipeline.evaluation.scoring import ImageSystems, batches, score_images, score_maps

HW = (64, 64)


@pytest.fixture(scope="module")
def test_pairs(tiny_prepared) -> TestPairDataset:
    return TestPairDataset(tiny_prepared, map_hw=HW, image_hw=HW)


def _batch(ds: TestPairDataset, n: int = 4) -> dict[str, torch.Tensor]:
    return default_collate([ds[i] for i in range(min(n, len(ds)))])


def _onto_own_pose(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The batch with every target pose replaced by the source pose itself."""
    out = dict(batch)
    fits = [part_affines(kp.numpy(), kp.numpy(), *HW) for kp in batch["src_keypoints"]]
    out["theta"] = torch.stack([affines_to_theta(a, HW).float() for a, _ in fits])
    out["part_valid"] = torch.stack([torch.from_numpy(np.asarray(v, bool)) for _, v in fits])
    return out


def _coverage(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B, H, W) share of each pixel covered by the max over warped parts' masks."""
    ones = torch.ones_like(batch["src_image"][:, :1])
    return warp_by_parts(ones, batch["theta"], batch["src_parts"], batch["part_valid"])[:, 0]


@pytest.mark.parametrize("aggregate", ["paint", "max"])
def test_part_warp_onto_its_own_pose_is_the_source_image(test_pairs, aggregate):
    batch = _onto_own_pose(_batch(test_pairs))
    assert batch["part_valid"][:, 0].all()          # the torso, whose mask is the whole image
    covered = _coverage(batch) > 1 - 1e-6
    assert covered.float().mean() > 0.99
    out = part_warp_images(batch, aggregate)
    # tolerance: float32 thetas of identity fits move samples by ~1e-6 px, far below 1/255
    diff = (out - batch["src_image"]).abs().amax(1)
    assert diff[covered].max() < 1e-4
    np.testing.assert_array_equal(to_uint8(out), to_uint8(batch["src_image"]))


def test_part_warp_into_the_target_pose_moves_the_person(test_pairs):
    batch = _batch(test_pairs)
    out = part_warp_images(batch)
    assert out.shape == batch["src_image"].shape and out.min() >= -1 and out.max() <= 1
    assert (out - batch["src_image"]).abs().mean() > 0.02
    # where one part alone covers a pixel fully, "paint" and "max" both give that part
    shifted = batch["src_image"] + 1
    parts = warp_parts(shifted, batch["theta"], batch["src_parts"], batch["part_valid"])
    torso_only = _coverage(batch) > 1 - 1e-6
    torso_only &= (parts[:, 1:].abs().sum((1, 2)) == 0)
    assert torso_only.any()
    for aggregate in ("paint", "max"):
        got = part_warp_images(batch, aggregate).permute(0, 2, 3, 1)[torso_only]
        want = (parts[:, 0] - 1).permute(0, 2, 3, 1)[torso_only]
        torch.testing.assert_close(got, want)
    # "max" is Deformable GAN's warp_by_parts of the shifted image wherever a part covers
    covered = (_coverage(batch) > 1 - 1e-6).unsqueeze(1).expand(-1, 3, -1, -1)
    dgan = warp_by_parts(shifted, batch["theta"], batch["src_parts"], batch["part_valid"]) - 1
    torch.testing.assert_close(part_warp_images(batch, "max")[covered], dgan[covered])


def test_uncovered_pixels_take_the_chosen_background(test_pairs):
    batch = _batch(test_pairs)
    batch["part_valid"] = torch.zeros_like(batch["part_valid"])   # no part reaches anything
    assert (part_warp_images(batch, background=1.0) == 1.0).all()
    assert (part_warp_images(batch, "max", background=-0.5) == -0.5).all()
    fill = source_background(batch["src_image"], batch["src_pose_mask"])
    torch.testing.assert_close(part_warp_images(batch), fill.expand_as(batch["src_image"]))
    with pytest.raises(ValueError, match="aggregate"):
        part_warp_images(batch, "mean")
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        part_warp_images(batch, background=2.0)


def test_source_background_is_the_mean_outside_the_pose_mask():
    image = torch.zeros(2, 3, 2, 2)
    image[0, :, 0, 0] = torch.tensor([0.5, -0.5, 1.0])
    image[0, :, 1, 1] = torch.tensor([0.1, 0.2, 0.3])
    mask = torch.zeros(2, 1, 2, 2)
    mask[0, 0, 1] = 1                                       # row 1 is the person
    mask[1] = 1                                             # no background at all
    bg = source_background(image, mask)
    torch.testing.assert_close(bg[0, :, 0, 0], torch.tensor([0.25, -0.25, 0.5]))
    assert (bg[1] == 1.0).all()


def test_evaluate_with_the_true_target_is_perfect(test_pairs):
    r = score_images(lambda b: b["tgt_image"], test_pairs, batch_size=3)
    assert r["pairs"] == len(test_pairs) > 0 and r["model"]["pairs"] == len(test_pairs)
    assert r["model"]["ssim"] == 1.0 and r["model"]["mask_ssim"] == 1.0
    assert r["model"]["l1"] == 0.0
    assert r["settings"]["sigma"] == 1.5
    assert r["source"]["ssim"] < 0.99 and r["part_warp"]["ssim"] < 0.99


def test_evaluate_with_the_source_image_equals_the_source_reference(test_pairs):
    systems = ImageSystems()
    for _, batch in batches(test_pairs, 4):
        systems.update(batch, batch["src_image"])
    assert systems.per_pair("model") == systems.per_pair("source")
    r = score_images(lambda b: b["src_image"], test_pairs)
    assert r["model"] == r["source"]
    assert r["part_warp"] != r["source"]


def test_maps_at_another_resolution_are_refused(tiny_prepared):
    ds = TestPairDataset(tiny_prepared, map_hw=(32, 32), image_hw=HW)
    with pytest.raises(ValueError, match="map_hw = image_hw"):
        score_images(lambda b: b["src_image"], ds)


def test_image_rows_panels(test_pairs):
    batch = _batch(test_pairs, 2)
    gen = batch["tgt_image"]
    rows = image_rows(batch, gen, cycle=batch["src_image"], pred_labels=batch["tgt_labels"])
    assert len(rows) == 2 and rows[0].dtype == np.uint8
    small = image_rows(batch, gen, count=1)
    assert len(small) == 1 and small[0].shape[0] == rows[0].shape[0]
    assert small[0].shape[0] >= MIN_PANEL
    # 6 panels against 4 (no map, no cycle): wider by two panels and their gaps
    panel = rows[0].shape[1] - small[0].shape[1]
    assert panel == 2 * (MIN_PANEL + 4)
    src = to_uint8(batch["src_image"])[0]
    with pytest.raises(ValueError, match="generated"):
        image_pair_row(src, batch["tgt_keypoints"][0].numpy(), HW, src[:32])


def test_map_scores_of_the_true_target_map_are_perfect(test_pairs):
    """The model that predicts the true target map scores 1 where the references do not."""
    from pipeline.inference.semantic_inputs import one_hot_maps

    r = score_maps(lambda b: one_hot_maps(b["tgt_labels"]), test_pairs, batch_size=3)
    assert r["pairs"] == len(test_pairs) > 0
    assert r["model"]["pixel_accuracy"] == 1.0 and r["model"]["miou"] == 1.0
    assert r["source_map"]["pixel_accuracy"] < 1.0 and r["part_warp"]["pixel_accuracy"] < 1.0
