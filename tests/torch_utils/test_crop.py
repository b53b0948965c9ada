"""Face crop: head boxes against pipeline.geometry's on hand-made and real poses, exact crops at
the box's own size, unclipped boxes, invalid samples, gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.annotations import read_keypoint_file
from pipeline.geometry import head_box, scale_keypoints
from pipeline.geometry import torso_size as np_torso_size
from pipeline.torch_utils.crop import crop, head_boxes, torso_size
from tests.helpers import ANNOTATIONS, hand_pose


def _box_of(theta: torch.Tensor, hw: tuple[int, int]) -> tuple[int, int, int]:
    """(cy, cx, r) back from a theta (inverse of the module docstring's formula)."""
    h, w = hw
    r = round(float(theta[0, 0]) * w / 2)
    cx = round((float(theta[0, 2]) + 1) * w / 2)
    cy = round((float(theta[1, 2]) + 1) * h / 2)
    return cy, cx, r


def _padded_slice(image: torch.Tensor, cy: int, cx: int, r: int) -> torch.Tensor:
    """image[:, cy-r:cy+r, cx-r:cx+r] with zeros outside the frame."""
    c, h, w = image.shape
    out = torch.zeros(c, 2 * r, 2 * r)
    y0, x0 = cy - r, cx - r
    ys, xs = max(y0, 0), max(x0, 0)
    ye, xe = min(cy + r, h), min(cx + r, w)
    if ye > ys and xe > xs:
        out[:, ys - y0:ye - y0, xs - x0:xe - x0] = image[:, ys:ye, xs:xe]
    return out


def _check_poses(kps: np.ndarray, hw: tuple[int, int]) -> int:
    """Every pose: validity and clipped box equal geometry.head_box; the crop at size 2r is the
    zero-padded image slice. Returns the number of valid poses."""
    h, w = hw
    theta, valid = head_boxes(torch.from_numpy(kps.astype(np.float32)), hw)
    image = torch.rand(3, h, w, generator=torch.Generator().manual_seed(0))
    n_valid = 0
    for k, kp in enumerate(kps):
        ref = head_box(kp, h, w)
        if not bool(valid[k]):
            # invalid only where geometry has no box, or an empty one (r = 0)
            assert ref is None or int(0.4 * np_torso_size(kp)) == 0, k
            continue
        n_valid += 1
        cy, cx, r = _box_of(theta[k], hw)
        assert ref is not None
        clipped = (max(cy - r, 0), min(max(cy + r, 0), h), max(cx - r, 0), min(max(cx + r, 0), w))
        assert clipped == ref, (k, clipped, ref)
        got = crop(image[None], theta[k:k + 1], 2 * r)[0]
        torch.testing.assert_close(got, _padded_slice(image, cy, cx, r), rtol=0, atol=1e-4)
    return n_valid


def test_hand_pose_box_and_exact_crop():
    kp = hand_pose()
    assert _check_poses(kp[None], (256, 256)) == 1
    small = scale_keypoints(kp, (256, 256), (64, 64))
    assert _check_poses(small[None], (64, 64)) == 1
    theta, valid = head_boxes(torch.from_numpy(kp[None]), (256, 256))
    cy, cx, r = _box_of(theta[0], (256, 256))
    # head points (40,128) (35,135) (35,121) (38,142) (38,114): mean (37.2, 128) -> (37, 128);
    # st = sqrt((80^2 + 10^2 + 80^2 + 10^2) / 2) = 80.62 -> r = int(32.25) = 32
    assert (cy, cx, r) == (37, 128, 32) and bool(valid[0])


@pytest.mark.parametrize("name,hw", [("fasion-annotation-sample.csv", (256, 256)),
                                     ("market-annotation-sample.csv", (128, 64))])
def test_real_poses_match_geometry(name, hw):
    kps = read_keypoint_file(ANNOTATIONS / name).keypoints
    n_valid = _check_poses(kps, hw)
    assert n_valid > len(kps) // 4
    st = torso_size(torch.from_numpy(kps)).numpy()
    ref = np_torso_size(kps)
    assert np.array_equal(np.isnan(st), np.isnan(ref))
    np.testing.assert_allclose(st[~np.isnan(st)], ref[~np.isnan(ref)], rtol=1e-12)


def test_invalid_samples_crop_zeros():
    kp = hand_pose()
    no_head = kp.copy()
    no_head[[0, 14, 15, 16, 17]] = -1
    no_torso = kp.copy()
    no_torso[8] = -1                                    # Rhip missing: no st
    theta, valid = head_boxes(torch.from_numpy(np.stack([kp, no_head, no_torso])), (256, 256))
    assert valid.tolist() == [True, False, False]
    crops = crop(torch.rand(3, 3, 256, 256), theta, 16)
    assert crops[1:].abs().sum() == 0 and crops[0].abs().sum() > 0


def test_box_outside_the_frame_is_not_clipped():
    kp = hand_pose()
    kp[:, 1] += 240                                     # shift right: head box mostly outside
    theta, valid = head_boxes(torch.from_numpy(kp[None]), (256, 256))
    assert bool(valid[0])
    cy, cx, r = _box_of(theta[0], (256, 256))
    assert (cx, r) == (368, 32)                         # centre beyond the right edge
    assert crop(torch.ones(1, 1, 256, 256), theta, 2 * r).sum() == 0


def test_other_sizes_resample_the_same_box_and_pass_gradients():
    # a ramp image (value = x) is reproduced exactly by bilinear sampling: a crop of size S
    # samples x = cx - r - 1/2 + (j + 1/2) 2r / S
    kp = hand_pose()
    theta, _ = head_boxes(torch.from_numpy(kp[None]), (256, 256))
    cy, cx, r = _box_of(theta[0], (256, 256))
    ramp = torch.arange(256.0).view(1, 1, 1, 256).expand(1, 1, 256, 256).clone()
    ramp.requires_grad_(True)
    out = crop(ramp, theta, 16)
    j = torch.arange(16.0)
    want = cx - r - 0.5 + (j + 0.5) * 2 * r / 16
    torch.testing.assert_close(out[0, 0, 0], want, rtol=0, atol=1e-3)
    out.sum().backward()
    assert ramp.grad is not None and ramp.grad.sum().item() == pytest.approx(16 * 16, rel=1e-5)
