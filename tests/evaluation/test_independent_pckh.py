"""The main PCKh of the evaluate stage: an independent detector (MediaPipe) on images enlarged to
``evaluate.pckh_size``, keypoints mapped back, scored by the project's PCKh; misses count as
failures; MediaPipe's absence is reported, never a 0 (docs/metrics.md "PCKh and mIoU")."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.evaluation.independent_pckh import (IndependentDetector, IndependentPckh,
                                                  enlarge, enlarged_hw, merge_system)
from pipeline.evaluation.report import metrics_table, pckh_note
from pipeline.geometry import scale_keypoints
from pipeline.metrics.pckh import pckh

MISSING = -1.0


def _truth() -> np.ndarray:
    """(18, 2) true keypoints in a 64x64 frame: head box 12 px high (y 8..20) and 8 px wide
    (x 28..36), so a point is right within 6 px in y and 4 px in x; 8 points present."""
    kp = np.full((18, 2), MISSING, np.float32)
    kp[0], kp[1] = (10, 32), (20, 32)              # nose, neck
    kp[14], kp[15] = (8, 28), (8, 36)              # eyes
    kp[2], kp[5] = (22, 24), (22, 40)              # shoulders
    kp[8], kp[11] = (40, 28), (40, 36)             # hips
    return kp


class _Found:
    def __init__(self, keypoints: np.ndarray, found: bool) -> None:
        self.keypoints, self.found = keypoints, found


class StubFinder:
    """Returns given keypoints (in the ORIGINAL frame ``frame_hw``) scaled to the frame of the
    image it is given, as a detector working on the enlarged image would; ``None`` = the
    person is not found. Records the shapes it saw."""

    def __init__(self, answers: list[np.ndarray | None], frame_hw: tuple[int, int]) -> None:
        self.answers, self.frame_hw, self.shapes = list(answers), frame_hw, []

    def detect(self, image: np.ndarray) -> _Found:
        self.shapes.append(image.shape)
        kp = self.answers.pop(0)
        if kp is None:
            return _Found(np.full((18, 2), MISSING, np.float32), False)
        return _Found(scale_keypoints(kp, self.frame_hw, image.shape[:2]), True)


def test_stub_detector_gives_the_expected_pckh_and_counts_a_miss_as_failure():
    true = _truth()
    off = true.copy()
    off[8, 1] += 10                                # 10 px off in x (> 4): wrong
    off[11] = MISSING                              # not returned while the truth has it: wrong
    stub = StubFinder([off, None], (64, 64))       # image 2: the person is missed
    scores = IndependentPckh(IndependentDetector(256, stub), ["model"])
    images = np.zeros((2, 64, 64, 3), np.uint8)
    scores.update({"model": images, "ignored": images}, np.stack([true, true]))
    assert stub.shapes == [(256, 256, 3)] * 2      # enlarged; unknown systems not scored
    r = scores.result()["model"]
    # 6 of 8 right in image 1, 0 of 8 in the missed image 2 (counted, not left out)
    assert r == {"pckh": pytest.approx(6 / 16, abs=1e-4), "pckh_missed": 1, "pckh_images": 2}


def test_keypoints_map_back_to_the_image_frame_of_a_non_square_image():
    true = _truth()
    stub = StubFinder([true], (64, 48))
    det = IndependentDetector(256, stub)
    kp, found = det.keypoints(np.zeros((1, 64, 48, 3), np.uint8))
    assert stub.shapes == [(256, 192, 3)] and found.tolist() == [True]
    np.testing.assert_allclose(kp[0], true, atol=1e-4)
    assert pckh(kp, true[None])["pckh"] == 1.0
    assert enlarged_hw((64, 64), 64) == (64, 64)
    img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    assert np.array_equal(enlarge(img, 64), img)                 # native size: unchanged


def test_missing_mediapipe_is_reported_not_zero(monkeypatch):
    import pipeline.pose.mediapipe_detector as mpd

    def missing():
        raise ImportError(mpd._INSTALL_HINT)

    monkeypatch.setattr(mpd, "_import_mediapipe", missing)
    det = IndependentDetector(256)
    scores = IndependentPckh(det, ["model", "source"])
    scores.update({"model": np.zeros((1, 64, 64, 3), np.uint8)}, _truth()[None])
    r = scores.result()
    for system in ("model", "source"):
        assert r[system]["pckh"]["computed"] is False
        assert "mediapipe==0.10.21" in r[system]["pckh"]["reason"]
    assert det.settings()["computed"] is False
    merged = merge_system({"ssim": 0.5, "pckh": 0.6, "l1": 0.1}, r["model"])
    assert list(merged) == ["ssim", "pckh", "pckh_posenet", "l1"] and merged["pckh_posenet"] == 0.6
    table = metrics_table({"model": merged})
    assert "PCKh@0.5 (MediaPipe)" in table and "n/c" in table and "0.6000" in table
    assert "not computed" in " ".join(pckh_note({"model": merged,
                                                 "pckh_truth": r["source"]}))


# ------------------------------------------------------------------- the real MediaPipe
#: Front-view identities of seed 0 whose prior skeleton MediaPipe reads at 64 px (chosen once:
#: identities 3, 4, 7, 11 of `sample_skeleton(default_rng([0, 9, k]))`).
FRONT = (3, 4, 7, 11)


@pytest.fixture(scope="module")
def synthetic_people():
    """(N, 64, 64, 3) images and (N, 18, 2) exact keypoints rendered by the synthesizer."""
    from pipeline.synthetic.dataset import make_identity
    from pipeline.synthetic.prior import sample_skeleton
    from pipeline.synthetic.render import render_person

    images, kps = [], []
    for k in FRONT:
        ident = make_identity(0, k)
        sk, _ = sample_skeleton(np.random.default_rng([0, 9, k]), ident.body, 64, 64)
        r = render_person(ident, sk, 64, 64)
        images.append(r.image)
        kps.append(r.keypoints)
    return np.stack(images), np.stack(kps).astype(np.float32)


def test_mediapipe_finds_a_synthetic_person_in_the_enlarged_image(synthetic_people):
    pytest.importorskip("mediapipe", reason="mediapipe not installed: the independent PCKh "
                                            "is reported as not computed")
    images, true = synthetic_people
    det = IndependentDetector(256)
    try:
        kp, found = det.keypoints(images)
        again, _ = det.keypoints(images[:1])       # one instance, deterministic
    finally:
        det.close()
    assert det.available and found.all()
    np.testing.assert_array_equal(again[0], kp[0])
    assert pckh(kp, true)["pckh"] > 0.5
    far = true.copy()
    far[(far >= 0).all(-1)] += (0, 30)             # every true point 30 px to the right
    assert pckh(kp, far)["pckh"] < 0.05
    scores = IndependentPckh(det, ["model"])
    det.finder = StubFinder([None] * len(images), (64, 64))   # the same set, all missed
    scores.update({"model": images}, true)
    assert scores.result()["model"] == {"pckh": 0.0, "pckh_missed": len(images),
                                        "pckh_images": len(images)}


# ------------------------------------------------------------------- in the evaluate stage
def _stage_metrics(project, name: str):
    import json

    from pipeline.evaluation.stage import run
    from tests.evaluation.test_evaluate_stage import _trained

    paths, params = _trained(project, name, "baseline")
    metrics = run(params, paths, progress=False)
    scores = json.loads((paths.eval / "plots" / "scores.json").read_text())
    return metrics, (paths.eval / "report.md").read_text(), scores


def test_stage_reports_both_pckh_columns(project):
    pytest.importorskip("mediapipe", reason="mediapipe not installed")
    metrics, report, scores = _stage_metrics(project, "eval_pckh")
    for key in ("paired", "unpaired"):
        m = metrics[key]
        for system in ("model", "source", "part_warp"):
            r = m[system]
            assert 0 <= r["pckh"] <= 1 and 0 <= r["pckh_posenet"] <= 1
            assert 0 <= r["pckh_missed"] <= r["pckh_images"] == m["pairs"]
        assert 0 <= m["pckh_truth"]["pckh"] <= 1
    assert metrics["settings"]["pckh"]["enlarged_to_height"] == 256
    assert "posenet" in metrics["settings"]["pckh_posenet"]["detector"]
    assert "PCKh@0.5 (MediaPipe)" in report and "PCKh@0.5 (own detector)" in report
    assert "MediaPipe on the true target images" in report
    assert {"pckh", "pckh_posenet"} <= set(scores[0])


def test_stage_without_mediapipe_says_not_computed(project, monkeypatch):
    import pipeline.pose.mediapipe_detector as mpd

    def missing():
        raise ImportError(mpd._INSTALL_HINT)

    monkeypatch.setattr(mpd, "_import_mediapipe", missing)
    metrics, report, scores = _stage_metrics(project, "eval_pckh_missing")
    r = metrics["paired"]["model"]
    assert r["pckh"]["computed"] is False and "mediapipe" in r["pckh"]["reason"]
    assert "pckh_missed" not in r and 0 <= r["pckh_posenet"] <= 1
    assert metrics["unpaired"]["source"]["pckh"]["computed"] is False
    assert metrics["settings"]["pckh"]["computed"] is False
    assert "n/c" in report and "not computed" in report
    assert "pckh" not in scores[0] and "pckh_posenet" in scores[0]
