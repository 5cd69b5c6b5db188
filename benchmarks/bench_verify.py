"""Benchmark `verify` on a competition with 20,000 submissions of the 310-row product-quality task.

    python benchmarks/bench_verify.py [--submissions 20000] [--teams 200] [--home DIR] [--database-url URL]

Builds the instance directly (services and bulk database inserts, no queue): hidden labels for
the real `datasets/product-quality/task.toml` (310 ids, classes 0/1/2, hash split), one stored file
per submission (each a different perturbation of the labels, 1% of them invalid), every file
scored with `scoring.score` to record its real result, finals chosen by half of the teams, then
the freeze. Then `verify` runs in a fresh process, which reports its wall time and its peak
resident set size during verify (Linux VmHWM, reset through /proc/self/clear_refs just before)
together with the resident size just before verify started (after the imports), so the
difference is what verify itself needed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _load import status_mb  # noqa: E402

ROWS = 310
CLASSES = ("0", "1", "2")


def _runtime(home: Path, database_url: str | None):  # type: ignore[no-untyped-def]
    from server.config import load_config
    from server.runtime import Runtime

    config = {"HOME": home, "DATABASE_URL": database_url or f"sqlite:///{home / 'hackathon.db'}",
              "REDIS_URL": "redis://127.0.0.1:1/0"}  # never contacted: nothing is queued
    return Runtime(load_config(config))


def build(home: Path, database_url: str | None, n_subs: int, n_teams: int, seed: int) -> dict[str, float]:
    """Create the instance: competition, teams, stored files, scored submission rows, finals, freeze."""
    import sqlalchemy as sa

    from scoring import SubmissionRejected, score
    from server.cli.app import init_database
    from server.models import FinalSelection, Submission, Team, Token
    from server.services.competitions import (
        CompetitionSettings,
        competition_labels,
        competition_task,
        create_competition,
    )
    from server.services.freeze import freeze
    from server.services.leaderboard import refresh_standing

    rng = random.Random(seed)
    rt = _runtime(home, database_url)
    init_database(rt)
    t0 = time.perf_counter()
    start = datetime(2026, 8, 1, tzinfo=UTC)
    rt.clock = lambda: start
    truth = [rng.choice(CLASSES) for _ in range(ROWS)]
    labels_file = home / "labels-src.csv"
    labels_file.write_text("PRODUCT_ID,Y_Class\n" + "".join(f"TEST_{i:03d},{y}\n" for i, y in enumerate(truth)))
    create_competition(rt, actor="bench", task_dir=ROOT / "datasets" / "product-quality", labels_file=labels_file,
                       slug="pq-bench", settings=CompetitionSettings(start=start.isoformat(),
                                                               end=(start + timedelta(days=30)).isoformat(),
                                                               daily_limit=100),
                       split_seed="bench")
    with rt.write() as session:
        comp_id = session.execute(sa.text("SELECT id FROM competitions WHERE slug = 'pq-bench'")).scalar_one()
        teams = [Team(name=f"team-{i:04d}", eligible=True, created_at=start) for i in range(n_teams)]
        session.add_all(teams)
        session.flush()
        team_ids = [t.id for t in teams]
        session.add_all(Token(token_hash=hashlib.sha256(f"bench-{i}".encode()).hexdigest(), role="team",
                              name=f"team-{i:04d}", team_id=t, created_at=start) for i, t in enumerate(team_ids))
    with rt.session() as session:
        from server.services.competitions import get_competition

        comp = get_competition(session, "pq-bench")
    task, labels = competition_task(rt, comp), competition_labels(rt, comp)
    rt.storage.ensure_folders()
    rows: list[dict[str, object]] = []
    batch = 2000
    t_files = time.perf_counter()
    for k in range(n_subs):
        flip = rng.random() * 0.6
        preds = [rng.choice(CLASSES) if rng.random() < flip else y for y in truth]
        lines = [f"TEST_{i:03d},{p}\n" for i, p in enumerate(preds)]
        bad = rng.random() < 0.01
        if bad:
            del lines[rng.randrange(ROWS)]  # a missing id: rejected
        data = ("PRODUCT_ID,Y_Class\n" + "".join(lines)).encode()  # identical files share one stored copy
        sha = hashlib.sha256(data).hexdigest()
        path = rt.storage.submission_path(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        began = time.perf_counter()
        received = start + timedelta(seconds=60 * k + rng.randrange(60))
        row: dict[str, object] = {
            "id": os.urandom(16).hex(), "competition_id": comp_id, "team_id": team_ids[k % n_teams],
            "received_at": received, "sha256": sha, "bytes": len(data), "attempts": 1,
            "started_at": received, "scored_at": received, "scorer_version": None, "labels_sha256": labels.sha256,
        }
        try:
            result = score(path, labels, task, max_bytes=comp.max_upload_bytes * 10)
            row.update(status="scored", public_score=result.public_score, private_score=result.private_score,
                       rows=result.rows, scorer_version=result.scorer_version, message=None)
        except SubmissionRejected as exc:
            row.update(status="rejected", public_score=None, private_score=None, rows=None, message=exc.message)
        row["duration_s"] = time.perf_counter() - began
        rows.append(row)
        if len(rows) == batch or k == n_subs - 1:
            with rt.write() as session:
                session.execute(sa.insert(Submission), rows)
            rows = []
    t_files = time.perf_counter() - t_files
    from scoring import SCORER_VERSION

    with rt.write() as session:
        session.execute(sa.update(Submission).where(Submission.scorer_version.is_(None))
                        .values(scorer_version=SCORER_VERSION))
        for team_id in team_ids:
            refresh_standing(session, comp, team_id)
        for team_id in team_ids[::2]:  # half the teams choose their two latest scored files
            picks = session.execute(sa.select(Submission.id).where(
                Submission.team_id == team_id, Submission.status == "scored")
                .order_by(Submission.received_at.desc()).limit(2)).scalars().all()
            session.add_all(FinalSelection(competition_id=comp_id, team_id=team_id, submission_id=s, created_at=start)
                            for s in picks)
    rt.clock = lambda: start + timedelta(days=31)
    t_freeze = time.perf_counter()
    snapshot = freeze(rt, "pq-bench", "bench")
    t_freeze = time.perf_counter() - t_freeze
    rt.dispose()
    return {"build_seconds": round(time.perf_counter() - t0, 1), "files_and_scores_seconds": round(t_files, 1),
            "freeze_seconds": round(t_freeze, 2), "snapshot_sha256": snapshot["sha256"]}  # type: ignore[dict-item]


def run_verify(home: Path, database_url: str | None) -> dict[str, object]:
    """Run verify in this process; report time, memory and the outcome."""
    import scoring  # noqa: F401  (imports are not verify's memory)
    import server.services.verify as verify_module

    rt = _runtime(home, database_url)
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (the peak) to the current RSS
    before = status_mb("VmRSS")
    started = time.perf_counter()
    report = verify_module.verify(rt, "pq-bench")
    seconds = time.perf_counter() - started
    peak = status_mb("VmHWM")  # not ru_maxrss: after fork+exec that keeps the parent's peak
    return {"ok": report.ok, "submissions": report.submissions, "files": report.files, "rescored": report.rescored,
            "matches": report.matches, "differences": report.differences_total, "seconds": round(seconds, 1),
            "per_submission_ms": round(1000 * seconds / max(report.submissions, 1), 2),
            "rss_before_mb": round(before, 1), "peak_rss_mb": round(peak, 1),
            "verify_extra_mb": round(peak - before, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=20_000)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--home", type=Path, help="Instance folder (default: a temporary one).")
    parser.add_argument("--database-url", help="Default: SQLite in the instance folder.")
    parser.add_argument("--verify-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.verify_only:
        print(json.dumps(run_verify(args.home, args.database_url)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        home = args.home or Path(tmp) / "instance"
        home.mkdir(parents=True, exist_ok=True)
        built = build(home, args.database_url, args.submissions, args.teams, args.seed)
        print(json.dumps({"built": built}), flush=True)
        command = [sys.executable, __file__, "--verify-only", "--home", str(home)]
        if args.database_url:
            command += ["--database-url", args.database_url]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"verify process failed:\n{done.stderr}")
        out = done.stdout
        print(json.dumps({"verify": json.loads(out.strip().splitlines()[-1])}), flush=True)


if __name__ == "__main__":
    main()
