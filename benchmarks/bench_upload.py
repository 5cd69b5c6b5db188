"""Upload throughput of 10 MB files vs a bare endpoint that only streams to disk (issue 10).

    python benchmarks/bench_upload.py [--mb 10] [--uploads 40] [--clients 4] [--rounds 4] [--quick]

Starts `hackathon serve` (SQLite, embedded Valkey, its defaults) with one benchmark-only route
added to the same app (benchmarks/_served_bare.py: POST /bench/bare streams the body to a file in
<HOME>/tmp and deletes it). Sends --uploads files of --mb MB from --clients keep-alive clients
on 127.0.0.1 to the bare route (the baseline) and to POST .../submissions as teams (auth, limits,
hashing, storing, a row, a job), in --rounds alternating rounds so that both see the same load of
a shared machine. No worker scores meanwhile (none is started), so the figure is the upload path
alone. Prints MB/s of both and the ratio (goal ≥ 0.5×), and the CPU time the server's processes
(gunicorn's, Valkey) spent per upload, which a busy machine disturbs less than wall time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import Run, percentile, post_many


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server process and its children (gunicorn's workers, Valkey)."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def add(total: Run, part: Run) -> None:
    total.seconds += part.seconds
    total.latencies += part.latencies
    total.errors += part.errors
    for status, n in part.statuses.items():
        total.statuses[status] = total.statuses.get(status, 0) + n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=10)
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="alternate bare and real uploads this many times")
    parser.add_argument("--quick", action="store_true", help="12 uploads")
    args = parser.parse_args()
    if args.quick:
        args.uploads = 12

    from tests.server.served import start_served

    line = b"T000,0.123456789\n"
    body = b"id,y\n" + line * int(args.mb * 1e6 / len(line))
    mb = len(body) / 1e6
    tmp = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    served = start_served(tmp, f"sqlite:///{tmp / 'hackathon.db'}",
                          command=[sys.executable, str(Path(__file__).with_name("_served_bare.py"))],
                          HACKATHON_EMBEDDED_WORKERS="0")
    try:
        slug = served.competition(daily_limit=1000, max_upload_mb=args.mb * 2)
        tokens = [served.team() for _ in range(args.clients)]
        bare, real, cpu = Run(), Run(), {"bare": 0.0, "real": 0.0}
        per_round = max(args.uploads // args.rounds, 1)
        for _ in range(args.rounds):
            for name, total, request in (
                    ("bare", bare, lambda i: ("/bench/bare", body, {"Content-Type": "text/csv"})),
                    ("real", real, lambda i: (f"/api/v1/competitions/{slug}/submissions", body,
                                              {"Content-Type": "text/csv",
                                               "Authorization": f"Bearer {tokens[i % len(tokens)]}"}))):
                before = server_cpu(served.proc.pid)
                add(total, post_many(served.port, per_round, args.clients, request))
                cpu[name] += server_cpu(served.proc.pid) - before
        print(f"{per_round * args.rounds} uploads of {mb:.1f} MB each way in {args.rounds} alternating rounds, "
              f"{args.clients} clients, 127.0.0.1")
        for name, run, used in (("bare (stream to disk)", bare, cpu["bare"]), ("submissions", real, cpu["real"])):
            print(f"{name:22} {run.ok * mb / run.seconds:7.1f} MB/s  p50 {percentile(run.latencies, .5) * 1000:6.0f} ms  "
                  f"p99 {percentile(run.latencies, .99) * 1000:6.0f} ms  server CPU {used / max(run.ok, 1) * 1000:5.1f} ms"
                  f"/upload  statuses {run.statuses}")
            for error in run.errors[:3]:
                print("   ", error)
        ratio = (real.ok / real.seconds) / (bare.ok / bare.seconds)
        print(f"ratio: {ratio:.2f}× the bare endpoint's throughput (goal ≥ 0.5); server CPU per upload "
              f"{cpu['real'] / max(real.ok, 1) / (cpu['bare'] / max(bare.ok, 1)):.2f}× the bare endpoint's")
    finally:
        served.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
