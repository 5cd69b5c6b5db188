"""The end of a competition from the command line alone: freeze, verification, award, audit, verify, publish, rescore."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import sqlalchemy as sa

import server.cli.final  # noqa: F401  (the commands under test)
from server.cli import cli
from server.models import Submission
from tests.server.conftest import Env
from tests.server.test_final import run_competition


def _run(env: Env, *args: str) -> tuple[int, str]:
    result = env.app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _json(env: Env, *args: str) -> tuple[int, Any]:
    code, out = _run(env, *args, "--json")
    return code, json.loads(out)


def test_an_organizer_ends_the_hackathon_from_the_cli(env: Env) -> None:
    done = run_competition(env)
    code, data = _json(env, "freeze", "tiny")
    assert code == 2 and data["error"] == "not_ended" and "ends at" in data["message"]
    env.advance(days=8)
    code, frozen = _json(env, "freeze", "tiny")
    assert code == 0 and len(frozen["sha256"]) == 64 and frozen["submissions"] == 11
    code, out = _run(env, "freeze", "tiny")
    assert code == 2 and "already frozen" in out

    code, data = _json(env, "verification", "tiny", "Alpha", "--state", "verified")
    assert code == 0 and data == {**data, "team": "Alpha", "state": "verified", "previous": "pending"}
    code, data = _json(env, "verification", "tiny", "Beta", "--state", "disqualified")
    assert code == 2 and "needs a reason" in data["message"]
    code, out = _run(env, "verification", "tiny", "Beta", "--state", "disqualified", "--reason", "shared code")
    assert code == 0 and out.strip() == "Beta: pending → disqualified (shared code)"
    code, data = _json(env, "verification", "tiny", "Nobody", "--state", "verified")
    assert code == 2 and "no team named 'Nobody'" in data["message"]
    code, out = _run(env, "eligibility", "--not-eligible", "--json", "--", "-cmd")  # a name that looks like an option
    data = json.loads(out)
    assert code == 0 and data["team"] == "-cmd" and data["eligible"] is False

    code, award = _json(env, "award", "tiny")
    assert code == 0 and [e["team"] for e in award["standings"]] == ["Alpha"]
    assert award["disqualified"][0]["reason"] == "shared code"
    code, out = _run(env, "award", "tiny")
    assert "disqualified:" in out and "Beta: shared code" in out

    target = env.tmp / "audit.csv"
    code, data = _json(env, "audit", "tiny", "--format", "csv", "-o", str(target))
    assert code == 0 and data["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 11 and {"'=1+2", "'-cmd", "'@SUM(1)", "'\t=1"} <= {r["team"] for r in rows}
    assert all(r["snapshot_sha256"] == frozen["sha256"] for r in rows)
    code, out = _run(env, "audit", "tiny", "--format", "json")
    audit = json.loads(out)
    assert code == 0 and audit["snapshot"]["sha256"] == frozen["sha256"] and len(audit["submissions"]) == 11
    code, out = _run(env, "audit", "tiny", "--table", "log")
    assert code == 0 and out.splitlines()[0].startswith("id,created_at_utc,actor,action")

    code, report = _json(env, "verify", "tiny")
    assert code == 0 and report["ok"] is True and report["matches"] == 11 and report["differences"] == []
    code, out = _run(env, "verify", "tiny")
    assert code == 0 and "OK:" in out

    code, published = _json(env, "publish", "tiny")
    assert code == 0 and published["sha256"] == frozen["sha256"] and published["published_at"]
    board = env.get("/api/v1/competitions/tiny/leaderboard?split=private").json
    assert board["published"] is True and board["snapshot_sha256"] == frozen["sha256"]

    victim = done.subs["Alpha"][1]
    with env.rt.write() as session:
        session.execute(sa.update(Submission).where(Submission.id == victim).values(public_score=0.001))
    code, out = _run(env, "verify", "tiny")
    assert code == 1 and "FAILED" in out and f"[score] {victim}: public score recorded 0.001" in out
    code, report = _json(env, "verify", "tiny")
    assert code == 1 and report["ok"] is False and victim in report["culprits"]


def test_rescore_from_the_cli(env: Env) -> None:
    done = run_competition(env)
    code, out = _run(env, "rescore", "tiny")
    assert code == 2 and "either --all or one or more --submission" in out
    code, data = _json(env, "rescore", "tiny", "--submission", done.subs["Gamma"][0])
    assert code == 0 and data["rescored"] == 1 and data["changed"] == 0 and data["rank_changes"]["public"] == []
    code, data = _json(env, "rescore", "tiny", "--all")
    assert code == 0 and data["rescored"] == 11 and data["labels"] is None
    code, data = _json(env, "rescore", "tiny", "--submission", "unknown-id")
    assert code == 2 and "unknown-id" in data["message"]
