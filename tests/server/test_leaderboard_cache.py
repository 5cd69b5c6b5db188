"""The public leaderboard is rendered once per change and carries an ETag (issue 10, item 8)."""

from __future__ import annotations

import gzip
import json

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


def test_the_board_is_gzipped_for_clients_that_accept_it_with_its_own_etag(env: Env) -> None:
    env.competition()
    env.upload(env.team("팀 하나"), tiny_predictions(0.5))
    env.work()
    url = "/api/v1/competitions/tiny/leaderboard"
    plain = env.get(url)
    zipped = env.client.get(url, headers={"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in zipped.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    assert json.loads(gzip.decompress(zipped.get_data())) == plain.json
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert env.client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}).status_code == 304
    # The other encoding's validator does not match: the client holds different bytes.
    assert env.client.get(url, headers={"If-None-Match": zipped.headers["ETag"]}).status_code == 200
    refused = env.client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.get_json() == plain.json


def test_the_page_board_and_chart_follow_every_change(env: Env) -> None:
    env.competition()
    alpha, beta = env.team("Alpha"), env.team("Beta")
    page = env.app.test_client()
    assert "Alpha" not in page.get("/competitions/tiny/leaderboard?lang=en").get_data(as_text=True)
    env.upload(alpha, tiny_predictions(0.5))
    env.work()
    first = page.get("/competitions/tiny/leaderboard?lang=en").get_data(as_text=True)
    assert "Alpha" in first and "Beta" not in first and first.count("<polyline") == 1
    env.advance(minutes=1)
    env.upload(beta, tiny_predictions(0.25))
    env.work()
    second = page.get("/competitions/tiny/leaderboard?lang=en").get_data(as_text=True)
    assert second.index("Beta") < second.index("Alpha") and second.count("<polyline") == 2


def test_a_change_that_keeps_every_aggregate_still_gives_a_new_board(env: Env) -> None:
    """Two teams' scores swapped (as a rescore can): same count, sums, first and last receipt."""
    import sqlalchemy as sa

    from server.models import Submission
    from server.services.competitions import get_competition
    from server.services.leaderboard import refresh_standing

    env.competition()
    env.upload(env.team("Alpha"), tiny_predictions(0.5))
    env.upload(env.team("Beta"), tiny_predictions(0.25))
    env.work()
    url = "/api/v1/competitions/tiny/leaderboard"
    before = env.get(url)
    assert [e["team"] for e in before.json["entries"]] == ["Beta", "Alpha"]
    with env.rt.write() as session:
        comp = get_competition(session, "tiny")
        subs = session.execute(sa.select(Submission).where(Submission.competition_id == comp.id)).scalars().all()
        a, b = subs
        a.public_score, b.public_score = b.public_score, a.public_score
        session.flush()
        for sub in subs:
            refresh_standing(session, comp, sub.team_id)
    after = env.get(url)
    assert [e["team"] for e in after.json["entries"]] == ["Alpha", "Beta"]
    assert after.headers["ETag"] != before.headers["ETag"]
    page = env.app.test_client().get("/competitions/tiny/leaderboard?lang=en").get_data(as_text=True)
    assert page.index("Alpha") < page.index("Beta")
