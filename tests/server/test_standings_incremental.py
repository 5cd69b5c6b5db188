"""A scored submission updates its team's standing from the stored best (no recount of the team's
submissions): the row must equal the full recount, in any scoring order, and the boards' version
must move whenever the board or its chart may show something new."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.models import Competition, Submission, Team, TeamStanding
from server.services.board_version import board_token
from server.services.boards import build_boards
from server.services.leaderboard import public_board, refresh_standing
from server.services.progress import best_score_history
from server.services.scoring_jobs import run_scoring
from tests.server.conftest import Env, tiny_predictions

# Near-ties at precision 4 (0.20001 and 0.19999 both show 0.2: the best is often a tie), a rejected file (None).
OFFSETS = [0.2, 0.20001, 0.19999, 0.2, 0.3, 0.29999, 0.5, None]


def _standings(env: Env, comp_id: int) -> dict[int, tuple[object, ...]]:
    with env.rt.session() as session:
        rows = session.execute(sa.select(TeamStanding).where(TeamStanding.competition_id == comp_id)).scalars()
        return {s.team_id: (s.best_submission_id, s.best_score, s.sort_key, s.best_received_at, s.entries,
                            s.last_submission_at) for s in rows}


def _recounted(env: Env, comp_id: int) -> dict[int, tuple[object, ...]]:
    """The standings refresh_standing computes from every submission (rolled back, not kept)."""
    with env.rt.session() as session:
        comp = session.get_one(Competition, comp_id)
        for team_id in session.execute(sa.select(TeamStanding.team_id)
                                       .where(TeamStanding.competition_id == comp_id)).scalars().all():
            refresh_standing(session, comp, team_id)
        session.flush()
        rows = session.execute(sa.select(TeamStanding).where(TeamStanding.competition_id == comp_id)).scalars()
        out = {s.team_id: (s.best_submission_id, s.best_score, s.sort_key, s.best_received_at, s.entries,
                           s.last_submission_at) for s in rows}
        session.rollback()
        return out


def _chart(env: Env, comp_id: int) -> list[dict[str, object]]:
    with env.rt.session() as session:
        comp = session.get_one(Competition, comp_id)
        teams = {row.id: row.name for row in session.execute(sa.select(Team.id, Team.name))}
        return best_score_history(session, comp, teams)


def test_scoring_in_any_order_keeps_standings_equal_to_a_recount(env: Env) -> None:
    rng = random.Random(10)
    env.competition(daily_limit=1000, precision=4)
    tokens = [env.team(f"Team {t}") for t in range(4)]
    start = env.now
    ids = []
    for n in range(36):
        # Receipt ties (same second) make the id decide, as the ranking rule says.
        env.set_now(start + timedelta(seconds=n // 6))
        offset = rng.choice(OFFSETS)
        data = b"id,y\nT000,abc\n" if offset is None else tiny_predictions(offset, rng.random())
        reply = env.upload(rng.choice(tokens), data)
        assert reply.status_code == 202, reply.json
        ids.append(reply.json["id"])
    with env.rt.session() as session:
        comp_id = session.execute(sa.select(Competition.id).where(Competition.slug == "tiny")).scalar_one()
    rng.shuffle(ids)  # workers finish in any order: a later upload is often scored first
    bumps = 0
    for sub_id in ids:
        token, chart, board = board_token(env.rt, comp_id), _chart(env, comp_id), _standings(env, comp_id)
        assert run_scoring(env.rt, sub_id) in ("scored", "rejected")
        assert _standings(env, comp_id) == _recounted(env, comp_id)
        if _chart(env, comp_id) != chart or _standings(env, comp_id) != board:
            assert board_token(env.rt, comp_id) != token, f"the boards' version stayed after {sub_id}"
            bumps += 1
    with env.rt.session() as session:
        comp = session.get_one(Competition, comp_id)
        assert session.execute(sa.select(sa.func.count()).select_from(Submission)
                               .where(Submission.status == "rejected")).scalar_one() > 0
        live = [(e["rank"], e["team"], e["score"], e["submission_id"]) for e in public_board(session, comp)]
        built = [(e["rank"], e["team"], e["score"], e["submission_id"]) for e in build_boards(session, comp).public]
    assert live == built and len(live) == 4
    assert 0 < bumps < len(ids)  # not every result changes what the boards show


def test_uploads_between_results_keep_standings_equal_to_a_recount(env: Env) -> None:
    """An upload adds one entry to its team's row (no recount either): uploads and results
    interleaved, as at a deadline, leave every row equal to the full recount, and every upload
    gives the boards a new version (entries and the last submission are shown)."""
    rng = random.Random(11)
    env.competition(daily_limit=1000, precision=4)
    tokens = [env.team(f"Team {t}") for t in range(3)]
    start = env.now
    with env.rt.session() as session:
        comp_id = session.execute(sa.select(Competition.id).where(Competition.slug == "tiny")).scalar_one()
    waiting: list[str] = []
    for n in range(40):
        if waiting and rng.random() < 0.4:
            assert run_scoring(env.rt, waiting.pop(rng.randrange(len(waiting)))) in ("scored", "rejected")
        else:
            env.set_now(start + timedelta(seconds=n // 3))  # receipt ties too
            offset = rng.choice(OFFSETS)
            token = board_token(env.rt, comp_id)
            reply = env.upload(rng.choice(tokens), b"id,y\nT000,abc\n" if offset is None
                               else tiny_predictions(offset, rng.random()))
            assert reply.status_code == 202, reply.json
            waiting.append(reply.json["id"])
            assert board_token(env.rt, comp_id) != token, "an upload left the boards' version as it was"
        assert _standings(env, comp_id) == _recounted(env, comp_id)
    assert {row[4] for row in _standings(env, comp_id).values()} != {1}  # teams uploaded many times


def test_an_upload_tells_redis_its_job_board_and_arrival_in_one_round_trip(env: Env,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """After the commit an upload sends its job, the boards' new version and the removal of its
    in-flight entry together (was four round trips, one of them RQ asking the server's version on
    a new Queue object per upload); each is there afterwards."""
    from redis.connection import AbstractConnection

    from server.queue import job_id

    env.competition()
    assert env.rt.queue is env.rt.queue
    with env.rt.session() as session:
        comp_id = session.execute(sa.select(Competition.id).where(Competition.slug == "tiny")).scalar_one()
    env.upload(env.team("Warmup"), tiny_predictions(0.4))  # first use: connections, RQ's version query
    token = board_token(env.rt, comp_id)
    sent: list[list[str]] = []
    send = AbstractConnection.send_packed_command

    def recording(self: AbstractConnection, packed: object, *args: object, **kwargs: object) -> None:
        raw = b"".join(packed) if isinstance(packed, list) else bytes(packed)  # type: ignore[call-overload]
        sent.append(re.findall(r"\r\n([A-Z]{3,})\r\n", raw.decode("latin-1")))
        send(self, packed, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AbstractConnection, "send_packed_command", recording)
    reply = env.upload(env.team("Alpha"), tiny_predictions(0.5))
    monkeypatch.undo()
    assert reply.status_code == 202
    # The in-flight entry's registration, then everything after the commit.
    assert [commands[:4] for commands in sent] == [["MULTI", "HSET", "EXPIRE", "EXEC"], ["MULTI", "SET", "HDEL", "SADD"]]
    assert job_id(reply.json["id"]) in env.rt.queue.job_ids
    assert board_token(env.rt, comp_id) != token
    assert env.rt.redis.hlen(f"hackathon:{env.rt.config['QUEUE_NAME']}:inflight:{comp_id}") == 0


def test_a_recount_waits_for_an_upload_of_its_team(env: Env) -> None:
    """PostgreSQL: a recount (a rejected result, say) that starts while an upload of the same team
    is between its insert and its commit must count that upload; else its stale count would stay,
    since uploads add to the stored row instead of recounting. (SQLite's writers are serial.)"""
    import threading

    from server.db import LockKey
    from server.services.leaderboard import standing_after_upload

    if env.rt.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time; the race needs two")
    env.competition(daily_limit=100)
    token = env.team("Alpha")
    first = env.upload(token, tiny_predictions(0.5)).json["id"]
    with env.rt.session() as session:
        comp = session.execute(sa.select(Competition).where(Competition.slug == "tiny")).scalar_one()
        model = session.get_one(Submission, first)
        team_id, sha, size = model.team_id, model.sha256, model.bytes
    inserted, recounted = threading.Event(), threading.Event()

    def upload() -> None:  # what accept_submission does in its transaction, held open a while
        with env.rt.write(LockKey.TEAM_UPLOAD, comp.id, team_id) as session:
            sub = Submission(competition_id=comp.id, team_id=team_id, status="queued", received_at=env.now,
                             sha256=sha, bytes=size, attempts=0)
            session.add(sub)
            session.flush()
            standing_after_upload(session, session.get_one(Competition, comp.id), sub)
            inserted.set()
            recounted.wait(1.0)  # the recount below is blocked meanwhile (or, without its lock, done)

    def recount() -> None:  # the first file's result: rejected, so the team's count goes down by one
        inserted.wait(10)
        with env.rt.write() as session:
            session.get_one(Submission, first).status = "rejected"
            refresh_standing(session, session.get_one(Competition, comp.id), team_id)
        recounted.set()

    threads = [threading.Thread(target=upload), threading.Thread(target=recount)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert _standings(env, comp.id) == _recounted(env, comp.id)
    assert _standings(env, comp.id)[team_id][4] == 1  # the upload's entry; without the lock, 0
