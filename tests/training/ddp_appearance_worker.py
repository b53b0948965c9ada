"""One rank of the 2-process DDP test of the appearance scheme (started as one of two ranks by
tests/training/test_ddp.py): the e2e scheme through its joint phase (G_A called twice per step
by the cycle, G_S joining), with the stage's own builder and loop; every rank saves its final
weights to OUT/rank<r>.pt."""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from pipeline.artifacts.paths import Paths
from pipeline.torch_utils.distributed import cleanup, init_distributed
from pipeline.torch_utils.misc import set_deterministic
from pipeline.training.appearance.stage import AppearanceStage
from pipeline.training.loop import LoopConfig, train
from tests.model_fixtures import appearance_params as _params


def main(root: Path, out: Path) -> None:
    torch.set_num_threads(1)
    set_deterministic(True)
    dist = init_distributed("cpu")
    params = _params({"scheme": "e2e", "iterations": 4, "joint_iterations": 2,
                      "batch_size": 4})
    paths = Paths(root)
    stage = AppearanceStage()
    stage.prepare(params, paths)
    tr = stage.build(params, dist, stage.dataset(params, paths))
    res = train(tr.scheme, tr.loader, tr.sampler,
                LoopConfig(iterations=4, log_every=2, progress=False))
    torch.save({k: net.state_dict() for k, net in tr.scheme.networks.items()}
               | {"history": res.history.values}, out / f"rank{dist.rank}.pt")
    del tr, stage          # the DDP wrappers go before the process group (ddp_worker.py)
    cleanup()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
