"""The pose detector's image dataset on the tiny pipeline output: splits, items, flips, errors."""
from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from pipeline import geometry as G
from pipeline.artifacts.codes import SPLIT_TEST, SPLIT_TRAIN
from pipeline.artifacts.reader import Artifact
from pipeline.datasets.images import PoseImageDataset
from pipeline.datasets.pairs import DatasetError
from pipeline.datasets.transforms import image_to_tensor
from pipeline.labels import KEYPOINT_MIRROR
from pipeline.torch_utils.misc import ResumableSampler

HW = (32, 48)


@pytest.fixture
def prepared_copy(tiny_prepared, tmp_path):
    out = tmp_path / "prepared"
    shutil.copytree(tiny_prepared, out)
    return out


def test_items_are_the_split_rows_at_the_input_size(tiny_prepared):
    images = Artifact(tiny_prepared / "images.h5")
    split = images["split"][:]
    kp_all = Artifact(tiny_prepared / "poses.h5")["keypoints"][:]
    frame = images["images"].shape[1:3]
    for name, code in (("train", SPLIT_TRAIN), ("test", SPLIT_TEST)):
        ds = PoseImageDataset(tiny_prepared, HW, name)
        assert ds.rows.tolist() == np.flatnonzero(split == code).tolist() and ds.left_out == 0
        for i in range(len(ds)):
            item = ds[i]
            row = int(ds.rows[i])
            assert set(item) == {"image", "heatmaps", "keypoints", "index"}
            assert item["image"].shape == (3, *HW) and item["heatmaps"].shape == (18, *HW)
            assert item["index"] == row and item["index"].dtype == torch.int64
            assert torch.equal(item["image"], image_to_tensor(images["images"][row], HW))
            kp = G.scale_keypoints(kp_all[row], frame, HW)
            np.testing.assert_array_equal(item["keypoints"].numpy(), kp)
            np.testing.assert_allclose(item["heatmaps"].numpy(),
                                       G.pose_heatmaps(kp, *HW, G.sigma_for(HW[0])), atol=1e-6)
            np.testing.assert_array_equal(ds.frame_keypoints(i), kp_all[row])


def test_rows_without_keypoints_are_left_out_and_counted(prepared_copy):
    before = PoseImageDataset(prepared_copy, HW, "train")
    gone = int(before.rows[1])
    with h5py.File(prepared_copy / "poses.h5", "r+") as f:
        kp = f["keypoints"][:]
        kp[gone] = -1
        f["keypoints"][...] = kp
    after = PoseImageDataset(prepared_copy, HW, "train")
    assert after.left_out == 1 and len(after) == len(before) - 1 and gone not in after.rows


def test_flips_mirror_image_keypoints_and_heatmap_channels(tiny_prepared):
    plain = PoseImageDataset(tiny_prepared, HW, "train")
    flip = PoseImageDataset(tiny_prepared, HW, "train", flip=True, seed=3)
    keys = [(i, e) for e in range(3) for i in range(len(flip))]
    decided = [flip.flipped(i, e) for i, e in keys]
    assert any(decided) and not all(decided)
    i, e = keys[decided.index(True)]
    a, b = plain[i], flip[(i, e)]
    assert torch.equal(b["image"], a["image"].flip(-1))
    np.testing.assert_allclose(b["keypoints"].numpy(),
                               G.flip_horizontal(a["keypoints"].numpy(), HW[1]), atol=1e-5)
    np.testing.assert_allclose(b["heatmaps"].numpy(),
                               a["heatmaps"].numpy()[KEYPOINT_MIRROR, :, ::-1], atol=1e-5)
    j, e2 = keys[decided.index(False)]
    assert torch.equal(flip[(j, e2)]["image"], plain[j]["image"])
    flip.set_epoch(e)
    assert torch.equal(flip[i]["image"], b["image"])        # plain keys use set_epoch's epoch


def test_epoch_keys_reach_loader_workers(tiny_prepared):
    ds = PoseImageDataset(tiny_prepared, HW, "train", flip=True)
    sampler = ResumableSampler(len(ds), 4, seed=0, with_epoch=True)
    loader = DataLoader(ds, batch_size=4, sampler=sampler, num_workers=1)
    batch = next(iter(loader))
    first = next(iter(sampler))
    assert torch.equal(batch["image"][0], ds[first]["image"])


def test_bad_split_and_empty_split_are_errors(prepared_copy):
    with pytest.raises(ValueError, match="split must be one of train, test"):
        PoseImageDataset(prepared_copy, HW, "val")
    with h5py.File(prepared_copy / "images.h5", "r+") as f:
        f["split"][...] = SPLIT_TRAIN
    with pytest.raises(DatasetError) as err:
        PoseImageDataset(prepared_copy, HW, "test")
    assert "\n" not in str(err.value) and "no test-split image" in str(err.value)
