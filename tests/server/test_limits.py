"""Daily limit: per team per local calendar day, atomic under concurrency, rejected files capped."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from tests.server.conftest import Env, tiny_predictions


def test_limit_is_429_with_reset_at_local_midnight(env: Env) -> None:
    env.set_now(datetime(2026, 8, 1, 14, 59, tzinfo=UTC))  # 23:59 in Seoul
    env.competition(start="2026-07-01T00:00:00+09:00", end="2026-09-01T00:00:00+09:00")
    token = env.team("Alpha")
    remaining = [env.upload(token, tiny_predictions(i)).json["remaining_today"] for i in range(3)]
    assert remaining == [2, 1, 0]
    refused = env.upload(token, tiny_predictions(9))
    assert refused.status_code == 429
    assert refused.json["resets_at"] == "2026-08-01T15:00:00+00:00"  # midnight in Seoul
    assert "00:00:00+09:00" in refused.json["message"]
    env.set_now(datetime(2026, 8, 1, 15, 0, tzinfo=UTC))  # 00:00 in Seoul: a new day
    assert env.upload(token, tiny_predictions(9)).status_code == 202


def test_day_follows_the_competition_timezone_not_utc(env: Env) -> None:
    # 2026-08-01 16:00 UTC and 2026-08-02 14:00 UTC are the same day in Seoul (Aug 2).
    env.set_now(datetime(2026, 8, 1, 16, 0, tzinfo=UTC))
    env.competition(start="2026-07-01T00:00:00+09:00", end="2026-09-01T00:00:00+09:00", daily_limit=2)
    token = env.team("Alpha")
    assert env.upload(token, tiny_predictions(1)).status_code == 202
    env.set_now(datetime(2026, 8, 2, 14, 0, tzinfo=UTC))
    assert env.upload(token, tiny_predictions(2)).status_code == 202
    assert env.upload(token, tiny_predictions(3)).status_code == 429


def test_limit_is_per_team(env: Env) -> None:
    env.competition(daily_limit=1)
    alpha, beta = env.team("Alpha"), env.team("Beta")
    assert env.upload(alpha, tiny_predictions()).status_code == 202
    assert env.upload(alpha, tiny_predictions()).status_code == 429
    assert env.upload(beta, tiny_predictions()).status_code == 202


def test_rejected_files_do_not_count_but_are_capped(env: Env) -> None:
    env.competition(daily_limit=2)
    token = env.team("Alpha")
    for _ in range(5):  # invalid files (once scored as rejected) ...
        assert env.upload(token, b"id,wrong\nT000,1\n").status_code == 202
        env.work()
    statuses = {s["status"] for s in env.get("/api/v1/competitions/tiny/submissions", token).json["submissions"]}
    assert statuses == {"rejected"}
    # ... and do not use the daily limit,
    assert env.upload(token, tiny_predictions(1)).status_code == 202
    assert env.upload(token, tiny_predictions(2)).status_code == 202
    assert env.upload(token, tiny_predictions(3)).status_code == 429
    env.work()


def test_seventh_invalid_file_is_refused(env: Env) -> None:
    env.competition(daily_limit=2)
    token = env.team("Alpha")
    for _ in range(6):
        env.upload(token, b"id,wrong\nT000,1\n")
        env.work()
    refused = env.upload(token, b"id,wrong\nT000,1\n")
    assert refused.status_code == 429 and "invalid files" in refused.json["message"]


def test_total_limit(env: Env) -> None:
    env.competition(daily_limit=5, total_limit=2)
    token = env.team("Alpha")
    assert env.upload(token, tiny_predictions()).status_code == 202
    env.advance(days=1)
    assert env.upload(token, tiny_predictions()).status_code == 202
    env.advance(days=1)
    refused = env.upload(token, tiny_predictions())
    assert refused.status_code == 429 and refused.json["error"] == "total_limit"


def test_concurrent_uploads_accept_exactly_the_remaining_quota(env: Env) -> None:
    """20 uploads at once against 3 remaining: exactly 3 accepted (SQLite and PostgreSQL)."""
    env.competition(daily_limit=3)
    token = env.team("Alpha")
    barrier = threading.Barrier(20)
    codes: list[int] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        client = env.app.test_client()
        barrier.wait()
        response = client.post("/api/v1/competitions/tiny/submissions", data=tiny_predictions(i),
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
        with lock:
            codes.append(response.status_code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [202] * 3 + [429] * 17
    listed = env.get("/api/v1/competitions/tiny/submissions", token).json["submissions"]
    assert len(listed) == 3


def test_window_of_a_day_has_real_length_around_dst(env: Env) -> None:
    from server.timeutil import local_day_bounds

    start, end = local_day_bounds(datetime(2026, 3, 8, 12, 0, tzinfo=UTC), "America/New_York")
    assert end - start == timedelta(hours=23)  # the spring-forward day
