"""Upload throughput of 10 MB files vs a bare endpoint that only streams to disk (issue 10).

    python benchmarks/bench_upload.py [--mb 10] [--uploads 40] [--clients 4] [--rounds 4] [--quick]

Starts `hackathon serve` (SQLite, embedded Valkey, its defaults) with one benchmark-only route
added to the same app (benchmarks/_served_bare.py: POST /bench/bare streams the body to a file in
<HOME>/tmp and deletes it). Sends --uploads files of --mb MB from --clients keep-alive clients
on 127.0.0.1 to the bare route (the baseline) and to POST .../submissions as teams (auth, limits,
hashing, storing, a row, a job), in --rounds alternating rounds so that both see the same load of
a shared machine; every body is distinct (one line differs), as at a deadline, so the storage
never skips a file it already holds (and its fsync). No worker scores meanwhile (none is started), so the figure is the upload path
alone. Prints MB/s of both and the ratio (goal ≥ 0.5×), and the CPU time the server's processes
(gunicorn's, Valkey) spent per upload, which a busy machine disturbs less than wall time.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
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


def warm(folder: Path, size: int) -> None:
    """Write and delete `size` bytes in `folder`, so that the rounds' files reuse memory the
    kernel has used before, as on a machine that has been running for a while.

    On a freshly booted VM the first write into memory the guest never touched costs several
    times more kernel CPU (measured here: 17-32 ms per 10 MB file kept vs 3 ms on reused pages;
    the hypervisor backs guest memory on first use). The bare route deletes each file at once and
    so always reuses the same pages; the stored uploads are kept, and without this (and their
    removal after each round) they alone would pay for touching fresh memory.
    """
    block = os.urandom(1 << 20)
    path = folder / "warm.bin"
    with path.open("wb") as out:
        for _ in range(size // len(block) + 1):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    path.unlink()


def add(total: Run, part: Run) -> None:
    total.seconds += part.seconds
    total.latencies += part.latencies
    total.errors += part.errors
    for status, n in part.statuses.items():
        total.statuses[status] = total.statuses.get(status, 0) + n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=10)
    parser.add_argument("--uploads", type=int, default=160)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=8, help="alternate bare and real uploads this many times")
    parser.add_argument("--quick", action="store_true", help="24 uploads in 4 rounds")
    args = parser.parse_args()
    if args.quick:
        args.uploads, args.rounds = 24, 4

    from tests.server.served import start_served

    line = b"T000,0.123456789\n"
    tail = line * int(args.mb * 1e6 / len(line))
    made = itertools.count()

    def body() -> bytes:  # the same size each time, never the same bytes
        return b"id,y\nT%015d,0.5\n" % next(made) + tail

    mb = len(body()) / 1e6
    tmp = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    served = start_served(tmp, f"sqlite:///{tmp / 'hackathon.db'}",
                          command=[sys.executable, str(Path(__file__).with_name("_served_bare.py"))],
                          HACKATHON_EMBEDDED_WORKERS="0")
    try:
        slug = served.competition(daily_limit=1000, max_upload_mb=args.mb * 2)
        tokens = [served.team() for _ in range(args.clients)]
        bare, real, cpu = Run(), Run(), {"bare": 0.0, "real": 0.0}
        per_round = max(args.uploads // args.rounds, 1)
        round_ratios = []
        files = served.rt.storage.files_dir
        warm(files.parent, per_round * len(body()) * 2)
        for _ in range(args.rounds):
            rates = {}
            for name, total, request in (
                    ("bare", bare, lambda i: ("/bench/bare", body(), {"Content-Type": "text/csv"})),
                    ("real", real, lambda i: (f"/api/v1/competitions/{slug}/submissions", body(),
                                              {"Content-Type": "text/csv",
                                               "Authorization": f"Bearer {tokens[i % len(tokens)]}"}))):
                before = server_cpu(served.proc.pid)
                part = post_many(served.port, per_round, args.clients, request)
                cpu[name] += server_cpu(served.proc.pid) - before
                add(total, part)
                rates[name] = part.ok / part.seconds
            shutil.rmtree(files, ignore_errors=True)  # kept uploads: see warm()
            round_ratios.append(rates["real"] / rates["bare"])
        print(f"{per_round * args.rounds} uploads of {mb:.1f} MB each way in {args.rounds} alternating rounds, "
              f"{args.clients} clients, 127.0.0.1")
        for name, run, used in (("bare (stream to disk)", bare, cpu["bare"]), ("submissions", real, cpu["real"])):
            print(f"{name:22} {run.ok * mb / run.seconds:7.1f} MB/s  p50 {percentile(run.latencies, .5) * 1000:6.0f} ms  "
                  f"p99 {percentile(run.latencies, .99) * 1000:6.0f} ms  server CPU {used / max(run.ok, 1) * 1000:5.1f} ms"
                  f"/upload  statuses {run.statuses}")
            for error in run.errors[:3]:
                print("   ", error)
        ratio = (real.ok / real.seconds) / (bare.ok / bare.seconds)
        print("each round's ratio: " + " ".join(f"{r:.2f}" for r in round_ratios)
              + f"; median {statistics.median(round_ratios):.2f}×")
        print(f"ratio: {ratio:.2f}× the bare endpoint's throughput (goal ≥ 0.5); server CPU per upload "
              f"{cpu['real'] / max(real.ok, 1) / (cpu['bare'] / max(bare.ok, 1)):.2f}× the bare endpoint's")
    finally:
        served.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
