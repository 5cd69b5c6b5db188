"""The console routes' real responses match the OpenAPI document (closed schemas), status by status."""

from __future__ import annotations

import io

from tests.server.conftest import TINY_TASK, Env, tiny_labels, tiny_predictions
from tests.server.test_openapi import Contract
from tests.server.test_verify_runs import _run_worker_process


def test_console_responses_match_their_schemas(env: Env) -> None:
    contract = Contract()
    c, check = env.client, contract.check
    org, judge = {"Authorization": f"Bearer {env.organizer}"}, {"Authorization": f"Bearer {env.judge}"}
    sample = "id,y\n" + "".join(f"T{i:03d},0\n" for i in range(20))
    created = check("POST", "/api/v1/competitions", c.post("/api/v1/competitions", headers=org, data={
        "task_toml": (io.BytesIO(TINY_TASK.encode()), "task.toml"),
        "sample_submission": (io.BytesIO(sample.encode()), "sample_submission.csv"),
        "labels": (io.BytesIO(tiny_labels().encode()), "labels.csv"), "slug": "tiny",
        "start": "2026-07-31T00:00", "end": "2026-08-05T00:00"}))
    assert created["competition"]["slug"] == "tiny"
    check("POST", "/api/v1/competitions", c.post("/api/v1/competitions", headers=org, data={"task": "nope"}))
    check("POST", "/api/v1/competitions", c.post("/api/v1/competitions", headers=judge, data={"task": "nope"}))
    check("PATCH", "/api/v1/competitions/{slug}", c.patch("/api/v1/competitions/tiny", json={"daily_limit": 9},
                                                          headers=org))
    check("PATCH", "/api/v1/competitions/{slug}", c.patch("/api/v1/competitions/tiny", json={"daily_limit": 0},
                                                          headers=org))
    roster = c.post("/api/v1/teams/import?format=json", data=b"team,m1\nAlpha,Kim\nBeta,Lee\n",
                    content_type="text/csv", headers=org)
    teams = check("POST", "/api/v1/teams/import", roster)["teams"]
    contract.check_media("POST", "/api/v1/teams/import", c.post("/api/v1/teams/import", data=b"team\nGamma\n",
                                                                content_type="text/csv", headers=org))
    check("POST", "/api/v1/teams/import", c.post("/api/v1/teams/import", data=b"team\nGamma\n",
                                                 content_type="text/csv", headers=org))
    alpha, beta = teams[0]["token"], teams[1]["token"]
    first = env.upload(alpha, tiny_predictions(0.5)).json["id"]
    env.upload(beta, tiny_predictions(0.25))
    check("GET", "/api/v1/teams", c.get("/api/v1/teams?q=alp", headers=org))
    check("GET", "/api/v1/queue", c.get("/api/v1/queue", headers=org))
    check("GET", "/api/v1/competitions/{slug}/submissions",
          c.get("/api/v1/competitions/tiny/submissions?status=queued&team=Alpha", headers=org))
    check("GET", "/api/v1/competitions/{slug}/submissions",
          c.get("/api/v1/competitions/tiny/submissions?status=nope", headers=org))
    check("GET", "/api/v1/competitions/{slug}/freeze", c.get("/api/v1/competitions/tiny/freeze", headers=org))
    env.work()
    check("GET", "/api/v1/submissions/{submission_id}/history", c.get(f"/api/v1/submissions/{first}/history",
                                                                      headers=org))
    check("POST", "/api/v1/submissions/{submission_id}/rescore", c.post(f"/api/v1/submissions/{first}/rescore",
                                                                        headers=org))
    check("GET", "/api/v1/queue", c.get("/api/v1/queue", headers=org))
    check("GET", "/api/v1/actions", c.get("/api/v1/actions", headers=org))
    check("GET", "/api/v1/actions", c.get("/api/v1/actions?competition=tiny", headers=judge))
    env.advance(days=8)
    check("GET", "/api/v1/competitions/{slug}/freeze", c.get("/api/v1/competitions/tiny/freeze", headers=org))
    c.post("/api/v1/competitions/tiny/freeze", headers=org)
    run = check("POST", "/api/v1/competitions/{slug}/verifications",
                c.post("/api/v1/competitions/tiny/verifications", headers=judge))
    check("POST", "/api/v1/competitions/{slug}/verifications",
          c.post("/api/v1/competitions/tiny/verifications", headers=judge))
    _run_worker_process(env)
    check("GET", "/api/v1/competitions/{slug}/verifications", c.get("/api/v1/competitions/tiny/verifications",
                                                                    headers=judge))
    done = check("GET", "/api/v1/competitions/{slug}/verifications/{verification_id}", c.get(run["url"], headers=judge))
    assert done["report"]["ok"]
    check("GET", "/api/v1/actions", c.get("/api/v1/actions?competition=tiny", headers=judge))
    check("GET", "/api/v1/actions", c.get("/api/v1/actions", headers=judge))

    expected = {
        ("POST", "/api/v1/competitions", 201), ("POST", "/api/v1/competitions", 400),
        ("POST", "/api/v1/competitions", 403), ("PATCH", "/api/v1/competitions/{slug}", 200),
        ("PATCH", "/api/v1/competitions/{slug}", 400), ("POST", "/api/v1/teams/import", 201),
        ("POST", "/api/v1/teams/import", 400), ("GET", "/api/v1/teams", 200), ("GET", "/api/v1/queue", 200),
        ("GET", "/api/v1/competitions/{slug}/submissions", 400), ("GET", "/api/v1/competitions/{slug}/freeze", 200),
        ("GET", "/api/v1/submissions/{submission_id}/history", 200),
        ("POST", "/api/v1/submissions/{submission_id}/rescore", 409), ("GET", "/api/v1/actions", 200),
        ("GET", "/api/v1/actions", 403), ("POST", "/api/v1/competitions/{slug}/verifications", 202),
        ("POST", "/api/v1/competitions/{slug}/verifications", 409),
        ("GET", "/api/v1/competitions/{slug}/verifications", 200),
        ("GET", "/api/v1/competitions/{slug}/verifications/{verification_id}", 200),
    }
    assert expected - contract.checked == set()
