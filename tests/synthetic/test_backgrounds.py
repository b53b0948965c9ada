"""Background kinds of the synthetic people (data.synthetic.background): street is the older
per-photo background bit for bit; studio is one light backdrop per identity; the oracle and
truth.h5 carry the kind."""
from __future__ import annotations

import colorsys
import hashlib
from itertools import combinations
from pathlib import Path

import h5py
import numpy as np
import pydantic
import pytest

from pipeline.config.data import SyntheticParams
from pipeline.synthetic.dataset import SyntheticDataset, generate, make_identity
from pipeline.synthetic.materials import (STUDIO_EXPOSURE_JITTER, STUDIO_NOISE,
                                          STUDIO_SATURATION, STUDIO_VALUE, background_rng,
                                          studio_background, studio_of)
from pipeline.synthetic.oracle import Oracle
from pipeline.synthetic.render import render_person
from pipeline.synthetic.truth import read_truth
from pipeline.synthetic.writer import write_dataset

from tests.synthetic.small_params import MARKET
from tests.synthetic.small_params import small_params as _params

# SHA-256 of generate(...).images.tobytes() / .labels.tobytes() for the params below, produced
# by the code before the background kinds existed (pipeline/synthetic of commit 4877a22, which
# had no `background` key) with numpy/opencv of this repository's .venv. street must keep them.
STREET_64 = ("50f8950153d8819ef0743bc61d41849cbe958da91e9de13704af41fa08ee5b1f",
             "288a8a9671fbca8eeea6a23a5d37925db52ad7bf55afd356a36b5e1c0dde707e")
STREET_MARKET = ("3b513f3e913be82cc38ca0cd65f09171826c6a89458a5f800f9f00c4b8215281",
                 "6bfae469ffcb4300dd0fa22bcc4e893291559248fe99d35c49e1f8f9f80a1d1e")



def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def studio() -> SyntheticDataset:
    return generate(_params(background="studio"), 64, 64)


def _background_mad(ds: SyntheticDataset, a: int, b: int) -> float:
    """Mean absolute difference (levels, [0, 255]) of rows a, b over pixels that are background
    in both (all channels)."""
    both = (ds.labels[a] == 0) & (ds.labels[b] == 0)
    assert both.sum() > 100
    return float(np.abs(ds.images[a][both].astype(np.int16)
                        - ds.images[b][both].astype(np.int16)).mean())


def test_street_is_bit_identical_to_the_older_generator():
    assert SyntheticParams().background == "studio"       # params.yaml's value (the default)
    small = generate(_params(background="street"), 64, 64)
    assert (_sha(small.images), _sha(small.labels)) == STREET_64
    market = generate(_params(background="street", real_poses=str(MARKET),
                              real_poses_height=128, real_poses_width=64), 128, 64)
    assert (_sha(market.images), _sha(market.labels)) == STREET_MARKET


def test_studio_changes_only_the_background(studio):
    street = generate(_params(background="street"), 64, 64)
    assert studio.background == "studio" and street.background == "street"
    assert np.array_equal(studio.labels, street.labels)
    person = studio.labels > 0
    assert np.array_equal(studio.images[person], street.images[person])
    assert not np.array_equal(studio.images[~person], street.images[~person])


def test_studio_shared_within_an_identity_differs_between(studio):
    rows = [np.flatnonzero(studio.identity == k) for k in range(len(studio.identities))]
    within = [_background_mad(studio, a, b) for r in rows for a, b in combinations(r, 2)]
    between = [_background_mad(studio, a, b) for r0, r1 in combinations(rows, 2)
               for a in r0 for b in r1]
    # exposure +-1.5 % of a <= 247 backdrop and noise +-2: a few levels between two photos
    assert np.mean(within) < 4.0 and max(within) < 8.0, within
    assert np.mean(between) > 3 * np.mean(within), (np.mean(between), np.mean(within))
    colours = [studio_of(i).colour for i in studio.identities]
    assert all(np.abs(a - b).max() > 1.0 for a, b in combinations(colours, 2))


def test_studio_is_light_and_low_saturation(studio):
    bg = studio.images[studio.labels == 0].astype(np.float32)           # (P, 3)
    value, low = bg.max(axis=1), bg.min(axis=1)
    saturation = (value - low) / value
    assert value.min() > 150 and np.median(value) > 0.75 * 255
    assert saturation.max() < 0.12
    # the studio parameters themselves, over many identities
    for k in range(200):
        s = studio_of(make_identity(3, k))
        _, sat, val = colorsys.rgb_to_hsv(*(s.colour / 255))
        assert STUDIO_VALUE[0] - 1e-3 <= val <= STUDIO_VALUE[1] + 1e-3
        assert sat <= STUDIO_SATURATION[1] + 1e-3


def test_studio_photo_variation_is_bounded():
    """Two photos of one studio differ by the exposure gain and the noise only."""
    ident = make_identity(0, 5)
    s = studio_of(ident)
    sk = np.zeros((18, 2), np.float32)
    a = studio_background(s, background_rng(ident, sk, 96, 80), 96, 80)
    b = studio_background(s, background_rng(ident, sk + 1, 96, 80), 96, 80)
    bound = 2 * STUDIO_EXPOSURE_JITTER * float(s.colour.max()) * 1.05 + 2 * STUDIO_NOISE + 1
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    assert diff.max() <= bound and 0 < diff.mean()
    # the same photo twice: identical
    assert np.array_equal(a, studio_background(studio_of(ident), background_rng(ident, sk, 96, 80),
                                               96, 80))


def test_oracle_reproduces_studio_images(studio, tmp_path: Path):
    oracle = Oracle.from_dataset(studio)
    assert oracle.background == "studio"
    for i in range(len(studio.names)):
        r = oracle.render(int(studio.identity[i]), oracle.skeleton(i))
        assert np.array_equal(r.image, studio.images[i]), studio.names[i]
    # through truth.h5: the kind is stored and read back
    out = tmp_path / "synthetic"
    write_dataset(studio, out, {"background": "studio"})
    with h5py.File(out / "truth.h5", "r") as f:
        assert f.attrs["background"] == "studio"
    disk = Oracle.from_dir(out)
    assert disk.background == "studio"
    for i in range(len(studio.names)):
        r = disk.render(int(studio.identity[i]), disk.skeleton(studio.names[i]))
        assert np.array_equal(r.image, studio.images[i]), studio.names[i]
    # the kind matters: a street oracle does not reproduce a studio image
    street = Oracle(studio.identities, 64, 64, background="street")
    assert not np.array_equal(street.render(0, studio.skeletons[0]).image, studio.images[0])


def test_old_truth_without_the_attribute_is_street(tmp_path: Path):
    ds = generate(_params(identities=2, poses_per_identity=2, background="street"), 64, 64)
    out = tmp_path / "synthetic"
    write_dataset(ds, out, {})
    with h5py.File(out / "truth.h5", "r+") as f:
        assert f.attrs["background"] == "street"
        del f.attrs["background"]                     # as written before studios existed
    assert read_truth(out).background == "street"
    oracle = Oracle.from_dir(out)
    r = oracle.render(int(ds.identity[3]), oracle.skeleton(3))
    assert np.array_equal(r.image, ds.images[3])


def test_unknown_background_is_refused():
    ident = make_identity(0, 0)
    sk = generate(_params(identities=2, poses_per_identity=2), 64, 64).skeletons[0]
    with pytest.raises(ValueError, match="background 'beach'"):
        render_person(ident, sk, 64, 64, background="beach")
    with pytest.raises(ValueError, match="background 'beach'"):
        Oracle([ident], 64, 64, background="beach")
    with pytest.raises(pydantic.ValidationError):
        SyntheticParams(background="beach")
