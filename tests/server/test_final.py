"""The end of a competition as organizers and judges meet it: freeze, publish, award, audit, verify."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from server.models import ActionLogEntry, Snapshot, Submission, Team
from server.services.competitions import get_competition
from server.services.leaderboard import public_board
from server.services.verify import verify
from tests.server.conftest import Env, tiny_predictions

# Names a spreadsheet would run as formulas (registered verbatim, neutralised on export).
FORMULA_NAMES = ["=1+2", "@SUM(1)", "-cmd", "\t=1"]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _post(env: Env, path: str, token: str, body: Any = None) -> Any:
    return env.client.post(path, json=body if body is not None else {}, headers=_auth(token))


def _put(env: Env, path: str, token: str, body: Any) -> Any:
    return env.client.put(path, json=body, headers=_auth(token))


@dataclass
class Finished:
    """A competition whose end has passed, with every submission scored."""

    tokens: dict[str, str]
    subs: dict[str, list[str]]  # team → submission ids, in upload order
    team_ids: dict[str, int]


def _submit(env: Env, token: str, data: bytes) -> str:
    env.advance(minutes=1)  # distinct receipt times, so ties and orders are deterministic
    response = env.upload(token, data)
    assert response.status_code == 202, response.json
    return str(response.json["id"])


def run_competition(env: Env) -> Finished:
    """Teams submit (some choose finals, some do not); the clock passes end_at."""
    env.competition()
    names = ["Alpha", "Beta", "Gamma", *FORMULA_NAMES]
    tokens = {n: env.team(n) for n in names}
    subs: dict[str, list[str]] = {n: [] for n in names}
    # Public/private RMSE offsets; every file differs, so every stored file is its own.
    plan = {
        "Alpha": [(0.50, 0.40), (0.30, 0.90), (0.70, 0.20)],  # chooses 0.50 and 0.70 as finals
        "Beta": [(0.35, 0.35), (0.45, 0.10)],                 # auto: its two best public
        "Gamma": [(0.20, 0.60)],                               # chooses its only one
        "=1+2": [(0.25, 0.25)],
        "@SUM(1)": [(0.60, 0.30)],
        "-cmd": [(0.80, -1.0)],                                # private offset -1: RMSE 1.0
        "\t=1": [(0.90, 0.80)],
    }
    for team, offsets in plan.items():
        for pub, priv in offsets:
            subs[team].append(_submit(env, tokens[team], tiny_predictions(pub, priv)))
    subs["-cmd"].append(_submit(env, tokens["-cmd"], b"id,y\nT000,abc\n"))  # rejected
    env.advance(hours=1)
    env.work()
    assert _put(env, "/api/v1/competitions/tiny/selection", tokens["Alpha"],
                {"submission_ids": [subs["Alpha"][0], subs["Alpha"][2]]}).status_code == 200
    assert _put(env, "/api/v1/competitions/tiny/selection", tokens["Gamma"],
                {"submission_ids": [subs["Gamma"][0]]}).status_code == 200
    with env.rt.session() as session:
        team_ids = dict(session.execute(sa.select(Team.name, Team.id)).all())
    return Finished(tokens, subs, team_ids)


def _pass_end(env: Env) -> None:
    env.advance(days=8)


def _freeze(env: Env) -> dict[str, Any]:
    response = _post(env, "/api/v1/competitions/tiny/freeze", env.organizer)
    assert response.status_code == 200, response.json
    return dict(response.json)


def test_freeze_waits_for_the_end_and_the_queue(env: Env) -> None:
    done = run_competition(env)
    early = _post(env, "/api/v1/competitions/tiny/freeze", env.organizer)
    assert early.status_code == 409 and early.json["error"] == "not_ended"
    assert "ends at 2026-08-08T12:00:00+09:00" in early.json["message"]
    last_minute = _submit(env, done.tokens["Beta"], tiny_predictions(0.11, 0.12))
    _pass_end(env)
    late = env.upload(done.tokens["Gamma"], tiny_predictions(0.01))
    assert late.status_code == 409 and "closed at" in late.json["message"]
    pending = _post(env, "/api/v1/competitions/tiny/freeze", env.organizer)
    assert pending.status_code == 409 and pending.json["pending"] == 1
    assert pending.json["message"].startswith("1 submission received before the end is still queued")
    env.work()
    snapshot = _freeze(env)
    assert snapshot["submissions"] == 12 and len(snapshot["sha256"]) == 64
    assert snapshot["public_board"][0]["submission_id"] == last_minute  # on time, so it counts
    again = _post(env, "/api/v1/competitions/tiny/freeze", env.organizer)
    assert again.status_code == 409 and snapshot["sha256"] in again.json["message"]


def test_snapshot_matches_the_live_boards_and_nothing_changes_it(env: Env) -> None:
    done = run_competition(env)
    _pass_end(env)
    with env.rt.session() as session:
        live_public = public_board(session, get_competition(session, "tiny"))
    live_private = env.get("/api/v1/competitions/tiny/leaderboard?split=private", env.organizer).json
    snapshot = _freeze(env)
    assert snapshot["public_board"] == live_public
    frozen_private = env.get("/api/v1/competitions/tiny/leaderboard?split=private", env.organizer).json
    assert frozen_private["entries"] == live_private["entries"]
    assert frozen_private["snapshot_sha256"] == snapshot["sha256"] and frozen_private["frozen"] is True
    # Finals: chosen for Alpha and Gamma, automatic (two best public) for Beta.
    finals = {f["team"]: f for f in snapshot["finals"]}
    assert finals["Alpha"]["mode"] == "chosen" and finals["Alpha"]["submission_ids"] == [done.subs["Alpha"][0], done.subs["Alpha"][2]]
    assert finals["Beta"] == {"team_id": done.team_ids["Beta"], "team": "Beta", "mode": "auto",
                              "submission_ids": [done.subs["Beta"][0], done.subs["Beta"][1]]}
    alpha = next(e for e in snapshot["private_board"] if e["team"] == "Alpha")
    assert alpha["score"] == pytest.approx(0.2, abs=1e-9) and alpha["final"] == "chosen"  # its third upload
    assert alpha["move"] == alpha["public_rank"] - alpha["rank"]
    # After the freeze: no upload, no selection change, no rescore.
    refused = [
        env.upload(done.tokens["Alpha"], tiny_predictions(0.01)),
        _put(env, "/api/v1/competitions/tiny/selection", done.tokens["Beta"], {"submission_ids": [done.subs["Beta"][0]]}),
        _post(env, "/api/v1/competitions/tiny/rescore", env.organizer, {"all": True}),
    ]
    assert [r.status_code for r in refused] == [409, 409, 409]
    assert all("frozen" in r.json["message"] or "closed" in r.json["message"] for r in refused)


def test_snapshot_hash_is_stable_across_reads_and_a_restart(make_env: Any) -> None:
    env = make_env()
    run_competition(env)
    _pass_end(env)
    frozen = _freeze(env)
    first = env.get("/api/v1/competitions/tiny/leaderboard").json["snapshot_sha256"]
    second = env.get("/api/v1/competitions/tiny/leaderboard").json["snapshot_sha256"]
    with env.rt.session() as session:
        row = session.execute(sa.select(Snapshot)).scalar_one()
        assert hashlib.sha256(row.content.encode("utf-8")).hexdigest() == row.sha256
    restarted = make_env()  # a new app (engine, runtime) on the same database and instance folder
    restarted.set_now(env.now)
    third = restarted.get("/api/v1/competitions/tiny/leaderboard").json["snapshot_sha256"]
    assert frozen["sha256"] == first == second == third
    assert verify(restarted.rt, "tiny").ok


def test_database_refuses_to_change_a_snapshot(env: Env) -> None:
    run_competition(env)
    _pass_end(env)
    _freeze(env)
    for statement in ("UPDATE snapshots SET content = '{}'", "DELETE FROM snapshots",
                      "UPDATE action_log SET actor = 'someone else'"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), env.rt.write() as session:
            session.execute(sa.text(statement))


def test_private_scores_stay_hidden_until_publish(env: Env) -> None:
    done = run_competition(env)
    _pass_end(env)
    _freeze(env)
    team_view = env.get(f"/api/v1/submissions/{done.subs['Alpha'][0]}", done.tokens["Alpha"]).json
    assert "private_score" not in team_view
    assert env.get("/api/v1/competitions/tiny/leaderboard?split=private").status_code == 403
    assert env.get("/api/v1/competitions/tiny/leaderboard?split=private", done.tokens["Alpha"]).status_code == 403
    assert env.get("/api/v1/competitions/tiny/leaderboard?split=private", env.judge).status_code == 200
    assert env.get("/api/v1/competitions/tiny/audit", done.tokens["Alpha"]).status_code == 403
    assert env.get("/api/v1/competitions/tiny/award").status_code == 401
    published = _post(env, "/api/v1/competitions/tiny/publish", env.organizer)
    assert published.status_code == 200 and published.json["published_at"] == env.now.isoformat().replace("+00:00", "Z")
    assert _post(env, "/api/v1/competitions/tiny/publish", env.organizer).status_code == 409
    public_private = env.get("/api/v1/competitions/tiny/leaderboard?split=private").json
    assert public_private["published"] is True
    assert public_private["entries"] == [{**{k: v for k, v in e.items() if k != "team_id"}, "confidence": None}
                                         for e in published.json["private_board"]]  # the job has not run here
    page = env.client.get("/competitions/tiny/leaderboard", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert published.json["private_board"][0]["team"] in page


def test_judges_get_403_on_organizer_actions(env: Env) -> None:
    done = run_competition(env)
    assert env.get("/api/v1/competitions/tiny/audit?format=csv", env.judge).status_code == 403  # before freeze
    assert env.get("/api/v1/competitions/tiny/audit?format=csv", env.organizer).status_code == 200
    _pass_end(env)
    team = done.team_ids["Alpha"]
    actions = [
        ("post", "/api/v1/competitions/tiny/freeze", {}),
        ("post", "/api/v1/competitions/tiny/publish", {}),
        ("post", "/api/v1/competitions/tiny/rescore", {"all": True}),
        ("put", f"/api/v1/competitions/tiny/teams/{team}/verification", {"state": "verified"}),
        ("put", f"/api/v1/teams/{team}/eligibility", {"eligible": False}),
    ]
    for method, path, body in actions:
        response = getattr(env.client, method)(path, json=body, headers=_auth(env.judge))
        assert response.status_code == 403, path
        assert "judge token is read-only" in response.json["message"]  # refused before the view (issue 9)
        assert getattr(env.client, method)(path, json=body, headers=_auth(done.tokens["Alpha"])).status_code == 403
    assert env.get("/api/v1/competitions/tiny/award", env.judge).status_code == 403  # not frozen yet
    _freeze(env)
    assert env.get("/api/v1/competitions/tiny/audit?format=json", env.judge).status_code == 200
    assert env.get("/api/v1/competitions/tiny/award", env.judge).status_code == 200


def test_award_standings_after_a_disqualification(env: Env) -> None:
    done = run_competition(env)
    ids = done.team_ids
    early = _put(env, f"/api/v1/competitions/tiny/teams/{ids['Alpha']}/verification", env.organizer, {"state": "verified"})
    assert early.status_code == 409 and "freeze first" in early.json["message"]
    _pass_end(env)
    snapshot = _freeze(env)
    private = snapshot["private_board"]
    for team in ("Alpha", "Beta", "Gamma", "@SUM(1)", "-cmd"):
        assert _put(env, f"/api/v1/competitions/tiny/teams/{ids[team]}/verification", env.organizer,
                    {"state": "verified"}).status_code == 200
    no_reason = _put(env, f"/api/v1/competitions/tiny/teams/{ids['Beta']}/verification", env.organizer,
                     {"state": "disqualified"})
    assert no_reason.status_code == 400 and "needs a reason" in no_reason.json["message"]
    bad_state = _put(env, f"/api/v1/competitions/tiny/teams/{ids['Beta']}/verification", env.organizer,
                     {"state": "approved"})
    assert bad_state.status_code == 400 and "found 'approved'" in bad_state.json["message"]
    dq = _put(env, f"/api/v1/competitions/tiny/teams/{ids['Beta']}/verification", env.organizer,
              {"state": "disqualified", "reason": "used the test labels"})
    assert dq.status_code == 200 and dq.json["previous"] == "verified"
    assert _put(env, f"/api/v1/teams/{ids['-cmd']}/eligibility", env.organizer,
                {"eligible": False, "reason": "member over 29"}).json["eligible"] is False
    award = env.get("/api/v1/competitions/tiny/award", env.judge).json
    assert award["snapshot_sha256"] == snapshot["sha256"]
    expected = [e["team"] for e in private if e["team"] in ("Alpha", "Gamma", "@SUM(1)")]
    assert [e["team"] for e in award["standings"]] == expected
    assert [e["award_rank"] for e in award["standings"]] == [1, 2, 3]
    assert [e["private_rank"] for e in award["standings"]] == [e["rank"] for e in private if e["team"] in expected]
    assert [(e["team"], e["reason"]) for e in award["disqualified"]] == [("Beta", "used the test labels")]
    assert [e["team"] for e in award["not_eligible"]] == ["-cmd"]
    assert sorted(e["team"] for e in award["pending"]) == ["\t=1", "=1+2"]
    # The snapshot is untouched and every decision is in the log.
    assert env.get("/api/v1/competitions/tiny/leaderboard?split=private", env.organizer).json["snapshot_sha256"] == snapshot["sha256"]
    with env.rt.session() as session:
        actions = session.execute(sa.select(ActionLogEntry.action)).scalars().all()
    assert actions.count("verification") == 5 and actions.count("disqualification") == 1
    assert "team.eligibility" in actions and "freeze" in actions


def _audit_csv(env: Env, token: str, table: str = "submissions") -> list[dict[str, str]]:
    response = env.get(f"/api/v1/competitions/tiny/audit?format=csv&table={table}", token)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Disposition"].startswith("attachment")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_audit_csv_neutralises_formulas_and_keeps_exact_scores(env: Env) -> None:
    done = run_competition(env)
    _pass_end(env)
    snapshot = _freeze(env)
    rows = _audit_csv(env, env.judge)
    assert len(rows) == 11 and list(rows[0]) == [
        "submission_id", "team", "team_id", "received_at_utc", "received_at_local", "sha256", "bytes", "rows",
        "status", "message", "public_score", "private_score", "final", "metric", "scorer_version",
        "labels_sha256", "scoring_seconds", "attempts", "snapshot_sha256"]
    teams = {r["team"] for r in rows}
    assert {"'=1+2", "'@SUM(1)", "'-cmd", "'\t=1", "Alpha"} <= teams
    assert not any(r["team"].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows)
    with env.rt.session() as session:
        recorded = {s.id: s for s in session.execute(sa.select(Submission)).scalars()}
    for row in rows:
        sub = recorded[row["submission_id"]]
        assert row["snapshot_sha256"] == snapshot["sha256"] and row["status"] == sub.status
        if sub.status == "scored":
            assert float(row["public_score"]) == sub.public_score  # exact, not approximately
            assert float(row["private_score"]) == sub.private_score
            assert row["received_at_local"].endswith("+09:00") and row["received_at_utc"].endswith("Z")
        else:
            assert row["public_score"] == "" and row["message"]
    raw = env.get(f"/api/v1/submissions/{rows[0]['submission_id']}/file", env.judge)  # judges fetch raw files
    assert raw.status_code == 200 and hashlib.sha256(raw.data).hexdigest() == rows[0]["sha256"]
    raw.close()
    finals = {r["submission_id"]: r["final"] for r in rows if r["final"]}
    assert finals[done.subs["Alpha"][0]] == "chosen" and finals[done.subs["Beta"][1]] == "auto"
    negative = next(r for r in rows if r["team"] == "'-cmd" and r["status"] == "scored")
    assert float(negative["private_score"]) == pytest.approx(1.0)  # a number, not neutralised text
    log = _audit_csv(env, env.organizer, "log")
    assert [r["action"] for r in log][-1] == "freeze" and all(len(r["sha256"]) == 64 for r in log)


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(1)", "\t=1", "\r=1"])
def test_neutralise_formula_starts(value: str) -> None:
    from server.services.audit import neutralise

    assert neutralise(value) == "'" + value
    assert neutralise("Alpha") == "Alpha" and neutralise("") == ""


def _strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_audit_json_is_strict_and_holds_the_snapshot_and_log(env: Env) -> None:
    run_competition(env)
    _pass_end(env)
    snapshot = _freeze(env)
    response = env.get("/api/v1/competitions/tiny/audit?format=json", env.judge)
    assert response.status_code == 200 and response.mimetype == "application/json"
    audit = _strict(response.get_data(as_text=True))
    content = audit["snapshot"]["content"]
    assert hashlib.sha256(content.encode("utf-8")).hexdigest() == snapshot["sha256"] == audit["snapshot"]["sha256"]
    assert len(audit["submissions"]) == 11 and audit["private_scores_included"] is True
    by_id = {s["submission_id"]: s for s in audit["submissions"]}
    for entry in json.loads(content)["submissions"]:
        assert by_id[entry["id"]]["private_score"] == entry["private_score"]
    # A judge can recompute the whole log chain from the file alone.
    from server.services.actionlog import GENESIS, canonical_json

    prev = GENESIS
    for entry in audit["action_log"]["entries"]:
        body = canonical_json({"prev": prev, "at": entry["created_at_utc"], "actor": entry["actor"],
                               "action": entry["action"], "competition_id": entry["competition_id"],
                               "payload": entry["payload"]})
        assert entry["prev_sha256"] == prev and hashlib.sha256(body.encode()).hexdigest() == entry["sha256"]
        prev = entry["sha256"]
    bad = env.get("/api/v1/competitions/tiny/audit?format=xml", env.judge)
    assert bad.status_code == 400 and "found 'xml'" in bad.json["message"]


def _drop_log_trigger(env: Env) -> None:
    """Act as an attacker with a SQL shell: remove the append-only guard first."""
    with env.rt.write() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("DROP TRIGGER action_log_append_only ON action_log"))
        else:
            session.execute(sa.text("DROP TRIGGER action_log_no_update"))


def test_verify_passes_then_names_each_tampering(env: Env) -> None:
    done = run_competition(env)
    _pass_end(env)
    _freeze(env)
    _post(env, "/api/v1/competitions/tiny/publish", env.organizer)
    report = verify(env.rt, "tiny")
    assert report.ok, report.to_dict()
    assert (report.submissions, report.files, report.rescored, report.matches) == (11, 11, 11, 11)

    # 1. A stored file altered on disk.
    victim = done.subs["Gamma"][0]
    with env.rt.session() as session:
        sha = session.get_one(Submission, victim).sha256
    path = env.rt.storage.submission_path(sha)
    original = path.read_bytes()
    path.write_bytes(original.replace(b"T001,", b"T001,1"))
    report = verify(env.rt, "tiny")
    assert not report.ok and report.culprits == [victim]
    assert report.differences[0].kind == "file" and "altered" in report.differences[0].message
    path.write_bytes(original)
    assert verify(env.rt, "tiny").ok

    # 2. A score edited in the database.
    edited = done.subs["Beta"][1]
    with env.rt.write() as session:
        session.execute(sa.update(Submission).where(Submission.id == edited)
                        .values(private_score=Submission.private_score / 2))
    report = verify(env.rt, "tiny")
    assert not report.ok and edited in report.culprits
    kinds = {(d.kind, d.subject) for d in report.differences}
    assert ("score", edited) in kinds and ("snapshot", edited) in kinds
    assert any(d.kind == "board" for d in report.differences)  # Beta's private best changed
    with env.rt.write() as session:
        session.execute(sa.update(Submission).where(Submission.id == edited)
                        .values(private_score=Submission.private_score * 2))
    assert verify(env.rt, "tiny").ok

    # 3. A log entry edited (after dropping the trigger that forbids it).
    _drop_log_trigger(env)
    with env.rt.write() as session:
        entry_id = session.execute(sa.select(ActionLogEntry.id).where(ActionLogEntry.action == "team.create")
                                   .order_by(ActionLogEntry.id).limit(1)).scalar_one()
        session.execute(sa.update(ActionLogEntry).where(ActionLogEntry.id == entry_id)
                        .values(payload=ActionLogEntry.payload + " "))
    report = verify(env.rt, "tiny")
    assert not report.ok and report.culprits == []
    assert [(d.kind, d.subject) for d in report.differences] == [("log", f"log entry {entry_id}")]
    assert "was altered" in report.differences[0].message


def test_verify_catches_a_replaced_snapshot(env: Env) -> None:
    run_competition(env)
    _pass_end(env)
    _freeze(env)
    with env.rt.write() as session:
        dialect = session.get_bind().dialect.name
        session.execute(sa.text("DROP TRIGGER snapshots_append_only ON snapshots" if dialect == "postgresql"
                                else "DROP TRIGGER snapshots_no_update"))
    with env.rt.write() as session:
        snap = session.execute(sa.select(Snapshot)).scalar_one()
        content = json.loads(snap.content)
        first, second = content["private_board"][0], content["private_board"][1]
        first["team"], second["team"] = second["team"], first["team"]
        from server.services.actionlog import canonical_json

        snap.content = canonical_json(content)
        snap.sha256 = hashlib.sha256(snap.content.encode()).hexdigest()  # a consistent forgery
    report = verify(env.rt, "tiny")
    subjects = {(d.kind, d.subject) for d in report.differences}
    assert ("snapshot", "snapshot") in subjects  # not the hash the freeze entry recorded
    assert ("board", "private board rank 1") in subjects and ("board", "private board rank 2") in subjects


def test_rescore_after_a_labels_correction(env: Env) -> None:
    done = run_competition(env)
    judge = _post(env, "/api/v1/competitions/tiny/rescore", env.judge, {"all": True})
    assert judge.status_code == 403
    bad = _post(env, "/api/v1/competitions/tiny/rescore", env.organizer, {"submission_ids": ["nope"]})
    assert bad.status_code == 400 and "nope" in bad.json["message"]
    one = _post(env, "/api/v1/competitions/tiny/rescore", env.organizer, {"submission_ids": [done.subs["Alpha"][0]]})
    assert one.status_code == 200 and one.json["rescored"] == 1 and one.json["changed"] == 0
    # Corrected labels: every public row's truth moves by +0.5, so Alpha's 0.50-offset file becomes exact.
    from server.services.rescore import rescore
    from tests.server.conftest import N_ROWS

    lines = ["id,y,Usage"] + [f"T{i:03d},{i * 1.5 + (0.5 if i % 2 == 0 else 0.0)},{'Public' if i % 2 == 0 else 'Private'}"
                              for i in range(N_ROWS)]
    corrected = env.tmp / "labels-v2.csv"
    corrected.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(Exception, match="leave out the submission ids"):
        rescore(env.rt, "tiny", actor="test", submission_ids=[done.subs["Alpha"][0]], labels_file=corrected)
    report = rescore(env.rt, "tiny", actor="test", labels_file=corrected)
    assert report["rescored"] == 11 and report["changed"] == 9  # rejected stays rejected; |0.25 - 0.5| = 0.25
    assert report["labels"]["to"] == hashlib.sha256(corrected.read_bytes()).hexdigest()
    top = report["rank_changes"]["public"][0]
    assert top["team"] == "Alpha" and top["rank_after"] == 1 and top["score_after"] == 0.0
    with env.rt.session() as session:
        history = session.execute(sa.text("SELECT count(*) FROM score_history")).scalar_one()
        alpha = session.get_one(Submission, done.subs["Alpha"][0])
        assert alpha.public_score == 0.0 and alpha.labels_sha256 == report["labels"]["to"]
    assert history == 1 + 11
    assert verify(env.rt, "tiny").ok  # every score agrees with the corrected labels
    board = env.get("/api/v1/competitions/tiny/leaderboard").json["entries"]
    assert board[0]["team"] == "Alpha" and board[0]["score"] == 0.0


def test_submissions_are_read_in_batches_without_gaps_or_repeats(env: Env) -> None:
    from server.services.audit import iter_submissions

    env.competition()
    tokens = [env.team(f"T{i}") for i in range(3)]
    for k in range(7):  # same receipt time for several: the id breaks the tie
        env.upload(tokens[k % 3], tiny_predictions(0.1 * k))
        if k % 3 == 2:
            env.advance(minutes=1)
    with env.rt.session() as session:
        expected = session.execute(sa.select(Submission.id).order_by(Submission.received_at, Submission.id)).scalars().all()
        comp_id = get_competition(session, "tiny").id
    for batch in (1, 2, 3, 1000):
        assert [s.id for (s,) in iter_submissions(env.rt, comp_id, batch=batch)] == expected
        columns = (Submission.id, Submission.received_at)
        assert [r.id for r in iter_submissions(env.rt, comp_id, columns, batch=batch)] == expected


def test_verify_reports_changed_labels_without_crashing(env: Env) -> None:
    run_competition(env)
    with env.rt.session() as session:
        comp = get_competition(session, "tiny")
    path = env.rt.storage.labels_path(comp.labels_file)
    path.chmod(0o600)
    path.write_text(path.read_text().replace("T000,0.0", "T000,9.0"))
    report = verify(env.rt, "tiny")
    assert not report.ok and report.rescored == 0 and report.files == 11
    assert [(d.kind, d.subject) for d in report.differences] == [("labels", "labels")]
    assert "hidden labels file changed" in report.differences[0].message
