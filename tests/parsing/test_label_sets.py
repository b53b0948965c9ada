"""Parser label sets (LIP, CIHP, ATR) and their mapping to SPT's 10 labels (docs/method.md §2)."""
from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from pipeline.labels import LABEL_NAMES
from pipeline.parsing.label_sets import (ATR_LABELS, CIHP_LABELS, DEFAULT_MAPPINGS, LABEL_SETS,
                                         LIP_LABELS, TARGETS, lookup_table, map_labels,
                                         read_label_map, validate_mapping, write_label_map)

L = {name: i for i, name in enumerate(LABEL_NAMES)}  # SPT label name -> value
LIP = {name: i for i, name in enumerate(LIP_LABELS)}


def test_label_set_sizes():
    assert len(LIP_LABELS) == 20 and len(CIHP_LABELS) == 20 and len(ATR_LABELS) == 18
    assert LABEL_SETS["spt10"] == LABEL_NAMES
    assert CIHP_LABELS[10] == "Torso-skin" and LIP_LABELS[10] == "Jumpsuits"
    assert [n for a, n in zip(LIP_LABELS, CIHP_LABELS) if a != n] == ["Torso-skin"]
    for names in LABEL_SETS.values():
        assert len(set(names)) == len(names)


@pytest.mark.parametrize("label_set", sorted(LABEL_SETS))
def test_every_label_maps_somewhere_valid(label_set):
    names = LABEL_SETS[label_set]
    mapping = DEFAULT_MAPPINGS[label_set]
    assert set(mapping) == set(names)
    assert set(mapping.values()) <= set(TARGETS)
    validate_mapping(label_set, mapping)
    out = map_labels(np.arange(len(names))[None, :], label_set)
    assert out.dtype == np.uint8 and out.shape == (1, len(names))
    assert out.max() <= 9
    assert out[0, 0] == L["background"]


def test_lip_defaults_follow_spec():
    m = DEFAULT_MAPPINGS["lip"]
    expected = {"Hat": "hair", "Hair": "hair", "Face": "face", "Sunglasses": "face",
                "UpperClothes": "upperclothes", "Coat": "upperclothes", "Scarf": "upperclothes",
                "Dress": "upperclothes", "Pants": "pants", "Jumpsuits": "pants", "Skirt": "skirt",
                "Left-arm": "leftArm", "Right-arm": "rightArm", "Left-leg": "leftLeg",
                "Right-leg": "rightLeg", "Left-shoe": "leftLeg", "Right-shoe": "rightLeg",
                "Glove": "nearest_arm", "Socks": "nearest_leg", "Background": "background"}
    assert m == expected
    assert DEFAULT_MAPPINGS["atr"]["belt"] == "pants" and DEFAULT_MAPPINGS["atr"]["bag"] == "background"
    assert DEFAULT_MAPPINGS["cihp"]["Torso-skin"] == "upperclothes"
    assert np.array_equal(lookup_table("spt10"), np.arange(10))


def test_validate_mapping_names_the_problem():
    m = dict(DEFAULT_MAPPINGS["lip"])
    with pytest.raises(ValueError, match=r"unknown source label.*'Hatt'.*did you mean 'Hat'"):
        validate_mapping("lip", {**m, "Hatt": "hair"})
    with pytest.raises(ValueError, match=r"invalid target.*'Hat' -> 'Hair'.*did you mean 'hair'"):
        validate_mapping("lip", {**m, "Hat": "Hair"})
    with pytest.raises(ValueError, match=r"'Coat' -> 'upperclothing'.*did you mean 'upperclothes'"):
        validate_mapping("lip", {**m, "Coat": "upperclothing"})
    with pytest.raises(ValueError, match=r"unknown source label.*'left-arm'.*did you mean 'Left-arm'"):
        validate_mapping("lip", {**m, "left-arm": "leftArm"})
    del m["Socks"]
    with pytest.raises(ValueError, match=r"leaves source label\(s\) \['Socks'\] unmapped"):
        validate_mapping("lip", m)
    with pytest.raises(ValueError, match="unknown label set 'pascal'"):
        validate_mapping("pascal", {})
    with pytest.raises(ValueError, match="unknown label set"):
        map_labels(np.zeros((2, 2), int), "pascal")


def test_custom_mapping_overrides_default():
    m = {**DEFAULT_MAPPINGS["atr"], "belt": "upperclothes"}
    src = np.array([[ATR_LABELS.index("belt")]])
    assert map_labels(src, "atr")[0, 0] == L["pants"]
    assert map_labels(src, "atr", m)[0, 0] == L["upperclothes"]


def test_glove_takes_side_of_nearest_arm():
    src = np.zeros((6, 12), np.uint8)
    src[1:5, 0:3] = LIP["Left-arm"]
    src[1:5, 9:12] = LIP["Right-arm"]
    src[2, 3:5] = LIP["Glove"]     # touches the left arm
    src[3, 7:9] = LIP["Glove"]     # touches the right arm
    out = map_labels(src, "lip")
    assert np.all(out[2, 3:5] == L["leftArm"])
    assert np.all(out[3, 7:9] == L["rightArm"])
    assert set(np.unique(out)) == {L["background"], L["leftArm"], L["rightArm"]}


def test_glove_side_comes_from_shoe_mapped_leg_for_socks():
    src = np.zeros((5, 5), np.uint8)
    src[4, 0] = LIP["Right-shoe"]   # a shoe maps to rightLeg: socks take its side
    src[2, 1] = LIP["Socks"]
    out = map_labels(src, "lip")
    assert out[2, 1] == L["rightLeg"] and out[4, 0] == L["rightLeg"]


def test_socks_without_leg_become_background():
    src = np.full((4, 4), LIP["UpperClothes"], np.uint8)
    src[3, :] = LIP["Socks"]
    src[0, 0] = LIP["Left-arm"]      # an arm does not count for socks
    out = map_labels(src, "lip")
    assert np.all(out[3] == L["background"])
    assert out[0, 0] == L["leftArm"] and out[1, 1] == L["upperclothes"]


def test_out_of_range_values_are_named():
    src = np.zeros((3, 3), np.int32)
    src[0, 0], src[1, 1] = 20, 77
    with pytest.raises(ValueError, match=r"img1\.png: label map has value\(s\) 20, 77 outside the 'lip'"):
        map_labels(src, "lip", source="img1.png")
    src[0, 0], src[1, 1] = -3, 18
    with pytest.raises(ValueError, match=r"value\(s\) -3, 18 outside the 'atr' label set \(values 0\.\.17\)"):
        map_labels(src, "atr")
    with pytest.raises(ValueError, match="2-D"):
        map_labels(np.zeros((2, 2, 3), np.uint8), "lip")
    with pytest.raises(ValueError, match="integers"):
        map_labels(np.zeros((2, 2), np.float32), "lip")


def test_mapping_speed_without_sideless_pixels():
    rng = np.random.default_rng(0)
    sided = np.array([i for i, n in enumerate(LIP_LABELS) if n not in ("Glove", "Socks")])
    src = rng.choice(sided, size=(256, 256)).astype(np.uint8)
    map_labels(src, "lip")  # warm the lookup-table cache
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        map_labels(src, "lip")
        times.append(time.perf_counter() - t0)
    assert np.median(times) < 5e-3, f"median {np.median(times) * 1e3:.2f} ms"


def test_png_and_npy_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    lab = rng.integers(0, 20, (17, 23)).astype(np.uint8)
    write_label_map(tmp_path / "a.png", lab)
    back = read_label_map(tmp_path / "a.png")
    assert back.dtype == np.uint8 and np.array_equal(back, lab)
    write_label_map(tmp_path / "a.npy", lab.astype(np.int32))
    back = read_label_map(tmp_path / "a.npy")
    assert back.dtype == np.int32 and np.array_equal(back, lab)
    assert np.array_equal(map_labels(back, "lip"), map_labels(lab, "lip"))


def test_palette_png_reads_indices_not_colours(tmp_path):
    from PIL import Image
    lab = np.array([[0, 1, 2], [3, 4, 19]], np.uint8)
    img = Image.fromarray(lab)
    pal = np.zeros((256, 3), np.uint8)
    pal[:20] = np.array([[200 - 7 * i, 30 + i, 90] for i in range(20)])  # colours != indices
    img.putpalette(pal.ravel().tolist())
    img.save(tmp_path / "p.png")
    assert Image.open(tmp_path / "p.png").mode == "P"
    assert np.array_equal(read_label_map(tmp_path / "p.png"), lab)
    # write_label_map with a palette gives the same
    from pipeline.labels import LABEL_COLORS
    write_label_map(tmp_path / "q.png", lab % 10, LABEL_COLORS)
    assert Image.open(tmp_path / "q.png").mode == "P"
    assert np.array_equal(read_label_map(tmp_path / "q.png"), lab % 10)


def test_read_errors_name_the_file(tmp_path):
    import cv2
    rgb = tmp_path / "colour.png"
    cv2.imwrite(str(rgb), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r"colour\.png.*colour PNG"):
        read_label_map(rgb)
    with pytest.raises(FileNotFoundError, match="nothere.png"):
        read_label_map(tmp_path / "nothere.png")
    np.save(tmp_path / "f.npy", np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"f\.npy.*integer"):
        read_label_map(tmp_path / "f.npy")
    (tmp_path / "x.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match=r"x\.jpg.*\.png or \.npy"):
        read_label_map(tmp_path / "x.jpg")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="broken.png"):
        read_label_map(tmp_path / "broken.png")


def test_read_without_pillow_uses_opencv(tmp_path, monkeypatch):
    import cv2
    lab = np.arange(12, dtype=np.uint8).reshape(3, 4)
    cv2.imwrite(str(tmp_path / "g.png"), lab)
    lab16 = (np.arange(12, dtype=np.uint16) * 1000).reshape(3, 4)
    cv2.imwrite(str(tmp_path / "g16.png"), lab16)
    cv2.imwrite(str(tmp_path / "c.png"), np.zeros((3, 4, 3), np.uint8))
    write_label_map(tmp_path / "p.png", lab, np.zeros((12, 3), np.uint8))
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` now fails
    assert np.array_equal(read_label_map(tmp_path / "g.png"), lab)
    assert np.array_equal(read_label_map(tmp_path / "g16.png"), lab16)
    with pytest.raises(ValueError, match=r"c\.png.*3-channel colour PNG"):
        read_label_map(tmp_path / "c.png")
    with pytest.raises(ValueError, match=r"p\.png.*palette PNGs need Pillow"):
        read_label_map(tmp_path / "p.png")
