"""DVC stage `search`: poses/parsing/masks.h5 -> pseudo.h5 + search_report.json (SPEC 4)."""
from __future__ import annotations

from pathlib import Path

from pipeline.artifacts import PREPARED_DIR, artifact_path
from pipeline.cli import run_stage
from pipeline.config import load_params
from pipeline.evaluation.search_report import search_report
from pipeline.search.stage import search_stage

#: Finished blocks of an interrupted search (not a DVC output: DVC would delete it on rerun).
CACHE_ROOT = Path("data/cache/search")
#: The DVC metric of the stage (tracked by git, so `dvc exp show` and `dvc metrics diff` see it).
REPORT = Path("eval/search_report.json")


def main() -> None:
    params = load_params()
    s = search_stage(params.search, PREPARED_DIR, artifact_path("pseudo"),
                     PREPARED_DIR / "pseudo.summary.json", CACHE_ROOT)
    print(f"search: {s['with_target']} of {s['train']} training images got a pseudo target; "
          f"{s['pairs_evaluated']} pairs at {s['pairs_per_second']:.0f} pairs/s")
    root = Path(params.data.root) if params.data.source == "synthetic" else None
    r = search_report(artifact_path("pseudo"), artifact_path("images"), root,
                      REPORT)
    if "search" in r:
        print(f"search report: mean IoU of S*_Pt vs the oracle {r['search']['mean_iou']} "
              f"(random candidate: {r['random_candidate']['mean_iou']})")


if __name__ == "__main__":
    run_stage("search", main)
