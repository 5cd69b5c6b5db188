"""services.ranking owns the ranking rule; the live board, the freeze's builder and verify agree."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from server.models import Competition, Submission, Team
from server.services.boards import build_boards
from server.services.leaderboard import public_board, refresh_standing
from server.services.ranking import best, rank_key, ranked, shown, sort_key
from tests.server.conftest import Env

T0 = datetime(2026, 8, 1, tzinfo=UTC)


@dataclass
class Rules:
    precision: int = 4
    greater_is_better: bool = False


@dataclass
class Item:
    id: str
    score: float | None
    at: datetime


def _order(rules: Rules, items: list[Item]) -> list[str]:
    return [i.id for _, i in ranked([i for i in items if i.score is not None],
                                   key=lambda i: rank_key(rules, i.score, i.at, i.id))]


def test_scores_are_shown_and_ranked_at_the_competition_precision() -> None:
    assert shown(Rules(precision=4), 0.123456) == 0.1235
    assert shown(Rules(precision=0), 2.5) == 2.0  # Python rounds half to even, the same everywhere
    assert shown(Rules(), None) is None
    # 0.30001 and 0.29999 both show 0.3000: equal for ranking, so the earlier one wins.
    items = [Item("late", 0.29999, T0 + timedelta(seconds=5)), Item("early", 0.30001, T0)]
    assert _order(Rules(precision=4), items) == ["early", "late"]
    assert _order(Rules(precision=5), items) == ["late", "early"]  # distinct at 5 decimals


def test_direction_follows_the_metric() -> None:
    items = [Item("low", 0.1, T0), Item("high", 0.9, T0 + timedelta(seconds=1))]
    assert _order(Rules(greater_is_better=False), items) == ["low", "high"]
    assert _order(Rules(greater_is_better=True), items) == ["high", "low"]
    assert sort_key(Rules(greater_is_better=True), 0.9) == -0.9


def test_ties_go_to_the_earliest_then_the_lower_id() -> None:
    items = [Item("b", 0.5, T0), Item("a", 0.5, T0), Item("c", 0.5, T0 - timedelta(seconds=1))]
    for greater in (False, True):
        assert _order(Rules(greater_is_better=greater), items) == ["c", "a", "b"]
    assert [rank for rank, _ in ranked(items, key=lambda i: rank_key(Rules(), i.score, i.at, i.id))] == [1, 2, 3]


def test_minus_zero_is_zero_when_shown_and_when_ranked() -> None:
    for greater in (False, True):
        rules = Rules(precision=3, greater_is_better=greater)
        assert str(shown(rules, -0.0001)) == "0.0"
        assert str(sort_key(rules, -0.0001)) == "0.0" and str(sort_key(rules, 0.0)) == "0.0"
        # -0.0001 and 0.0 both show 0.000: a tie, so the earlier one wins in either direction.
        items = [Item("zero", 0.0, T0 + timedelta(seconds=1)), Item("minus", -0.0001, T0)]
        assert _order(rules, items) == ["minus", "zero"]


def test_best_skips_unscored_items() -> None:
    items = [Item("none", None, T0), Item("x", 0.2, T0 + timedelta(seconds=1)), Item("y", 0.1, T0)]
    assert best(Rules(), items, lambda i: i.score, lambda i: i.at, lambda i: i.id).id == "y"  # type: ignore[union-attr]
    assert best(Rules(), [items[0]], lambda i: i.score, lambda i: i.at, lambda i: i.id) is None


def test_live_board_and_final_builder_rank_alike(env: Env) -> None:
    """The live board (stored sort keys ordered in SQL) and the builder used by freeze and verify
    (rank keys sorted in Python) give the same order on ties, near-ties, -0.0 and both directions."""
    rng = random.Random(7)
    scores = [0.0, -0.0, -0.00004, 0.00004, 0.30001, 0.29999, 0.3, 1.23456, 1.23455, 2.5, 1e-9]
    for greater in (False, True):
        slug = "tiny-up" if greater else "tiny-down"
        env.competition(slug, precision=4)
        with env.rt.write() as session:
            comp = session.execute(sa.select(Competition).where(Competition.slug == slug)).scalar_one()
            comp.greater_is_better = greater
            teams = []
            for t in range(12):
                team = Team(name=f"{slug}-{t}", eligible=True, created_at=T0)
                session.add(team)
                teams.append(team)
            session.flush()
            for n in range(60):
                team = rng.choice(teams)
                session.add(Submission(
                    id=f"s{n:03d}{'u' if greater else 'd'}", competition_id=comp.id, team_id=team.id,
                    status="scored", received_at=T0 + timedelta(seconds=rng.choice([0, 1, 2])),
                    sha256="0" * 64, bytes=1, public_score=rng.choice(scores), private_score=rng.choice(scores)))
            session.flush()
            for team in teams:
                refresh_standing(session, comp, team.id)
        with env.rt.session() as session:
            comp = session.execute(sa.select(Competition).where(Competition.slug == slug)).scalar_one()
            live = [(e["rank"], e["team"], e["score"], e["submission_id"]) for e in public_board(session, comp)]
            built = [(e["rank"], e["team"], e["score"], e["submission_id"]) for e in build_boards(session, comp).public]
        assert live == built and len(live) >= 10
