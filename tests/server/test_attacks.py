"""Leaderboard attacks through the real API and a real worker, with fixed seeds: they work on
`exact` and fail on `ladder`, while an honest sequence of better models still climbs the ladder.

- Boosting (Blum & Hardt 2015): submit k random label vectors, keep the ones that scored above
  chance (flip the others), submit their majority: public accuracy with no model.
- Single-row probe: change one row of a base file; a changed score tells that the row is public
  and, by its direction, its label.
- Log-loss batch decode (Whitehill 2017): move 5 rows' probabilities slightly off 0.5 by amounts in
  powers of 4; the exact public log loss then spells out which rows are public and their labels.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
import pytest

from server.services.competitions import CompetitionSettings, create_competition
from tests.server.conftest import Env

BINARY_TASK = """
[task]
slug = "{slug}"
title_ko = "공격 시험"
title_en = "Attack test"
id_column = "id"

[metric]
name = "{metric}"

[[targets]]
name = "y"
kind = "{kind}"
{classes}
"""


def _competition(env: Env, slug: str, metric: str, rows: int, mode: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Create a binary competition with seeded labels (Usage: half public); return (labels, public mask)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    public = rng.random(rows) < 0.5
    kind, classes = ("probability", "") if metric == "log_loss" else ("class", 'classes = ["0", "1"]')
    folder = env.tmp / f"task-{slug}"
    folder.mkdir()
    (folder / "task.toml").write_text(BINARY_TASK.format(slug=slug, metric=metric, kind=kind, classes=classes),
                                      encoding="utf-8")
    lines = ["id,y,Usage"] + [f"R{i:05d},{y[i]},{'Public' if public[i] else 'Private'}" for i in range(rows)]
    (folder / "labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = CompetitionSettings(start=(env.now - timedelta(days=1)).isoformat(),
                                   end=(env.now + timedelta(days=7)).isoformat(), daily_limit=1000,
                                   precision=6, public_feedback=mode)
    create_competition(env.rt, actor="test", task_dir=folder, labels_file=folder / "labels.csv", slug=slug,
                       settings=settings, split_seed="attack")
    _LABELS[slug] = (y, public)
    return y, public


_LABELS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _labels_of(slug: str) -> tuple[np.ndarray, np.ndarray]:
    return _LABELS[slug]


def _csv(values: np.ndarray, fmt: str = "{}") -> bytes:
    return ("id,y\n" + "".join(f"R{i:05d},{fmt.format(v)}\n" for i, v in enumerate(values))).encode()


def _submit_all(env: Env, token: str, slug: str, files: list[bytes]) -> list[dict]:
    """Upload in order (one second apart), score them all, return the team's view in order."""
    for data in files:
        assert env.upload(token, data, slug=slug).status_code == 202
        env.advance(seconds=1)
    env.work()
    subs = env.get(f"/api/v1/competitions/{slug}/submissions", token).get_json()["submissions"]
    assert [s["status"] for s in subs] == ["scored"] * len(files)
    return subs


def _boosting_gain(env: Env, mode: str) -> float:
    slug = f"boost-{mode}"
    y, public = _competition(env, slug, "accuracy_score", 3000, mode, seed=1)
    vectors = np.random.default_rng(2).integers(0, 2, (80, len(y)))
    subs = _submit_all(env, env.team(f"booster-{mode}"), slug, [_csv(v) for v in vectors])
    if mode == "exact":
        # Keep the vectors that scored above chance, flip the others, and take the majority.
        signed = np.array([v if s["public_score"] > 0.5 else 1 - v for v, s in zip(vectors, subs, strict=True)])
        final = (signed.mean(axis=0) > 0.5).astype(int)
    else:
        # All the Ladder says is which submissions improved: take their majority (or the last one).
        kept = vectors[[s["ladder"] == "improved" for s in subs]]
        final = (kept.mean(axis=0) > 0.5).astype(int) if len(kept) >= 3 else kept[-1]
    return float((final[public] == y[public]).mean() - 0.5)


def test_boosting_attack_gains_on_exact_and_not_on_ladder(env: Env) -> None:
    if env.rt.config["DATABASE_URL"].startswith("postgresql"):
        # 160 uploads: once is enough; the Ladder's database path runs on PostgreSQL in the tests below.
        pytest.skip("the boosting attack runs on SQLite only (its 160 uploads test the rule, not the database)")
    assert _boosting_gain(env, "exact") > 0.05
    assert _boosting_gain(env, "ladder") < 0.04


def _probe(env: Env, mode: str) -> tuple[float, int, float]:
    """Return (share of probed rows identified right, public labels learned, public fraction)."""
    slug = f"probe-{mode}"
    y, public = _competition(env, slug, "accuracy_score", 400, mode, seed=3)
    probed = list(range(20))
    base = np.zeros(len(y), dtype=int)
    files = [_csv(base)]
    for i in probed:
        one = base.copy()
        one[i] = 1
        files.append(_csv(one))
    subs = _submit_all(env, env.team(f"prober-{mode}"), slug, files)
    key = "public_score" if mode == "exact" else "ladder_score"
    before = subs[0][key]
    right, learned = 0, 0
    for i, sub in zip(probed, subs[1:], strict=True):
        after = sub[key]
        guess_public = after is not None and before is not None and after != before
        guess_label = 1 if guess_public and after > before else 0
        if guess_public and public[i] and guess_label == y[i]:
            right += 1
            learned += 1
        elif not guess_public and not public[i]:
            right += 1
    return right / len(probed), learned, float(public[probed].mean())


def test_single_row_probe_reads_rows_on_exact_and_nothing_on_ladder(env: Env) -> None:
    share, learned, fraction = _probe(env, "exact")
    assert share >= 0.9 and learned > 0
    share, learned, fraction = _probe(env, "ladder")
    assert learned == 0
    assert share <= max(fraction, 1 - fraction)  # what always answering "private" gets: no information


BATCH = 5
DELTAS = 1.5e-4 * 4.0 ** np.arange(BATCH)  # each row's distance from 0.5: the sums stay distinct


def _decode(observed_excess: float) -> tuple[int, ...]:
    """The states (0 private, 1 public with label 1, 2 public with label 0) whose loss fits best."""
    p = 0.5 + DELTAS
    gain = {1: -np.log(2 * p), 2: -np.log(2 * (1 - p))}
    best = min(itertools.product((0, 1, 2), repeat=BATCH),
               key=lambda states: abs(sum(gain[s][j] for j, s in enumerate(states) if s) - observed_excess))
    return best


def _logloss_decode(env: Env, mode: str) -> tuple[int, int]:
    """Return (public rows whose label was decoded right, rows decoded) over 5 batches."""
    slug = f"decode-{mode}"
    y, public = _competition(env, slug, "log_loss", 200, mode, seed=4)
    n_public = env.get(f"/api/v1/competitions/{slug}").get_json()["public_rows"]
    base = np.full(len(y), 0.5)
    files = [_csv(base, "{:.6f}")]
    for b in range(5):
        probe = base.copy()
        probe[b * BATCH:(b + 1) * BATCH] = 0.5 + DELTAS
        files.append(_csv(probe, "{:.6f}"))
    subs = _submit_all(env, env.team(f"decoder-{mode}"), slug, files)
    key = "public_score" if mode == "exact" else "ladder_score"
    base_value = subs[0][key]  # log(2) as shown: the attacker reads each batch's change from it
    right = decoded = 0
    for b, sub in enumerate(subs[1:]):
        value = sub[key]
        states = _decode(n_public * (value - base_value))
        for j, s in enumerate(states):
            i = b * BATCH + j
            truth = 0 if not public[i] else (1 if y[i] == 1 else 2)
            decoded += 1
            right += int(s == truth and s != 0)
    return right, decoded


def test_log_loss_decode_recovers_labels_on_exact_and_nothing_on_ladder(env: Env) -> None:
    right, decoded = _logloss_decode(env, "exact")
    _, public = _labels_of("decode-exact")
    assert decoded == 25 and right == int(public[:25].sum())  # every public row's label, and which are public
    right_ladder, _ = _logloss_decode(env, "ladder")
    assert right_ladder == 0  # the Ladder value never moved: nothing to decode


def test_an_honest_improving_sequence_climbs_the_ladder(env: Env) -> None:
    slug = "honest-ladder"
    y, _ = _competition(env, slug, "accuracy_score", 2000, "ladder", seed=5)
    rng = np.random.default_rng(6)
    files = []
    for error in (0.4, 0.3, 0.2, 0.1):  # a better model each time: fewer wrong rows
        wrong = rng.random(len(y)) < error
        files.append(_csv(np.where(wrong, 1 - y, y)))
    subs = _submit_all(env, env.team("honest"), slug, files)
    assert [s["ladder"] for s in subs] == ["improved"] * 4
    scores = [s["ladder_score"] for s in subs]
    assert scores == sorted(scores) and scores[-1] == pytest.approx(0.9, abs=0.02)
    board = env.get(f"/api/v1/competitions/{slug}/leaderboard").get_json()["entries"]
    assert board[0]["score"] == scores[-1]
