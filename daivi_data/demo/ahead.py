"""Work one step ahead: compute the next month's (or day's) rows while the caller writes the current ones.

A build alternates between generating rows (numpy) and writing them (a DuckDB
COPY); both release the GIL for most of their time, so a background thread that
generates step N+1 while the writer encodes step N keeps both cores busy. The
steps are pure functions of their arguments (each seeds its own random stream),
so the rows, and the files, are the same as when computed in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")


class Ahead(Generic[T]):
    """`compute(*args)`, with the call that `next_args(args)` predicts started in the background (None: no next)."""

    def __init__(self, compute: Callable[..., T], next_args: Callable[[tuple], tuple | None]) -> None:
        self._compute = compute
        self._next_args = next_args
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-ahead")
        self._pending: tuple[tuple, Future[T]] | None = None

    def __call__(self, *args) -> T:
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] == args:
            result = pending[1].result()  # raises what the background call raised
        else:
            if pending is not None:
                pending[1].cancel()  # a mispredicted step: wasted work, never a wrong result
            result = self._compute(*args)
        following = self._next_args(args)
        if following is not None:
            self._pending = (following, self._pool.submit(self._compute, *following))
        return result
