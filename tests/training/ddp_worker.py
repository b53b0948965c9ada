"""One rank of the 2-process DDP test (started as one of two ranks by tests/training/test_ddp.py).

Trains the semantic scheme on FakePairs with the stage's own builder and loop; rank 0 writes
the checkpoint; every rank saves its final weights and the items it drew to OUT/rank<r>.pt.
With a second argument ``curves``, every rank passes learning curves (mIoU on 6 held-out fake
pairs every 3 steps) to the loop and saves their points too (only rank 0 scores).
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from pipeline.torch_utils.distributed import cleanup, init_distributed
from pipeline.torch_utils.misc import set_deterministic
from pipeline.training.curves import Curves
from pipeline.training.loop import LoopConfig, train
from pipeline.training.semantic.curves import MapCurveScorer
from tests.training.fakes import FakePairs, semantic_training, tiny_params


def main(out: Path, with_curves: bool = False) -> None:
    torch.set_num_threads(1)
    set_deterministic(True)
    dist = init_distributed("cpu")
    sp = tiny_params(batch_size=4, iterations=6, checkpoint_every=4)
    tr = semantic_training(sp, dist, FakePairs(12))
    seen = [int(i) for e in range(2) for i in tr.sampler.epoch_indices(e)]
    curves = (Curves(MapCurveScorer(tr.scheme.predict, FakePairs(6, seed=1)), every=3)
              if with_curves else None)
    res = train(tr.scheme, tr.loader, tr.sampler,
                LoopConfig(iterations=sp.iterations, log_every=2, checkpoint_every=4,
                           checkpoint=out / "checkpoint.pt", digest="ddp", progress=False),
                curves=curves)
    torch.save({"generator": tr.scheme.generator.state_dict(),
                "discriminator": tr.scheme.discriminator.state_dict(),
                "items": seen, "history": res.history.values, "world": dist.world_size,
                "curves": curves.state_dict() if curves is not None else None},
               out / f"rank{dist.rank}.pt")
    # free the DDP wrappers while the process group lives (as the stage does): a reducer
    # that outlives destroy_process_group frees the group itself, and gloo's destructor can
    # then deadlock on the GIL with its own run-loop thread (seen at exit, ~1 run in 4)
    del tr, curves
    cleanup()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:] == ["curves"])
