"""Verify as a background job on a real worker process (issue 9): progress out of N, the report kept
and listed; a clean report, then one naming a stored file altered on disk. And judges are
read-only: every state-changing route of the URL map answers a judge 403 and logs nothing, except
starting a verification."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import sqlalchemy as sa

from server.models import ActionLogEntry, Submission
from server.services.verify import verify
from tests.server.conftest import Env, tiny_predictions
from tests.server.test_privacy import World, crawl_plan

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _run_worker_process(env: Env) -> None:
    """A real `hackathon worker` process, in burst mode: it works the queues empty and exits."""
    environ = dict(os.environ, HACKATHON_HOME=str(env.rt.home), DATABASE_URL=env.rt.config["DATABASE_URL"],
                   REDIS_URL=env.rt.config["REDIS_URL"], HACKATHON_QUEUE_NAME=env.rt.config["QUEUE_NAME"])
    done = subprocess.run([sys.executable, "-m", "server", "worker", "--burst", "--log-level", "WARNING"],
                          env=environ, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def _frozen(env: Env) -> dict[str, str]:
    env.competition(daily_limit=10)
    tokens = {"Alpha": env.team("Alpha"), "Beta": env.team("Beta")}
    subs = {"a1": env.upload(tokens["Alpha"], tiny_predictions(0.5)).json["id"],
            "a2": env.upload(tokens["Alpha"], tiny_predictions(0.25)).json["id"],
            "b1": env.upload(tokens["Beta"], tiny_predictions(0.3)).json["id"],
            "bad": env.upload(tokens["Beta"], b"id,y\nT000,abc\n").json["id"]}
    env.work()
    env.advance(days=8)
    assert env.client.post("/api/v1/competitions/tiny/freeze", headers=_auth(env.organizer)).status_code == 200
    return subs


def _start(env: Env, token: str) -> Any:
    response = env.client.post("/api/v1/competitions/tiny/verifications", headers=_auth(token))
    response.close()
    return response


def test_a_judge_runs_verify_on_a_worker_clean_then_naming_an_altered_file(env: Env) -> None:
    subs = _frozen(env)
    started = _start(env, env.judge)
    run = started.get_json()
    assert started.status_code == 202, run
    assert run["status"] == "queued" and run["requested_by"] == "judge:Judge" and run["report"] is None
    assert started.headers["Location"] == f"/api/v1/competitions/tiny/verifications/{run['id']}"
    again = _start(env, env.organizer)
    assert again.status_code == 409 and again.get_json()["error"] == "verification_running"
    assert again.get_json()["verification_id"] == run["id"]

    _run_worker_process(env)
    clean = env.get(run["url"], env.judge).json
    assert clean["status"] == "done" and clean["ok"] is True and clean["differences"] == 0
    assert (clean["total"], clean["checked"], clean["files"], clean["rescored"], clean["progress"]) == (4, 4, 4, 4, 1.0)
    assert clean["report"]["ok"] and clean["report"]["matches"] == 4 and clean["report"]["differences"] == []

    # Someone alters a stored file on disk.
    with env.rt.session() as session:
        path = env.rt.storage.submission_path(session.get_one(Submission, subs["b1"]).sha256)
    path.write_bytes(path.read_bytes().replace(b"T000,0.3", b"T000,9.3"))
    second = _start(env, env.organizer).get_json()
    _run_worker_process(env)
    altered = env.get(second["url"], env.organizer).json
    assert altered["status"] == "done" and altered["ok"] is False and altered["differences"] >= 1
    [difference] = [d for d in altered["report"]["differences"] if d["kind"] == "file"]
    assert difference["subject"] == subs["b1"] and "stored file was altered" in difference["message"]
    assert altered["report"]["culprits"] == [subs["b1"]]

    listed = env.get("/api/v1/competitions/tiny/verifications", env.judge).json["verifications"]
    assert [(v["id"], v["ok"]) for v in listed] == [(second["id"], False), (run["id"], True)]
    assert all("report" not in v and v["finished_at"] for v in listed)
    with env.rt.session() as session:  # starting a verification is a read: no action-log entry
        assert not session.execute(sa.select(ActionLogEntry).where(ActionLogEntry.action.like("verif%"))).first()


def test_verify_reports_progress_out_of_n(env: Env) -> None:
    _frozen(env)
    seen: list[tuple[int, int, int]] = []
    report = verify(env.rt, "tiny", progress=lambda r, total: seen.append((r.files, r.rescored, total)))
    assert report.ok and seen[0] == (0, 0, 4) and seen[-1] == (4, 4, 4)
    assert [files for files, _, _ in seen] == sorted(files for files, _, _ in seen)


def test_who_may_verify_and_a_lost_job(env: Env) -> None:
    env.competition()
    team = env.team("Alpha")
    # Before the freeze: organizers only (a report names scores, private ones too).
    assert _start(env, env.judge).status_code == 403
    assert _start(env, team).status_code == 403
    assert env.client.post("/api/v1/competitions/tiny/verifications").status_code == 401
    assert env.get("/api/v1/competitions/tiny/verifications", env.judge).status_code == 403
    run = _start(env, env.organizer).get_json()
    assert env.get("/api/v1/competitions/tiny/verifications/99", env.organizer).status_code == 404
    # The queue loses the job (say, its worker died and the queue was flushed): it reads as failed.
    from rq.job import Job

    Job.fetch(f"verify-{run['id']}", connection=env.rt.redis).delete()
    lost = env.get(run["url"], env.organizer).json
    assert lost["status"] == "failed" and "worker stopped" in lost["error"]
    assert _start(env, env.organizer).status_code == 202  # a new one may start


def test_judges_are_read_only_on_every_state_changing_route(env: Env) -> None:
    subs = _frozen(env)
    with env.rt.session() as session:
        team_ids = [t for (t,) in session.execute(sa.text("SELECT id FROM teams ORDER BY id")).all()]
        logged = session.execute(sa.select(sa.func.count()).select_from(ActionLogEntry)).scalar_one()
    world = World(env, "tiny", {}, {"Alpha": subs["a1"], "Beta": subs["b1"]},
                  {"Alpha": team_ids[0], "Beta": team_ids[1]})
    plan, problems = crawl_plan(env.app, world.fill())
    assert not problems, problems
    writes = [r for r in plan if r.method in WRITES]
    assert len({r.endpoint for r in writes}) >= 15
    answered: dict[str, int] = {}
    for req in writes:
        response = env.client.open(req.path, method=req.method, headers=_auth(env.judge), json={})
        response.close()
        answered[f"{req.method} {req.path}"] = response.status_code
        if req.endpoint == "console_api.post_verification":
            assert response.status_code == 202, req
        else:
            assert response.status_code == 403, (req, response.status_code)
            assert "read-only" in response.get_json()["message"]
    assert "POST /api/v1/competitions/tiny/freeze" in answered
    with env.rt.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(ActionLogEntry)).scalar_one() == logged
