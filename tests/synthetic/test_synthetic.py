"""The synthetic people dataset: determinism, labels, keypoints, split, real poses, oracle, I/O."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest

from pipeline.annotations import read_keypoint_file, read_pairs_file
from pipeline.labels import LABEL_COLORS, LABEL_NAMES, LEFT_ARM, NUM_LABELS, RIGHT_ARM
from pipeline.synthetic import writer as writer_mod
from pipeline.synthetic.dataset import generate
from pipeline.synthetic.identity import Identity
from pipeline.synthetic.oracle import Oracle
from pipeline.synthetic.skeleton import derive_view
from pipeline.synthetic.writer import write_dataset
from pipeline.synthetic.dataset import make_identity
from pipeline.synthetic.materials import person_background
from pipeline.synthetic.prior import PoseAngles, frame_skeleton, pose_3d, project, sample_angles
from pipeline.synthetic.realpose import load_real_poses, rescale_keypoints
from pipeline.synthetic.skeleton import VIEW_BACK, VIEW_FRONT, VIEW_SIDE

from tests.synthetic.small_params import FASHION, MARKET
from tests.synthetic.small_params import small_params as _params



@pytest.fixture(scope="module")
def small():
    return generate(_params(), 64, 64)


@pytest.fixture(scope="module")
def market():
    return generate(_params(real_poses=str(MARKET), real_poses_height=128, real_poses_width=64),
                    128, 64)


def test_labels_module():
    assert len(LABEL_NAMES) == NUM_LABELS == 10 and LABEL_COLORS.shape == (10, 3)
    assert LABEL_NAMES[LEFT_ARM] == "leftArm" and LABEL_NAMES[RIGHT_ARM] == "rightArm"


def test_shapes_and_names(small):
    n = 4 * 3
    assert small.images.shape == (n, 64, 64, 3) and small.images.dtype == np.uint8
    assert small.labels.shape == (n, 64, 64) and small.labels.dtype == np.uint8
    assert small.keypoints.shape == small.skeletons.shape == (n, 18, 2)
    assert small.keypoints.dtype == small.skeletons.dtype == np.float32
    assert small.views.dtype == np.uint8 and small.identity.dtype == np.int32
    assert len(set(small.names)) == n
    for name, k, v, pid in zip(small.names, small.identity, small.views, small.person_id):
        view = ("front", "back", "side")[v]
        assert name.startswith(f"synth_id{k:05d}_") and name.endswith(f"{view}.png")
        assert pid == f"id{k:05d}"
    assert np.isfinite(small.skeletons).all()


def test_deterministic():
    a = generate(_params(), 64, 64)
    b = generate(_params(), 64, 64)
    assert a.names == b.names and a.test_pairs == b.test_pairs
    for f in ("images", "labels", "keypoints", "skeletons", "views", "split"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    c = generate(_params(seed=8), 64, 64)
    assert not np.array_equal(a.images, c.images)


def test_parallel_matches_sequential():
    a = generate(_params(identities=2), 64, 64)
    b = generate(_params(identities=2), 64, 64, n_jobs=2)
    assert a.names == b.names and np.array_equal(a.images, b.images)


@pytest.mark.parametrize("fixture", ["small", "market"])
def test_keypoints_on_body_and_label_range(fixture, request):
    ds = request.getfixturevalue(fixture)
    assert ds.labels.max() < NUM_LABELS
    h, w = ds.labels.shape[1:]
    for i in range(len(ds.names)):
        vis = ds.keypoints[i, :, 0] >= 0
        assert np.array_equal(vis, ds.keypoints[i, :, 1] >= 0)
        y = np.round(ds.keypoints[i, vis, 0]).astype(int)
        x = np.round(ds.keypoints[i, vis, 1]).astype(int)
        assert ((y >= 0) & (y < h) & (x >= 0) & (x < w)).all()
        assert (ds.labels[i][y, x] != 0).all(), ds.names[i]
        # visible keypoints are the skeleton's own points
        assert np.array_equal(ds.keypoints[i, vis], ds.skeletons[i, vis])


def test_colours_follow_labels(small):
    """Background pixels hold exactly the background; every person pixel is painted by its
    own part, and a garment's texture moves with the body (translation equivariance)."""
    ident = small.identities[0]
    sk = small.skeletons[0]
    oracle = Oracle.from_dataset(small)
    bg = person_background(small.background, ident, sk, 64, 64)
    r = oracle.render(0, sk)
    back = r.labels == 0
    assert np.array_equal(r.image[back], bg[back])
    # shift the body by whole pixels: labels and person colours shift with it
    big = Oracle(small.identities, 128, 128)
    base = sk * np.float32(1.5) + np.float32(20)
    r0 = big.render(0, base)
    r1 = big.render(0, base + np.array([7, 5], np.float32))
    assert np.array_equal(r1.labels[7:, 5:], r0.labels[:-7, :-5])
    person = r0.labels[:-7, :-5] > 0
    same = (r1.image[7:, 5:][person] == r0.image[:-7, :-5][person]).all(axis=1)
    assert person.sum() > 100 and same.mean() > 0.99


def _posed(view: int, family_seed: int, h: int = 128, w: int = 128) -> tuple[Identity, np.ndarray]:
    ident = make_identity(0, 0)
    rng = np.random.default_rng(family_seed)
    ang = sample_angles(rng, view)
    # plain standing pose, arms hanging slightly out, facing the camera
    ang = PoseAngles(**{**ang.__dict__, "yaw": {VIEW_FRONT: 0.0, VIEW_BACK: 180.0,
                                                 VIEW_SIDE: 90.0}[view],
                        "family": "stand"})
    xy = project(pose_3d(ident.body, ang), ang.yaw)
    return ident, frame_skeleton(xy, ident.body, h, w, rng).astype(np.float32)


def test_left_right_sides_front_and_back():
    for view in (VIEW_FRONT, VIEW_BACK):
        ident, sk = _posed(view, 3)
        assert derive_view(sk).view == view
        r = Oracle([ident], 128, 128).render(0, sk)
        left_x = np.nonzero(r.labels == LEFT_ARM)[1].mean()
        right_x = np.nonzero(r.labels == RIGHT_ARM)[1].mean()
        if view == VIEW_FRONT:   # the person's left arm appears on the image's right
            assert left_x > right_x and sk[5, 1] > sk[2, 1]
        else:
            assert left_x < right_x
            assert (r.keypoints[[0, 14, 15]] == -1).all()   # back: nose and eyes hidden


def test_side_view_hides_far_eye_and_ear():
    ident, sk = _posed(VIEW_SIDE, 4)
    v = derive_view(sk)
    assert v.view == VIEW_SIDE and v.facing == 1 and v.near == "R"
    r = Oracle([ident], 128, 128).render(0, sk)
    assert (r.keypoints[[15, 17]] == -1).all()          # Leye, Lear hidden
    assert (r.keypoints[[0, 14, 16]] >= 0).all()        # nose, Reye, Rear visible


def test_views_cover_all_kinds():
    ds = generate(_params(identities=6, poses_per_identity=5, real_pose_fraction=0.0), 64, 64)
    assert set(np.unique(ds.views)) == {0, 1, 2}
    for i in range(len(ds.names)):
        assert derive_view(ds.skeletons[i]).view == ds.views[i]


def test_split_by_identity_and_pairs(small):
    test_ids = set(small.identity[small.split == 1])
    train_ids = set(small.identity[small.split == 0])
    assert test_ids and train_ids and not test_ids & train_ids
    assert len(test_ids) == 1                                     # 0.25 of 4 identities
    row = {n: i for i, n in enumerate(small.names)}
    assert len(small.test_pairs) == 3 * len(test_ids)
    assert len(set(small.test_pairs)) == len(small.test_pairs)
    for a, b in small.test_pairs:
        assert a != b
        assert small.identity[row[a]] == small.identity[row[b]]
        assert small.split[row[a]] == 1


def test_real_poses_used(market):
    ds = generate(_params(real_pose_fraction=1.0), 128, 64)
    assert ds.real_pose.all() and all(ds.pose_source)
    pool = load_real_poses(FASHION, 256, 256, 128, 64)
    raw = read_keypoint_file(FASHION).as_dict()
    checked = 0
    for i, src in enumerate(ds.pose_source):
        assert src in pool.names
        want = rescale_keypoints(raw[src], 256, 256, 128, 64)
        vis = ds.keypoints[i, :, 0] >= 0
        real = np.isfinite(want[:, 0])
        both = vis & real
        assert np.abs(ds.keypoints[i, both] - want[both]).max(initial=0) < 1e-3
        checked += int(both.sum())
    assert checked > 50
    # rescaling: height ratio, centred horizontally; missing stays missing
    kp = np.full((18, 2), -1.0, np.float32)
    kp[1] = (100, 128)
    out = rescale_keypoints(kp, 256, 256, 128, 64)
    assert np.allclose(out[1], (50, 32)) and np.isnan(out[0]).all()
    assert pool.rows > len(pool) > 0 and pool.report()["skipped_no_torso"] == len(pool.skipped)


def test_no_real_poses_when_fraction_zero():
    ds = generate(_params(real_pose_fraction=0.0, real_poses="does/not/exist.csv"), 64, 64)
    assert not ds.real_pose.any()
    with pytest.raises(FileNotFoundError):
        generate(_params(real_pose_fraction=0.5, real_poses="does/not/exist.csv"), 64, 64)


def test_oracle_reproduces_and_renders_other_poses(small):
    oracle = Oracle.from_dataset(small)
    for i in range(len(small.names)):
        r = oracle.render(int(small.identity[i]), oracle.skeleton(small.names[i]))
        assert np.array_equal(r.image, small.images[i])
        assert np.array_equal(r.labels, small.labels[i])
        assert np.array_equal(r.keypoints, small.keypoints[i])
    # identity 0 in identity 1's pose: a valid rendering with that pose's keypoints
    j = int(np.flatnonzero(small.identity == 1)[0])
    r = oracle.render(0, small.skeletons[j])
    assert r.labels.shape == (64, 64) and (r.labels > 0).any()
    vis = r.keypoints[:, 0] >= 0
    assert np.array_equal(vis, small.keypoints[j, :, 0] >= 0)
    # partial keypoints are completed to a full skeleton
    full = oracle.complete(0, small.keypoints[j])
    assert np.isfinite(full).all() and full.shape == (18, 2)


def test_identity_json_roundtrip(small):
    for ident in small.identities:
        d = json.loads(json.dumps(ident.to_dict()))
        assert Identity.from_dict(d) == ident


def test_write_dataset_layout(tmp_path: Path, small):
    out = tmp_path / "synthetic"
    write_dataset(small, out, {"seed": 7})
    for name in ("annotations.csv", "pairs-test.csv", "truth.h5", "summary.json"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(small.names)
    i = 5
    img = cv2.imread(str(out / "images" / small.names[i]), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(img[..., ::-1], small.images[i])
    lab = cv2.imread(str(out / "parsing" / small.names[i]), cv2.IMREAD_UNCHANGED)
    assert lab.ndim == 2 and np.array_equal(lab, small.labels[i])
    ann = read_keypoint_file(out / "annotations.csv")
    assert ann.names == small.names
    vis = small.keypoints >= 0
    assert np.array_equal(ann.keypoints >= 0, vis)
    assert np.abs(ann.keypoints[vis] - small.keypoints[vis]).max() <= 0.5
    assert read_pairs_file(out / "pairs-test.csv") == small.test_pairs
    with h5py.File(out / "truth.h5", "r") as f:
        assert np.array_equal(f["keypoints"][()], small.keypoints)
        assert np.array_equal(f["skeleton"][()], small.skeletons)
        for key in ("names", "keypoints", "skeleton", "view", "identity", "split", "person_id"):
            assert {"description", "shape", "units"} <= set(f[key].attrs), key
        assert f.attrs["height"] == 64 and f.attrs["width"] == 64
        assert f.attrs["background"] == small.background == "studio"
        assert len(json.loads(f.attrs["identities"])) == 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["images"] == 12 and sum(summary["view"].values()) == 12
    assert summary["split"]["test"]["identities"] == 1
    assert summary["poses"]["real"] + summary["poses"]["prior"] == 12
    assert set(summary["missing_keypoint_fraction"]) >= {"nose", "Rear"}
    # the oracle reads truth.h5 and reproduces a stored image exactly
    oracle = Oracle.from_dir(out)
    r = oracle.render(int(small.identity[i]), oracle.skeleton(i))
    assert np.array_equal(r.image, small.images[i])


def test_interrupted_write_keeps_previous(tmp_path: Path, small, monkeypatch):
    out = tmp_path / "synthetic"
    write_dataset(small, out, {})
    before = sorted(p.relative_to(out) for p in out.rglob("*"))

    def boom(*args, **kwargs):
        raise RuntimeError("killed mid-way")

    monkeypatch.setattr(writer_mod, "write_truth", boom)
    with pytest.raises(RuntimeError, match="killed"):
        write_dataset(small, out, {})
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["synthetic"]     # no temporary left


def test_stale_temporaries_of_a_killed_write_are_removed(tmp_path: Path, small):
    out = tmp_path / "synthetic"
    for stale in (tmp_path / ".synthetic.tmp-abc123", tmp_path / ".synthetic.old-def456"):
        (stale / "synthetic" / "images").mkdir(parents=True)      # as a SIGKILL leaves them
        (stale / "synthetic" / "images" / "x.png").write_bytes(b"partial")
    (tmp_path / ".other.tmp-keep").mkdir()                          # not this folder's
    write_dataset(small, out, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.tmp-keep", "synthetic"]


def test_rewrite_replaces_folder(tmp_path: Path, small):
    out = tmp_path / "synthetic"
    write_dataset(small, out, {})
    (out / "stale.txt").write_text("from an older run")
    write_dataset(small, out, {})
    assert not (out / "stale.txt").exists() and (out / "truth.h5").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["synthetic"]


def test_size_256_and_32():
    ds = generate(_params(identities=2, poses_per_identity=2), 256, 256)
    assert ds.images.shape == (4, 256, 256, 3)
    fill = (ds.labels > 0).mean(axis=(1, 2))
    assert (fill > 0.03).all()
    tiny = generate(_params(identities=2, poses_per_identity=2), 32, 32)
    assert tiny.images.shape == (4, 32, 32, 3)
    with pytest.raises(ValueError):
        generate(_params(), 16, 64)
