"""The public leaderboard is rendered once per change and carries an ETag (issue 10, item 8)."""

from __future__ import annotations

from tests.server.conftest import Env, tiny_predictions


def test_the_cached_board_follows_every_change_and_answers_304_when_unchanged(env: Env) -> None:
    env.competition()
    alpha, beta = env.team("Alpha"), env.team("Beta")
    url = "/api/v1/competitions/tiny/leaderboard"
    empty = env.get(url)
    assert empty.json["entries"] == [] and empty.headers["ETag"]
    assert env.client.get(url, headers={"If-None-Match": empty.headers["ETag"]}).status_code == 304

    env.upload(alpha, tiny_predictions(0.5))
    assert env.get(url).headers["ETag"] != empty.headers["ETag"]  # a queued upload changes entries
    env.work()
    first = env.get(url)
    assert [(e["team"], e["score"]) for e in first.json["entries"]] == [("Alpha", 0.5)]

    env.advance(minutes=1)
    env.upload(beta, tiny_predictions(0.25))
    env.work()
    env.advance(minutes=1)
    env.upload(alpha, tiny_predictions(0.1))  # Alpha's new best
    env.work()
    board = env.get(url)
    assert [(e["team"], e["score"], e["entries"]) for e in board.json["entries"]] == [("Alpha", 0.1, 2), ("Beta", 0.25, 1)]
    assert board.json == env.get(url).json and board.headers["ETag"] == env.get(url).headers["ETag"]
    assert env.client.get(url, headers={"If-None-Match": board.headers["ETag"]}).status_code == 304
    assert env.client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
