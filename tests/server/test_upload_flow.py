"""Upload → queue → real worker → scored → leaderboard, and every status code of the contract."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest

from tests.server.conftest import Env, tiny_predictions


def test_upload_is_scored_and_ranked(env: Env) -> None:
    env.competition()
    alpha = env.team("Alpha")
    response = env.upload(alpha, tiny_predictions(0.5), note="first try")
    assert response.status_code == 202, response.json
    sub = response.json
    assert sub["status"] == "queued" and sub["remaining_today"] == 2 and sub["note"] == "first try"
    assert "private_score" not in sub

    env.work()
    scored = env.get(f"/api/v1/submissions/{sub['id']}", alpha).json
    assert scored["status"] == "scored"
    assert scored["public_score"] == pytest.approx(0.5)
    assert scored["rows"] == 20
    board = env.get("/api/v1/competitions/tiny/leaderboard").json
    assert board["split"] == "public" and board["frozen"] is False
    assert [(e["rank"], e["team"], e["score"], e["entries"]) for e in board["entries"]] == [(1, "Alpha", 0.5, 1)]


def test_gzip_body_and_multipart_are_accepted(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    gz = env.client.post("/api/v1/competitions/tiny/submissions", data=gzip.compress(tiny_predictions(1.0)),
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/gzip"})
    assert gz.status_code == 202, gz.json
    import io

    multi = env.client.post("/api/v1/competitions/tiny/submissions",
                            data={"file": (io.BytesIO(tiny_predictions(2.0)), "pred.csv"), "note": "multi"},
                            headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
    assert multi.status_code == 202, multi.json
    assert multi.json["filename"] == "pred.csv" and multi.json["note"] == "multi"
    env.work()
    scores = sorted(s["public_score"] for s in env.get("/api/v1/competitions/tiny/submissions", token).json["submissions"])
    assert scores == pytest.approx([1.0, 2.0])


def test_stored_file_is_the_exact_bytes(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    data = b"\xef\xbb\xbf" + tiny_predictions(0.25).replace(b"\n", b"\r\n")
    sub = env.upload(token, data).json
    got = env.get(f"/api/v1/submissions/{sub['id']}/file", token)
    assert got.status_code == 200 and got.data == data
    import hashlib

    assert sub["sha256"] == hashlib.sha256(data).hexdigest() and sub["bytes"] == len(data)


def test_invalid_file_is_rejected_with_the_scorers_message(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    bad = tiny_predictions(0).replace(b"T003,4.5", b"T003,abc")
    sub = env.upload(token, bad).json
    env.work()
    got = env.get(f"/api/v1/submissions/{sub['id']}", token).json
    assert got["status"] == "rejected"
    assert "line 5" in got["message"] and "'abc'" in got["message"]
    assert got["problems"] and got["problems"][0]["line"] == 5 and got["problems"][0]["column"] == "y"
    assert got["public_score"] is None


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [({}, 401, "unauthorized"), ({"Authorization": "Bearer nope"}, 401, "unauthorized"),
     ({"Authorization": "Basic abc"}, 401, "unauthorized")],
)
def test_upload_needs_a_valid_team_token(env: Env, headers: dict[str, str], status: int, code: str) -> None:
    env.competition()
    response = env.client.post("/api/v1/competitions/tiny/submissions", data=tiny_predictions(),
                               headers={**headers, "Content-Type": "text/csv"})
    assert response.status_code == status
    assert response.json["error"] == code and response.json["message"]


def test_status_codes_of_the_upload_contract(env: Env) -> None:
    env.competition(max_upload_mb=0.0003)  # 300 bytes
    token = env.team("Alpha")
    assert env.upload(env.organizer, tiny_predictions()).status_code == 403
    assert env.upload(env.judge, tiny_predictions()).status_code == 403
    assert env.upload(token, tiny_predictions(), slug="nope").status_code == 404
    too_big = env.upload(token, tiny_predictions() + b"#" * 400)
    assert too_big.status_code == 413 and "limit" in too_big.json["message"]
    empty = env.upload(token, b"")
    assert empty.status_code == 400 and "empty" in empty.json["message"]
    wrong_type = env.client.post("/api/v1/competitions/tiny/submissions", data=b"{}",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert wrong_type.status_code == 400 and "text/csv" in wrong_type.json["message"]


def test_schedule_boundaries(env: Env) -> None:
    start = env.now + timedelta(hours=1)
    end = start + timedelta(days=1)
    env.competition(start=start.isoformat(), end=end.isoformat(), daily_limit=10)
    token = env.team("Alpha")
    early = env.upload(token, tiny_predictions())
    assert early.status_code == 409 and early.json["error"] == "not_open" and "opens at" in early.json["message"]
    env.set_now(start)
    assert env.upload(token, tiny_predictions()).status_code == 202  # start_at <= receipt
    env.set_now(end - timedelta(microseconds=1))
    assert env.upload(token, tiny_predictions()).status_code == 202
    env.set_now(end)  # receipt < end_at, strictly
    late = env.upload(token, tiny_predictions())
    assert late.status_code == 409 and late.json["error"] == "closed"
    assert "+09:00" in late.json["message"]  # shown in the competition's zone (Asia/Seoul)


def test_errors_are_json_never_html_or_tracebacks(env: Env) -> None:
    assert env.get("/api/v1/nowhere").json["error"] == "not_found"
    response = env.client.delete("/api/v1/competitions")
    assert response.status_code == 405 and response.json["message"]
    assert env.get("/api/v1/submissions/" + "x" * 500, env.organizer).status_code == 404
    assert env.get("/api/v1/competitions/tiny/leaderboard?split=weird").status_code in (400, 404)


def test_healthz_reports_database_and_queue(env: Env) -> None:
    body = env.get("/healthz").json
    assert body["ok"] is True and body["database"] == "ok" and body["queue"] == "ok"


def test_competition_listing_and_state(env: Env) -> None:
    env.competition()
    listing = env.get("/api/v1/competitions").json["competitions"]
    assert [c["slug"] for c in listing] == ["tiny"]
    detail = env.get("/api/v1/competitions/tiny").json
    assert detail["state"] == "open" and detail["daily_limit"] == 3 and detail["timezone"] == "Asia/Seoul"
    assert detail["end_at_local"].endswith("+09:00")
    assert "split_seed" not in detail and "labels_file" not in detail
    env.advance(days=8)
    assert env.get("/api/v1/competitions/tiny").json["state"] == "closed"
    assert env.get("/api/v1/competitions/none").status_code == 404


def test_oversized_multipart_is_refused_before_parsing(env: Env) -> None:
    import io

    env.competition(max_upload_mb=0.001)  # 1,000 bytes
    token = env.team("Alpha")
    response = env.client.post("/api/v1/competitions/tiny/submissions",
                               data={"file": (io.BytesIO(b"x" * 200_000), "big.csv")},
                               headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
    assert response.status_code == 413 and "1.0 KB" in response.json["message"]


def test_a_stored_file_and_its_name_reach_the_disk_before_its_row_commits(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    # The row is committed with synchronous=FULL and survives a power cut; the file it names must too.
    import os

    import sqlalchemy as sa

    from server.models import Submission

    env.competition()
    token = env.team("Alpha")
    data = tiny_predictions(0.25)
    flushed: list[tuple[str, bytes | None, int]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        with env.rt.session() as session:
            rows = session.execute(sa.select(sa.func.count()).select_from(Submission)).scalar_one()
        content = None
        if os.path.isfile(path):
            with open(path, "rb") as fh:
                content = fh.read()
        flushed.append((path, content, rows))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    sub = env.upload(token, data).json
    stored = env.rt.storage.submission_path(sub["sha256"])
    assert any(content == data and rows == 0 for _, content, rows in flushed), flushed  # the bytes, before the row
    assert (str(stored.parent), None, 0) in flushed  # the folder holding its name, before the row
