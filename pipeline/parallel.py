"""Ordered, chunked parallel map with a progress bar (joblib), shared by the per-image stages."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from joblib import Parallel, delayed
from tqdm import tqdm

T = TypeVar("T")


def map_chunks(fn: Callable[..., T], items: Sequence[Any], workers: int, desc: str,
               chunk: int = 64, progress: bool = True, **kwargs: Any) -> Iterator[T]:
    """Yield ``fn(items[i:i + chunk], **kwargs)`` for consecutive chunks, in order.

    Runs ``workers`` joblib processes (loky) when workers > 1, else in this process; chunks
    shrink so that a small input still reaches every worker. The progress bar counts items.
    """
    if workers > 1 and len(items) > 0:
        chunk = max(1, min(chunk, -(-len(items) // workers)))   # every worker gets work
    chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
    bar = tqdm(total=len(items), desc=desc, unit="img", disable=not progress)
    try:
        if workers <= 1 or len(chunks) <= 1:
            for c in chunks:
                yield fn(c, **kwargs)
                bar.update(len(c))
            return
        with Parallel(n_jobs=workers, return_as="generator") as parallel:
            for c, res in zip(chunks, parallel(delayed(fn)(c, **kwargs) for c in chunks)):
                yield res
                bar.update(len(c))
    finally:
        bar.close()
