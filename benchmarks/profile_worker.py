"""Where a scoring job's time goes: N small submissions queued, then one real worker drains them.

    python benchmarks/profile_worker.py [--jobs 300] [--teams 8] [--profile out.prof] [--database URL]

A fresh instance (SQLite unless --database, an embedded Valkey), a tiny competition and --teams
teams; the uploads go through the API (test client) with no worker running, then one
`ScoringWorker` (`run_worker(burst=True)`, the code `hackathon worker --burst` runs) scores them in
this process. Prints the worker's jobs/s and ms per job, and RQ's own no-op jobs/s through the
same worker class in the same process as the baseline; with --profile, the cProfile of the
scoring burst (top 30 by cumulative time printed; open the file with snakeviz/pstats).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import pstats
import shutil
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--profile", help="write the cProfile of the scoring burst here")
    parser.add_argument("--database", help="DATABASE_URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()

    from rq import Queue

    from server import create_app
    from server.cli.app import init_database
    from server.embedded import start_embedded_queue
    from server.serve import run_worker
    from server.services.competitions import CompetitionSettings, create_competition
    from server.services.teams import create_team
    from tests.server.conftest import TINY_TASK, tiny_labels, tiny_predictions

    tmp = Path(tempfile.mkdtemp(prefix="profile-worker-"))
    valkey, redis_url = start_embedded_queue(tmp / "valkey-home")
    try:
        app = create_app({"HOME": tmp / "inst", "DATABASE_URL": args.database or f"sqlite:///{tmp / 'h.db'}",
                          "REDIS_URL": redis_url, "QUEUE_NAME": "prof-" + uuid.uuid4().hex[:6]})
        rt = app.extensions["hackathon"]
        init_database(rt)
        (tmp / "task").mkdir()
        (tmp / "task" / "task.toml").write_text(TINY_TASK, encoding="utf-8")
        (tmp / "task" / "labels.csv").write_text(tiny_labels(), encoding="utf-8")
        now = rt.now()
        create_competition(rt, actor="bench", task_dir=tmp / "task", labels_file=tmp / "task" / "labels.csv",
                           slug="tiny", split_seed="s", settings=CompetitionSettings(
                               start=(now - timedelta(days=1)).isoformat(), end=(now + timedelta(days=7)).isoformat(),
                               daily_limit=100000))
        tokens = [create_team(rt, f"team {i}", actor="bench").token for i in range(args.teams)]
        client = app.test_client()
        for i in range(args.jobs):
            reply = client.post("/api/v1/competitions/tiny/submissions", data=tiny_predictions(0.1 + i / 1e5),
                                headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}",
                                         "Content-Type": "text/csv"})
            assert reply.status_code == 202, reply.get_data(as_text=True)

        profiler = cProfile.Profile() if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        run_worker(rt, burst=True)
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        # First job started → last result written (the worker's start and teardown left out).
        import sqlalchemy as sa

        from server.models import Submission

        with rt.session() as session:
            first, last = session.execute(sa.select(sa.func.min(Submission.started_at),
                                                    sa.func.max(Submission.scored_at))).one()
        seconds = (last - first).total_seconds() * args.jobs / (args.jobs - 1)

        # Baseline: RQ no-op jobs through the same worker class, in this process.
        from server.queue import ScoringWorker

        noop = Queue("noop-" + uuid.uuid4().hex[:6], connection=rt.redis)
        jobs = noop.enqueue_many([Queue.prepare_data(math.sqrt, (4.0,), result_ttl=600) for _ in range(args.jobs)])
        noop_cpu = time.process_time()
        ScoringWorker([noop], connection=rt.redis).work(burst=True, logging_level="WARNING")
        noop_cpu = time.process_time() - noop_cpu
        from rq.job import Job

        done = Job.fetch_many([j.id for j in jobs], connection=rt.redis)
        noop_seconds = ((max(j.ended_at for j in done) - min(j.started_at for j in done)).total_seconds()
                        * args.jobs / (args.jobs - 1))

        print(f"{args.jobs} jobs, one worker in this process, {rt.engine.dialect.name}")
        # CPU time of this process (burst start and teardown included) varies less with the load.
        print(f"scoring jobs  {args.jobs / seconds:7.1f} jobs/s  {seconds / args.jobs * 1000:6.1f} ms/job  "
              f"CPU {cpu / args.jobs * 1000:5.2f} ms/job")
        print(f"RQ no-op jobs {args.jobs / noop_seconds:7.1f} jobs/s  {noop_seconds / args.jobs * 1000:6.1f} ms/job  "
              f"CPU {noop_cpu / args.jobs * 1000:5.2f} ms/job")
        print(f"ratio {noop_seconds / seconds:.2f}  (scoring burst {wall:.1f} s wall with start and teardown)")
        if profiler:
            profiler.dump_stats(args.profile)
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue())
        rt.dispose()
    finally:
        valkey.stop()  # type: ignore[attr-defined]
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
