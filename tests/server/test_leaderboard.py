"""Ranking on the shown (rounded) score, ties to the earliest; final selection and the auto rule."""

from __future__ import annotations

from tests.server.conftest import Env, tiny_predictions


def _submit(env: Env, token: str, offset: float, private_offset: float | None = None) -> str:
    sub_id = env.upload(token, tiny_predictions(offset, private_offset)).json["id"]
    env.advance(seconds=1)
    return sub_id


def test_best_public_score_per_team_and_ties_go_to_the_earliest(env: Env) -> None:
    env.competition(daily_limit=10)  # precision 4, RMSE: lower is better
    alpha, beta, gamma = env.team("Alpha"), env.team("Beta"), env.team("Gamma")
    _submit(env, beta, 0.30001)   # rounds to 0.3000, received first
    _submit(env, alpha, 0.5)
    _submit(env, alpha, 0.29999)  # rounds to 0.3000 too, but later than Beta's
    _submit(env, gamma, 0.1)
    _submit(env, gamma, 0.9)      # a worse later file does not lower Gamma's best
    env.work()
    board = env.get("/api/v1/competitions/tiny/leaderboard?split=public").json["entries"]
    assert [(e["rank"], e["team"], e["score"], e["entries"]) for e in board] == [
        (1, "Gamma", 0.1, 2), (2, "Beta", 0.3, 1), (3, "Alpha", 0.3, 2)]
    assert set(board[0]) == {"rank", "team", "score", "submission_id", "received_at", "entries", "last_submission_at"}


def test_rejected_and_failed_do_not_appear_or_count(env: Env) -> None:
    env.competition()
    alpha = env.team("Alpha")
    env.upload(alpha, b"id,y\n")
    env.work()
    assert env.get("/api/v1/competitions/tiny/leaderboard").json["entries"] == []


def test_selection_defaults_to_the_best_public_scores(env: Env) -> None:
    env.competition(daily_limit=10)
    alpha = env.team("Alpha")
    worst = _submit(env, alpha, 0.9)
    best = _submit(env, alpha, 0.1)
    second = _submit(env, alpha, 0.2)
    env.work()
    auto = env.get("/api/v1/competitions/tiny/selection", alpha).json
    assert auto["mode"] == "auto" and auto["submission_ids"] == [best, second]
    flags = {s["id"]: s["final"] for s in env.get("/api/v1/competitions/tiny/submissions", alpha).json["submissions"]}
    assert flags == {worst: None, best: "auto", second: "auto"}

    put = env.client.put("/api/v1/competitions/tiny/selection", json={"submission_ids": [worst]},
                         headers={"Authorization": f"Bearer {alpha}"})
    assert put.status_code == 200 and put.json["mode"] == "chosen" and put.json["submission_ids"] == [worst]
    assert env.get(f"/api/v1/submissions/{worst}", alpha).json["final"] == "chosen"


def test_selection_rules(env: Env) -> None:
    env.competition(daily_limit=10)
    alpha, beta = env.team("Alpha"), env.team("Beta")
    mine = [_submit(env, alpha, x) for x in (0.1, 0.2, 0.3)]
    theirs = _submit(env, beta, 0.1)
    pending = env.upload(alpha, tiny_predictions(0.4)).json["id"]  # not scored yet
    env.work()
    env.upload(alpha, b"broken\n")
    headers = {"Authorization": f"Bearer {alpha}"}

    def put(ids: object) -> object:
        return env.client.put("/api/v1/competitions/tiny/selection", json={"submission_ids": ids}, headers=headers)

    too_many = put(mine)
    assert too_many.status_code == 400 and "at most 2" in too_many.json["message"]
    other = put([theirs])
    assert other.status_code == 400 and theirs in other.json["message"]
    assert put("nope").status_code == 400
    assert put([mine[0], pending]).status_code == 200
    env.advance(days=8)
    closed = put([mine[1]])
    assert closed.status_code == 409 and "closed" in closed.json["message"]
    assert env.client.put("/api/v1/competitions/tiny/selection", json={"submission_ids": []},
                          headers={"Authorization": f"Bearer {env.organizer}"}).status_code == 403


def test_private_board_for_organizers_only_before_publish(env: Env) -> None:
    env.competition(daily_limit=10)
    alpha, beta = env.team("Alpha"), env.team("Beta")
    _submit(env, alpha, 0.1, private_offset=0.9)
    _submit(env, beta, 0.2, private_offset=0.3)
    env.work()
    assert env.get("/api/v1/competitions/tiny/leaderboard?split=private").status_code == 403
    assert env.get("/api/v1/competitions/tiny/leaderboard?split=private", alpha).status_code == 403
    assert env.get("/api/v1/competitions/tiny/leaderboard?split=private", env.judge).status_code == 403
    board = env.get("/api/v1/competitions/tiny/leaderboard?split=private", env.organizer).json["entries"]
    assert [(e["rank"], e["team"], e["score"], e["public_rank"], e["move"]) for e in board] == [
        (1, "Beta", 0.3, 2, 1), (2, "Alpha", 0.9, 1, -1)]


def test_leaderboard_stays_a_seek_with_many_teams(env: Env) -> None:
    """The board reads the per-team standings table, not every submission."""
    import sqlalchemy as sa

    from server.models import TeamStanding

    env.competition(daily_limit=10)
    tokens = [env.team(f"T{i}") for i in range(5)]
    for i, token in enumerate(tokens):
        _submit(env, token, 0.1 * (i + 1))
    env.work()
    with env.rt.session() as session:
        rows = session.execute(sa.select(sa.func.count()).select_from(TeamStanding)).scalar_one()
    assert rows == 5
    statements: list[str] = []
    from sqlalchemy import event

    @event.listens_for(env.rt.engine, "before_cursor_execute")
    def _record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    env.get("/api/v1/competitions/tiny/leaderboard")
    event.remove(env.rt.engine, "before_cursor_execute", _record)
    assert not any("FROM submissions" in s for s in statements), statements
