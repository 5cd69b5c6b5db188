"""Queue throughput: small submissions upload → scored with 2 workers, vs RQ's own no-op jobs (issue 10).

    python benchmarks/bench_queue.py [--jobs 1000] [--clients 8] [--quick]

Starts `hackathon serve` (SQLite, embedded Valkey, 2 embedded workers). Baseline: two more
processes of the same worker class (server.queue.ScoringWorker, an RQ SimpleWorker) on a
queue of their own run --jobs no-op jobs (enqueued in one pipeline); time from the first enqueue
to the last finished. Then --jobs small CSV uploads from --clients teams through the API, time
from the first upload to the last scored (read from the database), and the p50 of each
submission's receipt → scored. Prints jobs/s of both and the ratio (goal ≥ 0.5×).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import percentile, post_many

NOOP_WORKER = """
import sys
from redis import Redis
from rq import Queue
from server.queue import ScoringWorker
r = Redis.from_url(sys.argv[1])
ScoringWorker([Queue(sys.argv[2], connection=r)], connection=r).work(logging_level="WARNING")
"""


def noop_baseline(redis_url: str, jobs: int) -> tuple[float, float]:
    """(jobs/s, p50 enqueue → end in s) of `jobs` no-op jobs on two ScoringWorker processes."""
    import math

    from redis import Redis
    from rq import Queue, SimpleWorker
    from rq.registry import FinishedJobRegistry

    name = "bench-noop-" + uuid.uuid4().hex[:6]
    r = Redis.from_url(redis_url)
    queue = Queue(name, connection=r)
    root = str(Path(__file__).resolve().parents[1])
    procs = [subprocess.Popen([sys.executable, "-c", NOOP_WORKER, redis_url, name], cwd=root) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while len(SimpleWorker.all(queue=queue)) < 2:
            if time.monotonic() > deadline:
                raise SystemExit("the no-op workers did not start")
            time.sleep(0.1)
        started = time.perf_counter()
        queued = queue.enqueue_many([Queue.prepare_data(math.sqrt, (4.0,), result_ttl=600) for _ in range(jobs)])
        finished = FinishedJobRegistry(queue=queue)
        while finished.count < jobs:
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        from rq.job import Job

        done = Job.fetch_many([j.id for j in queued], connection=r)
        waits = [(j.ended_at - j.enqueued_at).total_seconds() for j in done if j and j.ended_at and j.enqueued_at]
        return jobs / seconds, percentile(waits, 0.5)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="200 jobs")
    args = parser.parse_args()
    if args.quick:
        args.jobs = 200

    import sqlalchemy as sa

    from server.models import Submission
    from tests.server.conftest import tiny_predictions
    from tests.server.served import start_served

    tmp = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    served = start_served(tmp, f"sqlite:///{tmp / 'hackathon.db'}")
    try:
        slug = served.competition(daily_limit=10000)
        tokens = [served.team() for _ in range(args.clients)]
        noop_rate, noop_p50 = noop_baseline(served.rt.redis_url, args.jobs)

        started = time.perf_counter()
        run = post_many(served.port, args.jobs, args.clients,
                        lambda i: (f"/api/v1/competitions/{slug}/submissions", tiny_predictions(0.1 + i / 1e5),
                                   {"Content-Type": "text/csv", "Authorization": f"Bearer {tokens[i % len(tokens)]}"}))
        uploaded = time.perf_counter() - started
        deadline = time.monotonic() + 900
        with served.rt.session() as session:
            # How far the workers got while sharing the cores with the uploads, and the drain after.
            scored_during = session.execute(sa.select(sa.func.count()).select_from(Submission)
                                            .where(Submission.status.not_in(("queued", "scoring")))).scalar_one()
            session.rollback()
            while True:
                pending = session.execute(sa.select(sa.func.count()).select_from(Submission)
                                          .where(Submission.status.in_(("queued", "scoring")))).scalar_one()
                session.rollback()
                if pending == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            rows = session.execute(sa.select(Submission.status, Submission.received_at, Submission.scored_at)).all()
        statuses: dict[str, int] = {}
        for row in rows:
            statuses[row.status] = statuses.get(row.status, 0) + 1
        waits = [(r.scored_at - r.received_at).total_seconds() for r in rows if r.scored_at]
        rate = statuses.get("scored", 0) / seconds
        print(f"{args.jobs} jobs, 2 workers (ScoringWorker = RQ SimpleWorker), 127.0.0.1")
        print(f"RQ no-op jobs        {noop_rate:7.1f} jobs/s  p50 enqueue → done {noop_p50 * 1000:7.1f} ms")
        print(f"upload → scored      {rate:7.1f} jobs/s  p50 receipt → scored {percentile(waits, .5) * 1000:7.1f} ms  "
              f"(uploads took {uploaded:.1f} s from {args.clients} clients; statuses {statuses}; "
              f"HTTP {run.statuses}{', errors ' + str(run.errors[:2]) if run.errors else ''})")
        drain = (args.jobs - scored_during) / max(seconds - uploaded, 1e-9)
        print(f"while uploading      {scored_during / uploaded:7.1f} jobs/s ({scored_during} done when the last upload "
              f"was answered); then the drain alone {drain:7.1f} jobs/s ({drain / noop_rate:.2f}× no-op)")
        print(f"ratio: {rate / noop_rate:.2f}× RQ's no-op throughput (goal ≥ 0.5)")
    finally:
        served.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
