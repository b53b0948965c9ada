"""Does G_A use its source photo, and does it hide it in its generated image? A probe of the
unsupervised cycle.

    python bench/cycle_probe.py                       # the repository's models/
    python bench/cycle_probe.py --root /tmp/run-e2e   # a project root with data/ and models/

The cycle I_s -> I~_Pt -> I~_Ps trains G_A with losses on I~_Ps against I_s (content, and
the pixel L1 when ``loss.cycle_l1`` > 0) and weak ties of I~_Pt to the source (style Grams,
adversarial). One generator that goes both ways can then satisfy the cycle by writing the
source's colours into I~_Pt as a faint code that it reads back on the way back, while I~_Pt
itself shows other colours: the "steganography" of CycleGAN (Chu, Zhmoginov & Sandler, "CycleGAN,
a Master of Steganography", NIPS 2017 workshop). This script measures it on the held-out test
pairs (whose true targets exist), for the trained models of a project root:

- ``L1 target``: mean |I~_Pt - I_t| in [0, 1] units (the generated image against the true
  target photo), and
  the same for the part warp (a reference that needs no learning);
- ``L1 cycle``: mean |I~_Ps - I_s| (the reconstruction);
- ``L1 cycle, noise s``: the reconstruction when I~_Pt gets Gaussian noise of sd ``s`` (in
  [-1, 1] units; 0.02 is about 2.5 grey levels of 255) before the way back, and
  ``L1 cycle, 8-bit``: I~_Pt rounded to 8 bits as a PNG stores it.
- ``source dependence, grey`` / ``, other photo``: mean |I~_Pt - I~_Pt'| where I~_Pt' is
  rendered for the same poses and maps from a grey source image, or from another test pair's
  source photo (the batch rolled by one): how much G_A's output depends on its source photo
  at all;
- the mean colour (RGB in [0, 1]) inside the target's person mask of I_t, I~_Pt and I_s, and of
  the person inside the source's mask of I~_Ps.

A hidden code shows as a reconstruction much closer to I_s than I~_Pt is to I_t, that falls
apart under noise that leaves I~_Pt visibly unchanged. A generator that ignores its source
shows as a small source dependence and a reconstruction that noise does not change at all.
Prints a Markdown table; writes nothing.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from pipeline.artifacts.paths import Paths
from pipeline.datasets.appearance import AppearancePairs
from pipeline.datasets.pairs import TestPairDataset
from pipeline.evaluation.references import part_warp_images
from pipeline.inference.trained import TrainedModels
from pipeline.torch_utils.misc import set_deterministic

#: Noise levels of the probe (sd in [-1, 1] units).
NOISE = (0.01, 0.02, 0.05)


def _masked_mean(images: torch.Tensor, masks: torch.Tensor) -> np.ndarray:
    """Mean RGB in [0, 1] of (B, 3, H, W) [-1, 1] images inside (B, 1, H, W) masks."""
    w = masks.expand_as(images)
    return (((images + 1) / 2 * w).sum((0, 2, 3)) / w.sum((0, 2, 3)).clamp(min=1)).numpy()


@torch.no_grad()
def probe(root: Path, batch_size: int = 16, seed: int = 0) -> dict[str, float | list]:
    """The probe's numbers for the models and test pairs of project ``root``."""
    set_deterministic(seed)
    paths = Paths(root)
    models = TrainedModels.load(paths)
    hw, map_hw = models.image_hw, models.map_hw
    ds = AppearancePairs(
        TestPairDataset(paths.prepared, hw, hw, cycle=True, sigma=models.image_sigma),
        TestPairDataset(paths.prepared, map_hw, cycle=True, sigma=models.map_sigma)
        if map_hw else None)
    sums: dict[str, float] = {}
    colours: dict[str, list[np.ndarray]] = {k: [] for k in ("target", "generated", "source",
                                                            "reconstruction")}
    n = 0
    gen = torch.Generator().manual_seed(seed)
    for batch in DataLoader(ds, batch_size=batch_size):
        out = models.render(batch, back=True)
        src, tgt = batch["src_image"], batch["tgt_image"]
        fake_t, fake_s = out.fake_t, out.fake_s
        assert fake_s is not None
        b = src.shape[0]
        warp = part_warp_images(batch)
        # L1 in [0, 1] units, as the evaluation reports it: half the [-1, 1] difference
        add = {"L1 target": (fake_t - tgt).abs().mean((1, 2, 3)) / 2,
               "L1 target, part warp": (warp - tgt).abs().mean((1, 2, 3)) / 2,
               "L1 cycle": (fake_s - src).abs().mean((1, 2, 3)) / 2}
        # the way back from a perturbed I~_Pt
        variants = {f"L1 cycle, noise {s}": (fake_t + s * torch.randn(fake_t.shape,
                                                                      generator=gen)).clamp(-1, 1)
                    for s in NOISE}
        variants["L1 cycle, 8-bit"] = torch.round((fake_t + 1) * 127.5) / 127.5 - 1
        for name, image in variants.items():
            back = models.back_from(batch, image, out)
            add[name] = (back - src).abs().mean((1, 2, 3)) / 2
        for name, image in (("source dependence, grey", torch.zeros_like(src)),
                            ("source dependence, other photo", src.roll(1, 0))):
            swapped = models.render({**batch, "src_image": image}).fake_t
            add[name] = (swapped - fake_t).abs().mean((1, 2, 3)) / 2
        for k, v in add.items():
            sums[k] = sums.get(k, 0.0) + float(v.sum())
        tmask, smask = batch["tgt_pose_mask"], batch["src_pose_mask"]
        colours["target"].append(_masked_mean(tgt, tmask) * b)
        colours["generated"].append(_masked_mean(fake_t, tmask) * b)
        colours["source"].append(_masked_mean(src, smask) * b)
        colours["reconstruction"].append(_masked_mean(fake_s, smask) * b)
        n += b
    result: dict[str, float | list] = {k: v / n for k, v in sums.items()}
    for k, v in colours.items():
        result[f"colour {k}"] = [round(float(c), 3) for c in np.sum(v, 0) / n]
    result["pairs"] = n
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=".", help="project root with data/prepared and models/")
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    res = probe(Path(args.root), args.batch_size)
    print(f"{res['pairs']} test pairs, models of {args.root}\n")
    print("| measure | value |\n|---|---|")
    for k, v in res.items():
        if k != "pairs":
            print(f"| {k} | {v if isinstance(v, list) else f'{v:.4f}'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
