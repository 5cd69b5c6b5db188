"""The ranking rule, in one place: live boards, the freeze's snapshot and `verify` all use it.

A score is shown and ranked rounded to the competition's precision; the better direction comes
from the metric; equal shown scores go to the submission received first, then to the lower id.
Ranks are 1, 2, 3... with no shared places (the tie-break always decides).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol, TypeVar

__all__ = ["Rules", "shown", "sort_key", "rank_key", "best", "ranked"]

T = TypeVar("T")


class Rules(Protocol):
    """What ranking needs of a competition (a Competition row has both)."""

    precision: int
    greater_is_better: bool


def shown(rules: Rules, score: float | None) -> float | None:
    """The score as displayed and ranked: rounded to the competition's precision."""
    # + 0.0 turns a rounded -0.0 into 0.0, which people read better.
    return None if score is None else round(score, rules.precision) + 0.0


def sort_key(rules: Rules, score: float) -> float:
    """Ascending order ranks: the shown score, negated when greater is better.

    Stored as TeamStanding.sort_key so the live public board is an index-ordered read.
    """
    value = round(score, rules.precision) + 0.0
    return -value + 0.0 if rules.greater_is_better else value


def rank_key(rules: Rules, score: float, received_at: datetime, submission_id: str) -> tuple[Any, ...]:
    """The full order: shown score in the better direction, then received first, then id.

    The live public board orders by the same columns in SQL (sort_key, best_received_at,
    best_submission_id); tests/server/test_ranking.py checks both orders agree.
    """
    return (sort_key(rules, score), received_at, submission_id)


def best(rules: Rules, items: Iterable[T], score: Callable[[T], float | None],
         received_at: Callable[[T], datetime], submission_id: Callable[[T], str]) -> T | None:
    """The best-ranked item that has a score, or None."""
    keyed = [(rank_key(rules, s, received_at(i), submission_id(i)), i) for i in items if (s := score(i)) is not None]
    return min(keyed, key=lambda pair: pair[0])[1] if keyed else None


def ranked(items: Iterable[T], key: Callable[[T], tuple[Any, ...]]) -> list[tuple[int, T]]:
    """Sort by `key` (a rank_key, possibly extended) and number from 1."""
    return list(enumerate(sorted(items, key=key), start=1))
