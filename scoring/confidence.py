"""How sure is each final rank? A paired bootstrap over the private rows.

Every team's final prediction is scored on the same resampled rows (clusters resampled whole),
1,000 seeded replicates by default. For each team: the 95% interval of its rank over the
replicates; for each adjacent pair (rank r and r + 1): how often r beats r + 1, P(r beats r + 1)
(ties count half) and the Bayes factor #(r beats) / #(r + 1 beats) (ties split evenly); the pair is
"statistically tied" when that factor is below 3 (the DREAM challenges' rule).
Same inputs and seed, same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from scoring.bootstrap import replicate_scores
from scoring.tasks import Task

__all__ = ["rank_confidence", "TIED_BELOW", "DEFAULT_REPLICATES"]

Array = np.ndarray
TIED_BELOW = 3.0
DEFAULT_REPLICATES = 1000


def rank_confidence(task: Task, y_true: Array, predictions: Sequence[Array], *, groups: Array | None = None,
                    clusters: Array | None = None, replicates: int = DEFAULT_REPLICATES,
                    seed: str | int = 0) -> list[dict[str, Any]]:
    """Return one dict per prediction, given in final-rank order (rank 1 first).

    Keys: rank, rank_low, rank_high (95% interval), and against the next team (None for the
    last): wins_next, losses_next, p_beats_next, bayes_factor_next (None when infinite),
    tied_with_next.
    """
    if not predictions:
        return []
    scores = replicate_scores(task, y_true, predictions, groups=groups, clusters=clusters,
                              replicates=replicates, seed=seed)
    key = -scores if task.get_metric().greater_is_better else scores  # lower key ranks first
    # A matrix product sums in an order that depends on the column's position, so identical
    # predictions can differ in the last bits: scores within 1e-9 (relative) are equal.
    finite = np.abs(key[np.isfinite(key)])
    step = 1e-9 * max(1.0, float(finite.max()) if finite.size else 1.0)
    key = np.round(key / step)
    order = np.argsort(key, axis=1, kind="stable")  # replicate ties go to the better final rank
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, len(predictions) + 1)[None, :].repeat(replicates, 0), axis=1)
    ranks.sort(axis=0)
    low_at = int(math.floor(0.025 * replicates))
    high_at = max(int(math.ceil(0.975 * replicates)) - 1, low_at)
    out: list[dict[str, Any]] = []
    for t in range(len(predictions)):
        entry: dict[str, Any] = {"rank": t + 1, "rank_low": int(ranks[low_at, t]), "rank_high": int(ranks[high_at, t]),
                                 "wins_next": None, "losses_next": None, "p_beats_next": None,
                                 "bayes_factor_next": None, "tied_with_next": None}
        if t + 1 < len(predictions):
            wins = int(np.count_nonzero(key[:, t] < key[:, t + 1]))
            losses = int(np.count_nonzero(key[:, t] > key[:, t + 1]))
            ties = replicates - wins - losses
            against = losses + ties / 2
            factor = None if against == 0 else (wins + ties / 2) / against
            entry.update(wins_next=wins, losses_next=losses, p_beats_next=(wins + ties / 2) / replicates,
                         bayes_factor_next=factor, tied_with_next=factor is not None and factor < TIED_BELOW)
        out.append(entry)
    return out
