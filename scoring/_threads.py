"""Run two pieces of numpy or pyarrow work at once: both release the GIL, so two cores help.

A thread is made per call: a pool made before an RQ worker forks its work horse would not
survive the fork. On a one-core machine, or for small work, everything runs in the caller.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["both", "parallel", "single_threaded"]

A = TypeVar("A")
B = TypeVar("B")


_single = False


def single_threaded() -> None:
    """Keep this process's scoring on one thread: helper threads and pyarrow's parsing threads.

    For a scoring worker, one of as many processes as cores: at a deadline every core already
    runs a worker, and threads of its own only compete with the others (measured on 2 cores with
    the antenna file: one worker 36 → 38 files/s, at 1.0 core instead of 1.1).
    """
    global _single
    _single = True


def parallel() -> bool:
    """Return whether a second thread can run on another core (and this process may use one)."""
    return not _single and (os.cpu_count() or 1) >= 2


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """Return (first(), second()), running second in another thread; its exception is re-raised here."""
    if not parallel():
        return first(), second()
    out: list[B] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            out.append(second())
        except BaseException as exc:  # handed to the caller below
            error.append(exc)

    thread = threading.Thread(target=run, name="scoring-helper", daemon=True)
    thread.start()
    try:
        result = first()
    finally:
        thread.join()
    if error:
        raise error[0]
    return result, out[0]
