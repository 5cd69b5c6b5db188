"""The organizer console's back end (issue 9): queue dashboard, competitions over HTTP, team search
and roster import, submission filters, history and requeue, freeze preview, the checked action log."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.cli import cli, register_commands
from server.models import ActionLogEntry, Submission, Team
from tests.server.conftest import TINY_TASK, Env, tiny_labels, tiny_predictions

register_commands()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _actions(env: Env, prefix: str = "") -> list[tuple[str, str, dict[str, Any]]]:
    with env.rt.session() as session:
        rows = session.execute(sa.select(ActionLogEntry).order_by(ActionLogEntry.id)).scalars().all()
        return [(r.action, r.actor, json.loads(r.payload)) for r in rows if r.action.startswith(prefix)]


def _worker_env(env: Env) -> dict[str, str]:
    return dict(os.environ, HACKATHON_HOME=str(env.rt.home), DATABASE_URL=env.rt.config["DATABASE_URL"],
                REDIS_URL=env.rt.config["REDIS_URL"], HACKATHON_QUEUE_NAME=env.rt.config["QUEUE_NAME"])


def _fail(env: Env, sub_id: str) -> bytes:
    """Make a submission fail on our side (its stored file vanishes); return the bytes to restore."""
    with env.rt.session() as session:
        path = env.rt.storage.submission_path(session.get_one(Submission, sub_id).sha256)
    data = path.read_bytes()
    path.unlink()
    env.work()
    return data


# -- 1. the queue dashboard ----------------------------------------------------------------------

def test_queue_dashboard_counts_oldest_waiting_failures_and_live_workers(env: Env) -> None:
    env.competition()
    a, b = env.team("Alpha"), env.team("Beta")
    failed = env.upload(a, tiny_predictions(0.5)).json["id"]
    restore = _fail(env, failed)
    first = env.upload(a, tiny_predictions(0.25)).json["id"]
    env.advance(seconds=90)
    env.upload(b, tiny_predictions(0.3))
    env.advance(seconds=30)
    board = env.get("/api/v1/queue", env.organizer).json
    assert board["competitions"] == [{"competition": "tiny", "total": 3, "counts": {
        "queued": 2, "scoring": 0, "scored": 0, "rejected": 0, "failed": 1}}]
    assert board["oldest_waiting"]["id"] == first and board["oldest_waiting"]["age_seconds"] == 120
    assert board["oldest_waiting"]["team"] == "Alpha"
    [f] = board["failed"]
    assert f["id"] == failed and f["team"] == "Alpha" and "scoring failed after" in f["reason"]
    assert board["queue"] == "ok" and board["workers"] == [] and board["jobs_waiting"] == 2
    assert restore

    proc = subprocess.Popen([sys.executable, "-m", "server", "worker"], env=_worker_env(env))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            board = env.get("/api/v1/queue", env.organizer).json
            if board["workers"] and board["totals"]["scored"] == 2:
                break
            time.sleep(0.1)
        [w] = board["workers"]
        assert w["pid"] == proc.pid and w["host"] and w["state"] in ("idle", "busy", "started")
        assert w["queues"] == [env.rt.config["QUEUE_NAME"], env.rt.config["QUEUE_NAME"] + "-verify"]
        assert board["totals"]["scored"] == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    for token, status in ((None, 401), (a, 403), (env.judge, 403)):
        assert env.get("/api/v1/queue", token).status_code == status


def test_a_workers_current_job_names_its_submission_or_verify_run() -> None:
    from server.services.queue_status import _job_subject

    assert _job_subject("score-" + "a" * 32) == ("a" * 32, None)
    assert _job_subject("verify-12") == (None, 12)
    assert _job_subject(None) == (None, None) and _job_subject("other") == (None, None)


def _cli(env: Env, *args: str) -> Any:
    return env.app.test_cli_runner().invoke(cli, list(args))


def test_queue_command_prints_the_dashboard(env: Env) -> None:
    env.competition()
    env.upload(env.team("Alpha"), tiny_predictions(0.5))
    result = _cli(env, "queue", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"]["queued"] == 1


# -- 2. competitions over HTTP ------------------------------------------------------------------

def _create(env: Env, files: dict[str, Any], **fields: Any) -> Any:
    data: dict[str, Any] = {k: str(v) for k, v in fields.items()}
    for name, value in files.items():
        data[name] = value
    response = env.client.post("/api/v1/competitions", data=data, headers=_auth(env.organizer),
                               content_type="multipart/form-data")
    response.close()
    return response


def test_create_a_competition_from_an_uploaded_task_with_labels_and_data(env: Env) -> None:
    sample = "id,y\n" + "".join(f"T{i:03d},0\n" for i in range(20))
    train = "x,y\n1,2\n"
    response = _create(env, {"task_toml": (io.BytesIO(TINY_TASK.encode()), "task.toml"),
                             "sample_submission": (io.BytesIO(sample.encode()), "sample_submission.csv"),
                             "labels": (io.BytesIO(tiny_labels().encode()), "labels.csv"),
                             "data": [(io.BytesIO(train.encode()), "train.csv")]},
                       slug="uploaded", start="2026-08-01T10:00", end="2026-08-29T10:00", daily_limit="5",
                       max_upload_mb="2.5", split_seed="s1")
    created = response.get_json()
    assert response.status_code == 201, created
    assert response.headers["Location"] == "/api/v1/competitions/uploaded"
    body = {**created["competition"], "data": created["data"]}
    assert body["slug"] == "uploaded" and body["daily_limit"] == 5 and body["max_upload_bytes"] == 2_500_000
    assert body["start_at"] == "2026-08-01T01:00:00Z"  # read in Asia/Seoul
    assert body["precision"] == 4  # from the task's [defaults]
    assert [f["name"] for f in body["data"]] == ["sample_submission.csv", "train.csv"]
    # The labels went to the organizer-only folder, nowhere a route serves.
    stored = list((env.rt.home / "labels").iterdir())
    assert len(stored) == 1 and stored[0].read_text() == tiny_labels()
    assert env.get("/api/v1/competitions/uploaded/data/labels.csv").status_code == 404
    [(_, actor, payload)] = _actions(env, "competition.create")
    assert actor == "organizer:Org" and payload["slug"] == "uploaded"
    assert _actions(env, "competition.data")[0][1] == "organizer:Org"


def test_create_from_a_bundled_task(env: Env) -> None:
    import datasets

    folder = datasets.task_dir("antenna")
    header = (folder / "sample_submission.csv").read_text().splitlines()[0].split(",")
    # A small labels file (a big multipart body makes the test client leave a temporary file open).
    labels = ",".join(header) + "\n" + "".join(",".join([f"TEST_{i:05d}"] + ["1.0"] * (len(header) - 1)) + "\n"
                                               for i in range(40))
    response = _create(env, {"labels": (io.BytesIO(labels.encode()), "labels.csv")}, task="antenna",
                       start="2026-08-01T10:00", end="2026-08-29T10:00")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["competition"]["task"] == "antenna"


def test_creation_errors_name_their_field_and_create_nothing(env: Env) -> None:
    labels = (io.BytesIO(tiny_labels().encode()), "labels.csv")
    cases = [
        ({"labels": labels}, {"task": "nope"}, "task", "unknown task 'nope'"),
        ({"labels": (io.BytesIO(tiny_labels().encode()), "l.csv")}, {"task": "antenna", "daily_limit": "three"},
         "daily_limit", "daily_limit must be a whole number, found 'three'"),
        ({"labels": (io.BytesIO(tiny_labels().encode()), "l.csv")}, {"task": "antenna", "daily_limit": "0"},
         "daily_limit", "daily_limit from the organizer's settings must be a whole number >= 1, found 0"),
        ({"labels": (io.BytesIO(tiny_labels().encode()), "l.csv")}, {"task": "antenna", "start": "tomorrow"},
         "start", "start must be an ISO 8601 time"),
        ({}, {"task": "antenna"}, "labels", "hidden labels file"),
        ({"task_toml": (io.BytesIO(TINY_TASK.encode()), "task.toml"),
          "labels": (io.BytesIO(tiny_labels().encode()), "l.csv")}, {}, "sample_submission", "sample submission"),
        ({"labels": (io.BytesIO(tiny_labels().encode()), "l.csv")}, {"task": "antenna", "colour": "red"},
         "colour", "unknown field 'colour'"),
    ]
    for files, fields, field, message in cases:
        response = _create(env, files, **fields)
        body = response.get_json()
        assert response.status_code == 400 and body.get("field") == field and message in body["message"], body
    # A data file that is the labels: refused, nothing created.
    refused = _create(env, {"task_toml": (io.BytesIO(TINY_TASK.encode()), "task.toml"),
                            "sample_submission": (io.BytesIO(b"id,y\nT000,0\n"), "s.csv"),
                            "labels": (io.BytesIO(tiny_labels().encode()), "l.csv"),
                            "data": [(io.BytesIO(tiny_labels().encode()), "answers.csv")]})
    assert refused.status_code == 400 and refused.get_json()["error"] == "data_leaks_labels"
    assert env.get("/api/v1/competitions").json["competitions"] == [] and _actions(env, "competition") == []
    assert _create(env, {}, task="antenna").status_code == 400
    response = env.client.post("/api/v1/competitions", json={"task": "antenna"}, headers=_auth(env.organizer))
    assert response.status_code == 400 and "multipart/form-data" in response.get_json()["message"]


def test_patch_changes_schedule_and_limits_with_validation_and_a_log_entry(env: Env) -> None:
    env.competition()

    def patch(body: Any) -> Any:
        return env.client.patch("/api/v1/competitions/tiny", json=body, headers=_auth(env.organizer))

    ok = patch({"end": "2026-08-29T10:00", "daily_limit": 5, "total_limit": "20"})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["end_at"] == "2026-08-29T01:00:00Z" and ok.get_json()["daily_limit"] == 5
    assert ok.get_json()["total_limit"] == 20
    [(_, actor, payload)] = _actions(env, "competition.update")
    assert actor == "organizer:Org" and payload["changed"]["daily_limit"] == {"from": 3, "to": 5}
    for body, field in (({"end": "2020-01-01T00:00"}, "end"), ({"daily_limit": -1}, "daily_limit"),
                        ({"timezone": "Mars/Base"}, "timezone"), ({"public_fraction": 0.2}, "public_fraction"),
                        ({"slug": "other"}, "slug"), ({"precision": True}, "precision")):
        refused = patch(body)
        assert refused.status_code == 400 and refused.get_json()["field"] == field, (body, refused.get_json())
    assert patch({}).status_code == 400 and patch([1]).status_code == 400
    assert len(_actions(env, "competition.update")) == 1
    assert env.client.patch("/api/v1/competitions/nope", json={"daily_limit": 2},
                            headers=_auth(env.organizer)).status_code == 404


# -- 3. teams: search, roster import ---------------------------------------------------------------

def test_team_search_by_name_member_or_id_with_submission_counts(env: Env) -> None:
    env.competition()
    alpha = env.team("Alpha Team", members=["김민준", "Lee"])
    env.team("Beta", members=["박서연"])
    env.team("50%_off")
    env.upload(alpha, tiny_predictions(0.5))
    env.upload(alpha, b"id,y\nT000,abc\n")
    env.work()

    def names(q: str) -> list[str]:
        return [t["name"] for t in env.get(f"/api/v1/teams?q={q}", env.organizer).json["teams"]]

    assert names("alpha") == ["Alpha Team"] and names("민준") == ["Alpha Team"] and names("LEE") == ["Alpha Team"]
    assert names("2") == ["Beta"]  # an id
    assert names("%") == ["50%_off"] and names("_") == ["50%_off"]  # LIKE wildcards are plain text
    assert names("") == ["Alpha Team", "Beta", "50%_off"] and names("nobody") == []
    teams = env.get("/api/v1/teams", env.organizer).json["teams"]
    assert (teams[0]["submissions"], teams[0]["scored"]) == (2, 1) and teams[1]["submissions"] == 0


ROSTER = "팀명,팀원1,팀원2,팀원3,팀원4,팀원5\n" + "".join(
    f"팀 {i:02d},멤버{i}a,멤버{i}b,,,\n" for i in range(50))


def test_roster_import_of_50_teams_answers_their_tokens_once(env: Env) -> None:
    env.competition()
    response = env.client.post("/api/v1/teams/import", data=("\ufeff" + ROSTER).encode(), content_type="text/csv",
                               headers=_auth(env.organizer))
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 50 and rows[0]["team"] == "팀 00" and rows[0]["members"] == "멤버0a; 멤버0b"
    assert env.get("/api/v1/competitions/tiny/submissions", rows[7]["token"]).status_code == 200
    entries = _actions(env, "team.create")
    assert len(entries) == 50 and {a for _, a, _ in entries} == {"organizer:Org"}
    assert all(r["token"] not in json.dumps(entries) for r in rows)
    # JSON, multipart.
    as_json = env.client.post("/api/v1/teams/import?format=json", headers=_auth(env.organizer),
                              data={"file": (io.BytesIO(b"team,member\nSolo,Kim\n"), "r.csv")})
    assert as_json.status_code == 201 and as_json.headers["Cache-Control"] == "no-store"
    [team] = as_json.get_json()["teams"]
    assert team["name"] == "Solo" and team["members"] == ["Kim"] and team["token"].startswith("lgh_")


def test_roster_errors_name_line_and_column_and_nothing_is_created(env: Env) -> None:
    env.team("Existing", members=["홍길동"])
    roster = ("team,m1,m2,m3,m4,m5\n"
              "A,김,이\n"
              ",박\n"                      # line 3: no team name
              "B,이\n"                     # line 4: 이 is on line 2 too
              "A,최\n"                     # line 5: team A twice
              "C,홍길동\n"                 # line 6: in an existing team (checked once the file is clean)
              "D,1,2,3,4,5,6\n")           # line 7: a sixth member
    response = env.client.post("/api/v1/teams/import", data=roster.encode(), content_type="text/csv",
                               headers=_auth(env.organizer))
    body = response.get_json()
    assert response.status_code == 400 and body["error"] == "roster_invalid"
    assert [(p["line"], p["column"]) for p in body["problems"]] == [(3, "team"), (4, "m1"), (5, "team"),
                                                                    (7, "column 7")]
    assert "line 4, column m1: '이' is also a member on line 2" in body["message"]
    assert "nothing was created" in body["message"]
    clean = "team,m1\nA,김\nC,홍길동\nExisting,x\n"
    response = env.client.post("/api/v1/teams/import", data=clean.encode(), content_type="text/csv",
                               headers=_auth(env.organizer))
    body = response.get_json()
    assert response.status_code == 400 and [(p["line"], p["message"]) for p in body["problems"]] == [
        (3, "'홍길동' is already in team 'Existing'; a person may be in one team only"),
        (4, "team 'Existing' is already registered")]
    for data in (b"", b"team,m1\n", b"\xff\xfe"):
        assert env.client.post("/api/v1/teams/import", data=data, content_type="text/csv",
                               headers=_auth(env.organizer)).status_code == 400
    assert [t["name"] for t in env.get("/api/v1/teams", env.organizer).json["teams"]] == ["Existing"]
    assert env.client.post("/api/v1/teams/import", data=clean.encode(), content_type="text/csv",
                           headers=_auth(env.judge)).status_code == 403


def test_team_import_command_writes_tokens_once(env: Env, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("team,member1\nOne,김\nTwo,이\n", encoding="utf-8")
    out = tmp_path / "tokens.csv"
    result = _cli(env, "team", "import", str(roster), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "registered 2 teams" in result.output and "lgh_" not in result.output
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert [r["team"] for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))] == ["One", "Two"]
    again = _cli(env, "team", "import", str(roster), "--json")
    assert again.exit_code == 2 and json.loads(again.output)["error"] == "roster_invalid"
    roster.write_text("team\nThree\n", encoding="utf-8")
    printed = _cli(env, "team", "import", str(roster), "--json")
    assert printed.exit_code == 0 and json.loads(printed.output)["teams"][0]["token"].startswith("lgh_")
    listed = _cli(env, "team", "list", "--search", "thr", "--json")
    assert [t["name"] for t in json.loads(listed.output)["teams"]] == ["Three"]


# -- 4. submissions: filters, history, requeue -----------------------------------------------------

def test_organizers_filter_submissions_by_team_status_and_time(env: Env) -> None:
    env.competition(daily_limit=10)
    a, b = env.team("Alpha"), env.team("Beta")
    s1 = env.upload(a, tiny_predictions(0.5)).json["id"]
    env.advance(hours=1)
    s2 = env.upload(b, b"id,y\nT000,abc\n").json["id"]
    env.advance(hours=1)
    s3 = env.upload(a, tiny_predictions(0.25)).json["id"]
    env.work()

    def ids(query: str, token: str | None = None) -> list[str]:
        response = env.get(f"/api/v1/competitions/tiny/submissions{query}", token or env.organizer)
        assert response.status_code == 200, response.json
        return [s["id"] for s in response.json["submissions"]]

    assert ids("") == [s1, s2, s3]
    assert ids("?team=Alpha") == [s1, s3] and ids("?team=2") == [s2]
    assert ids("?status=rejected") == [s2] and ids("?status=scored,rejected") == [s1, s2, s3]
    # 2026-08-01 03:00Z is 12:00 in Seoul; s2 came at 13:00 local.
    assert ids("?since=2026-08-01T13:00") == [s2, s3] and ids("?until=2026-08-01T13:00") == [s1]
    assert ids("?since=2026-08-01T04:00:00Z&until=2026-08-01T05:00:00Z&team=Beta", env.judge) == [s2]
    assert ids("", a) == [s1, s3] and ids("?status=scored", a) == [s1, s3]  # a team: still its own
    for query, field in (("?team=Nobody", "team"), ("?status=done", "status"), ("?since=yesterday", "since"),
                         ("?since=2026-08-02T00:00&until=2026-08-01T00:00", "until")):
        refused = env.get(f"/api/v1/competitions/tiny/submissions{query}", env.organizer)
        assert refused.status_code == 400 and refused.json["field"] == field, query
    refused = env.get("/api/v1/competitions/tiny/submissions?team=Beta", a)
    assert refused.status_code == 400 and "its own submissions" in refused.json["message"]


def test_a_failed_submission_is_requeued_scored_and_its_history_kept(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    sub_id = env.upload(token, tiny_predictions(0.5)).json["id"]
    restore = _fail(env, sub_id)
    assert env.get(f"/api/v1/submissions/{sub_id}", token).json["status"] == "failed"
    with env.rt.session() as session:
        path = env.rt.storage.submission_path(session.get_one(Submission, sub_id).sha256)
    path.write_bytes(restore)  # the organizers fixed the cause

    response = env.client.post(f"/api/v1/submissions/{sub_id}/rescore", headers=_auth(env.organizer))
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "queued" and response.get_json()["attempts"] == 0
    env.work()
    assert env.get(f"/api/v1/submissions/{sub_id}", token).json["status"] == "scored"
    [(_, actor, payload)] = _actions(env, "submission.requeue")
    assert actor == "organizer:Org" and payload["submission_id"] == sub_id

    history = env.get(f"/api/v1/submissions/{sub_id}/history", env.organizer).json
    assert history["status"] == "scored" and history["attempts"] == 1 and history["team"] == "Alpha"
    [old] = history["history"]
    assert old["status"] == "failed" and old["private_score"] is None
    assert [a["action"] for a in history["actions"]] == ["submission.requeue"]
    judged = env.get(f"/api/v1/submissions/{sub_id}/history", env.judge).json
    assert "private_score" not in judged["history"][0]  # judges: once frozen
    assert env.get(f"/api/v1/submissions/{sub_id}/history", token).status_code == 403

    again = env.client.post(f"/api/v1/submissions/{sub_id}/rescore", headers=_auth(env.organizer))
    assert again.status_code == 409 and again.get_json()["error"] == "not_failed"
    assert env.client.post("/api/v1/submissions/nope/rescore", headers=_auth(env.organizer)).status_code == 404
    assert env.client.post(f"/api/v1/submissions/{sub_id}/rescore", headers=_auth(token)).status_code == 403


# -- 5. freeze preview, the checked action log -----------------------------------------------------

def test_freeze_preview_says_why_not_then_what_will_be_frozen(env: Env) -> None:
    env.competition()
    a, b = env.team("Alpha"), env.team("Beta")
    env.upload(a, tiny_predictions(0.5))
    pending = env.upload(b, tiny_predictions(0.25)).json["id"]

    def preview() -> Any:
        response = env.get("/api/v1/competitions/tiny/freeze", env.organizer)
        assert response.status_code == 200, response.json
        return response.json

    early = preview()
    assert not early["allowed"] and early["refusal"]["error"] == "not_ended" and early["state"] == "open"
    env.advance(days=8)
    waiting = preview()
    assert not waiting["allowed"] and waiting["refusal"]["error"] == "scoring_pending"
    assert waiting["pending_total"] == 2 and pending in [p["id"] for p in waiting["pending"]]
    env.work()
    ready = preview()
    assert ready["allowed"] and ready["refusal"] is None and ready["pending"] == []
    assert ready["teams"] == ["Alpha", "Beta"] and ready["submissions"] == 2
    assert [e["team"] for e in ready["public_board"]] == ["Beta", "Alpha"] and ready["private_board"]
    assert _actions(env, "freeze") == []  # a preview stores nothing
    frozen = env.client.post("/api/v1/competitions/tiny/freeze", headers=_auth(env.organizer)).get_json()
    assert frozen["public_board"] == ready["public_board"] and frozen["private_board"] == ready["private_board"]
    after = preview()
    assert after["refusal"]["error"] == "already_frozen" and after["snapshot_sha256"] == frozen["sha256"]
    assert env.get("/api/v1/competitions/tiny/freeze", env.judge).status_code == 403


def test_action_log_with_its_chain_checked_and_the_first_broken_entry(env: Env) -> None:
    env.competition()
    env.team("Alpha")
    log = env.get("/api/v1/actions", env.organizer).json
    assert log["chain_ok"] and log["first_broken"] is None
    assert [e["action"] for e in log["entries"]] == ["token.create", "token.create", "competition.create", "team.create"]
    assert log["entries"][2]["competition"] == "tiny" and log["entries"][3]["payload"]["name"] == "Alpha"
    only = env.get("/api/v1/actions?competition=tiny", env.organizer).json
    assert [e["action"] for e in only["entries"]] == ["competition.create"] and only["entries_checked"] == 4
    # Judges: one competition's log, once it is frozen.
    assert env.get("/api/v1/actions", env.judge).status_code == 403
    assert env.get("/api/v1/actions?competition=tiny", env.judge).status_code == 403
    assert env.get("/api/v1/actions?competition=nope", env.organizer).status_code == 404
    env.advance(days=8)
    env.client.post("/api/v1/competitions/tiny/freeze", headers=_auth(env.organizer))
    assert env.get("/api/v1/actions?competition=tiny", env.judge).json["chain_ok"]
    # Someone edits entry 3 in the database (triggers forbid it; a superuser drops them).
    with env.rt.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE action_log DISABLE TRIGGER USER"))
            conn.execute(sa.text("UPDATE action_log SET actor = 'someone' WHERE id = 3"))
            conn.execute(sa.text("ALTER TABLE action_log ENABLE TRIGGER USER"))
        else:
            triggers = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                            "AND tbl_name = 'action_log'")).all()
            for name, _ in triggers:
                conn.execute(sa.text(f"DROP TRIGGER {name}"))
            conn.execute(sa.text("UPDATE action_log SET actor = 'someone' WHERE id = 3"))
            for _, sql in triggers:
                conn.execute(sa.text(sql))
    broken = env.get("/api/v1/actions?competition=tiny", env.judge).json
    assert not broken["chain_ok"] and broken["first_broken"]["id"] == 3
    assert "altered" in broken["first_broken"]["message"]


def test_models_and_migrations_agree(env: Env) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from server.db import Base

    with env.rt.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "verify_runs" in repr(d)] == []
    with env.rt.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Team)).scalar_one() == 0


def test_requeue_log_and_freeze_preview_commands(env: Env) -> None:
    env.competition()
    sub_id = env.upload(env.team("Alpha"), tiny_predictions(0.5)).json["id"]
    restore = _fail(env, sub_id)
    with env.rt.session() as session:
        env.rt.storage.submission_path(session.get_one(Submission, sub_id).sha256).write_bytes(restore)
    result = _cli(env, "requeue", sub_id, "--json")
    assert result.exit_code == 0 and json.loads(result.output) == {"id": sub_id, "status": "queued"}
    assert _cli(env, "requeue", sub_id).exit_code == 2  # not failed any more
    env.work()
    preview = _cli(env, "freeze", "tiny", "--preview", "--json")
    assert preview.exit_code == 0 and json.loads(preview.output)["refusal"]["error"] == "not_ended"
    env.advance(days=8)
    assert "a freeze now would be accepted" in _cli(env, "freeze", "tiny", "--preview").output
    log = _cli(env, "log", "--competition", "tiny")
    assert log.exit_code == 0 and "submission.requeue" in log.output and "hash chain: ok" in log.output
