"""Rank confidence after the freeze: the background job, where it is shown, the audit, and verify."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from server.models import ActionLogEntry, RankConfidence
from server.services.verify import verify
from tests.server.conftest import Env, tiny_predictions
from tests.server.test_openapi import contract_errors


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _frozen_with_three_teams(env: Env) -> None:
    env.competition()
    for name, offset in (("best", 0.0), ("twin-a", 1.0), ("twin-b", 1.0)):
        token = env.team(name)
        assert env.upload(token, tiny_predictions(offset)).status_code == 202
        env.advance(minutes=1)
    env.work()
    env.advance(days=8)
    assert env.client.post("/api/v1/competitions/tiny/freeze", headers=_auth(env.organizer)).status_code == 200
    env.work()  # the rank-confidence job queued by the freeze


def test_confidence_is_computed_after_the_freeze_shown_exported_and_verified(env: Env) -> None:
    _frozen_with_three_teams(env)
    board = env.get("/api/v1/competitions/tiny/leaderboard?split=private", env.judge).get_json()
    conf = [e["confidence"] for e in board["entries"]]
    assert [e["team"] for e in board["entries"]] == ["best", "twin-a", "twin-b"]
    assert conf[0]["p_beats_next"] == 1.0 and conf[0]["tied_with_next"] is False
    assert conf[0]["rank_low"] == conf[0]["rank_high"] == 1
    assert conf[1]["tied_with_next"] is True and conf[1]["p_beats_next"] == 0.5
    # Equal scores in a replicate keep the final tie rule (received first), so the twins keep their order.
    assert conf[2]["tied_with_next"] is None and (conf[2]["rank_low"], conf[2]["rank_high"]) == (3, 3)
    award = env.get("/api/v1/competitions/tiny/award", env.judge).get_json()
    assert award["confidence_computed"] is True
    assert [e["confidence"]["tied_with_next"] for e in award["pending"]] == [False, True, None]
    # Not on the public board before publication; on the published final board for everyone.
    assert env.get("/api/v1/competitions/tiny/leaderboard?split=private").status_code == 403
    env.client.post("/api/v1/competitions/tiny/publish", headers=_auth(env.organizer))
    public = env.get("/api/v1/competitions/tiny/leaderboard?split=private").get_json()
    assert [e["confidence"] for e in public["entries"]] == conf
    audit = json.loads(env.get("/api/v1/competitions/tiny/audit?format=json", env.judge).get_data(as_text=True))
    stored = json.loads(audit["rank_confidence"]["content"])
    assert stored["replicates"] == 1000 and stored["seed"] == public["snapshot_sha256"]
    actions = [e for e in audit["action_log"]["entries"] if e["action"] == "freeze.confidence"]
    assert json.loads(actions[0]["payload"])["confidence_sha256"] == audit["rank_confidence"]["sha256"]
    text = env.get("/api/v1/competitions/tiny/audit?format=csv&table=confidence", env.judge).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["team"] for r in rows] == ["best", "twin-a", "twin-b"] and rows[1]["tied_with_next"] == "True"
    report = verify(env.rt, "tiny")
    assert report.ok, report.to_dict()["differences"]


def test_verify_fails_when_a_stored_confidence_value_is_altered(env: Env) -> None:
    _frozen_with_three_teams(env)
    assert verify(env.rt, "tiny").ok
    with env.rt.write() as session:
        row = session.execute(sa.select(RankConfidence)).scalar_one()
        doc = json.loads(row.content)
        doc["entries"][1]["tied_with_next"] = False  # claim the twins are separated
        row.content = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    messages = [d.message for d in verify(env.rt, "tiny").differences if d.kind == "confidence"]
    assert any("does not match its SHA-256" in m for m in messages)
    assert any("tied_with_next (stored False, recomputed True)" in m for m in messages)
    # Re-hashing the altered text does not help: the action log recorded the original hash.
    with env.rt.write() as session:
        row = session.execute(sa.select(RankConfidence)).scalar_one()
        import hashlib

        row.sha256 = hashlib.sha256(row.content.encode()).hexdigest()
        assert session.execute(sa.select(ActionLogEntry).where(ActionLogEntry.action == "freeze.confidence")).scalar_one()
    report = verify(env.rt, "tiny")
    messages = [d.message for d in report.differences if d.kind == "confidence"]
    assert any("freeze.confidence entry recorded" in m for m in messages)
    assert any("recomputed True" in m for m in messages)
    # Such a report is what the API documents (its kinds include "confidence").
    assert contract_errors("VerifyReport", report.to_dict()) == []


def test_the_reconciler_queues_a_missing_confidence_job(env: Env) -> None:
    from rq.job import Job

    from server.queue import reconcile

    env.competition()
    env.upload(env.team("solo"), tiny_predictions(0.5))
    env.work()
    env.advance(days=8)
    assert env.client.post("/api/v1/competitions/tiny/freeze", headers=_auth(env.organizer)).status_code == 200
    Job.fetch("confidence-1", connection=env.rt.redis).delete()  # as if the queue had been down
    award = env.get("/api/v1/competitions/tiny/award", env.organizer).get_json()
    assert award["confidence_computed"] is False
    reconcile(env.rt)  # (each worker also runs it as part of its maintenance)
    assert Job.fetch("confidence-1", connection=env.rt.redis).get_status() == "queued"
    env.work()
    award = env.get("/api/v1/competitions/tiny/award", env.organizer).get_json()
    assert award["confidence_computed"] is True
    assert award["pending"][0]["confidence"] == {"rank_low": 1, "rank_high": 1, "p_beats_next": None,
                                                 "bayes_factor_next": None, "tied_with_next": None}
