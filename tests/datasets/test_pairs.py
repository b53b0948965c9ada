"""The pair datasets on a tiny pipeline output: items, flips, errors, DataLoader workers."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from pipeline import geometry as G
from pipeline.artifacts.codes import STATUS_OK
from pipeline.artifacts.reader import Artifact
from pipeline.datasets import DatasetError, PseudoPairDataset, TestPairDataset
from pipeline.datasets.transforms import flip_pair, resize_nearest
from pipeline.labels import LABEL_MIRROR, PART_MIRROR
from pipeline.torch_utils.misc import ResumableSampler
from pipeline.torch_utils.warp import affines_to_theta, warp_parts

MAP = (32, 32)
IMG = (64, 48)


def _expected_shapes(h: int, w: int) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    side = {"labels": ((h, w), torch.int64), "heatmaps": ((18, h, w), torch.float32),
            "pose_mask": ((1, h, w), torch.float32), "keypoints": ((18, 2), torch.float32)}
    out = {f"{p}_{k}": v for p in ("src", "tgt") for k, v in side.items()}
    out.update(src_parts=((10, h, w), torch.float32), theta=((10, 2, 3), torch.float32),
               affines=((10, 2, 3), torch.float64), part_valid=((10,), torch.bool),
               src_index=((), torch.int64), tgt_index=((), torch.int64))
    return out


def _check(item: dict, expected: dict) -> None:
    assert set(item) == set(expected)
    for key, (shape, dtype) in expected.items():
        assert tuple(item[key].shape) == shape and item[key].dtype == dtype, key


def test_pseudo_pairs_hold_the_search_targets(tiny_prepared):
    ds = PseudoPairDataset(tiny_prepared, MAP, IMG)
    pseudo = Artifact(tiny_prepared / "pseudo.h5")
    ok = np.flatnonzero(pseudo["status"][:] == STATUS_OK)
    assert len(ds) == len(ok) > 0
    expected = _expected_shapes(*MAP)
    expected["src_image"] = ((3, *IMG), torch.float32)
    parsing = Artifact(tiny_prepared / "parsing.h5")["labels"]
    poses = Artifact(tiny_prepared / "poses.h5")["keypoints"]
    frame = parsing.shape[1:]
    for i in range(len(ds)):
        item = ds[i]
        _check(item, expected)
        row, tgt = ok[i], int(pseudo["target_index"][ok[i]])
        assert item["src_index"] == row and item["tgt_index"] == tgt
        np.testing.assert_array_equal(item["tgt_labels"].numpy(),
                                      resize_nearest(pseudo["target_labels"][row], MAP))
        np.testing.assert_array_equal(item["src_labels"].numpy(),
                                      resize_nearest(parsing[row], MAP))
        ks = G.scale_keypoints(poses[row], frame, MAP)
        kt = G.scale_keypoints(pseudo["target_keypoints"][row], frame, MAP)
        np.testing.assert_array_equal(item["tgt_keypoints"].numpy(), kt)
        aff, valid = G.part_affines(ks, kt, *MAP)
        assert torch.equal(item["part_valid"], torch.from_numpy(valid))
        assert torch.equal(item["theta"], affines_to_theta(aff, MAP).float())
        assert item["src_image"].min() >= -1 and item["src_image"].max() <= 1
        assert item["src_parts"][0].all() and item["part_valid"][0]   # torso: whole image


def test_test_pairs_hold_the_true_target(tiny_prepared):
    ds = TestPairDataset(tiny_prepared, (64, 32), IMG)
    pairs = Artifact(tiny_prepared / "images.h5")["pairs/test"][:]
    parsing = Artifact(tiny_prepared / "parsing.h5")["labels"]
    assert len(ds) == len(pairs) > 0
    expected = _expected_shapes(64, 32)
    expected.update(src_image=((3, *IMG), torch.float32), tgt_image=((3, *IMG), torch.float32))
    for i, (src, tgt) in enumerate(pairs):
        item = ds[i]
        _check(item, expected)
        assert (item["src_index"], item["tgt_index"]) == (src, tgt)
        np.testing.assert_array_equal(item["tgt_labels"].numpy(),
                                      resize_nearest(parsing[tgt], (64, 32)))


def test_flip_is_deterministic_per_epoch_and_index(tiny_prepared):
    plain = PseudoPairDataset(tiny_prepared, MAP)
    ds = PseudoPairDataset(tiny_prepared, MAP, flip=True, seed=3)
    decisions = np.array([[ds.flipped(i, e) for i in range(len(ds))] for e in range(8)])
    assert 0.2 < decisions.mean() < 0.8                   # about half the items
    assert (decisions != decisions[0]).any()              # depends on the epoch
    assert not any(plain.flipped(i, e) for i in range(len(ds)) for e in range(8))
    e, i = map(int, np.argwhere(decisions)[0])
    ds.set_epoch(e)
    by_epoch, by_key = ds[i], ds[(i, e)]
    flipped = flip_pair(plain[i])
    for key in flipped:
        assert torch.equal(by_epoch[key], flipped[key]) and torch.equal(by_key[key],
                                                                        flipped[key]), key
    j = int(np.flatnonzero(~decisions[e])[0])
    assert torch.equal(ds[(j, e)]["src_labels"], plain[j]["src_labels"])


def test_flipped_items_warp_like_mirrored_ones(tiny_prepared):
    """Each part's warp f_j(B^j S_Ps) of a flipped item is the flipped, label-mirrored warp of
    the mirrored part of the item: the mirror tables of labels, parts and affines agree with
    each other. Exception: a sample that sits exactly on a half pixel (common: keypoints are
    scaled from integers) rounds up in both items, which after the flip is the other neighbour;
    every mismatch must be such a tie. (The composed f(S_Ps) may also differ where a right and
    a left limb overlap: PAINT_ORDER paints right limbs first.)"""
    plain = PseudoPairDataset(tiny_prepared, MAP)
    for i in range(len(plain)):
        item = plain[i]
        f = flip_pair(item)
        warped, warped_f = (warp_parts(
            d["src_labels"][None, None], d["theta"][None], d["src_parts"][None],
            d["part_valid"][None], mode="nearest", affines=d["affines"][None])[0, :, 0].numpy()
            for d in (item, f))
        expected = LABEL_MIRROR[warped[PART_MIRROR][:, :, ::-1]]
        bad = np.argwhere(warped_f != expected)
        assert len(bad) < 0.01 * expected.size
        aff = f["affines"].numpy()
        for j, y, x in bad:
            s = aff[j, :, 0] * x + aff[j, :, 1] * y + aff[j, :, 2]              # (x, y)
            assert (np.abs(s - np.floor(s) - 0.5) < 1e-6).any(), (i, j, y, x, s)


def test_no_ok_rows_is_a_one_line_error(all_failed):
    with pytest.raises(DatasetError, match="the search produced no pseudo targets") as err:
        PseudoPairDataset(all_failed, MAP)
    assert "\n" not in str(err.value) and "search.min_pose_distance" in str(err.value)


def test_dataloader_with_two_workers(tiny_prepared):
    ds = PseudoPairDataset(tiny_prepared, MAP, IMG, flip=True, seed=1)
    sampler = ResumableSampler(len(ds), batch_size=3, seed=0, with_epoch=True)
    loader = DataLoader(ds, batch_size=3, sampler=sampler, num_workers=2)
    it = iter(loader)
    batches = [next(it) for _ in range(2 * sampler.batches_per_epoch)]
    del it
    keys = list(sampler.epoch_indices(0)) + list(sampler.epoch_indices(1))
    epochs = [0] * sampler.items_per_epoch + [1] * sampler.items_per_epoch
    for n, (index, epoch) in enumerate(zip(keys, epochs)):
        direct = ds[(int(index), epoch)]
        b = batches[n // 3]
        for key, value in direct.items():
            assert torch.equal(b[key][n % 3], value), key
    assert batches[0]["theta"].shape == (3, 10, 2, 3)


def test_no_test_pairs_is_a_one_line_error(tiny_prepared, tmp_path):
    import shutil

    import h5py

    out = tmp_path / "prepared"
    shutil.copytree(tiny_prepared, out)
    with h5py.File(out / "images.h5", "r+") as f:
        del f["pairs/test"]
        f.create_dataset("pairs/test", data=np.zeros((0, 2), np.int32))
    with pytest.raises(DatasetError, match="holds no test pairs.*set data.pairs") as err:
        TestPairDataset(out, MAP)
    assert "\n" not in str(err.value)


def test_cycle_items_hold_the_way_back(tiny_prepared):
    """cycle=True adds the target's part masks and the part affines tgt -> src; flips keep them
    consistent (flipping twice gives the item back)."""
    ds = PseudoPairDataset(tiny_prepared, MAP, cycle=True)
    masks = Artifact(tiny_prepared / "masks.h5")["parts"]
    expected = _expected_shapes(*MAP)
    expected.update(tgt_parts=((10, *MAP), torch.float32),
                    back_theta=((10, 2, 3), torch.float32),
                    back_affines=((10, 2, 3), torch.float64),
                    back_part_valid=((10,), torch.bool))
    for i in range(min(len(ds), 6)):
        item = ds[i]
        _check(item, expected)
        tgt = int(item["tgt_index"])
        np.testing.assert_array_equal(
            item["tgt_parts"].numpy(),
            G.bitfield_to_masks(resize_nearest(masks[tgt], MAP)).astype(np.float32))
        ks, kt = item["src_keypoints"].numpy(), item["tgt_keypoints"].numpy()
        back, valid = G.part_affines(kt, ks, *MAP)
        np.testing.assert_array_equal(item["back_affines"].numpy(), back)
        assert torch.equal(item["back_part_valid"], torch.from_numpy(valid))
        twice = flip_pair(flip_pair(item))
        for key in ("back_theta", "back_part_valid", "tgt_parts"):
            assert torch.equal(twice[key], item[key]), key
        np.testing.assert_allclose(twice["back_affines"].numpy(), back, atol=1e-9)
    test = TestPairDataset(tiny_prepared, MAP, IMG, cycle=True)
    assert {"tgt_parts", "back_theta", "tgt_image"} <= set(test[0])
