"""Run two pieces of numpy or pyarrow work at once: both release the GIL, so two cores help.

A thread is made per call: a pool made before an RQ worker forks its work horse would not
survive the fork. On a one-core machine, or for small work, everything runs in the caller.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["both", "parallel"]

A = TypeVar("A")
B = TypeVar("B")


def parallel() -> bool:
    """Return whether a second thread can run on another core."""
    return (os.cpu_count() or 1) >= 2


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
