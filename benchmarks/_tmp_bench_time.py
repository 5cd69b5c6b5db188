"""Upload throughput of 10 MB files vs a bare endpoint that only streams to disk (issue 10).

    python benchmarks/bench_upload.py [--mb 10] [--uploads 40] [--clients 4] [--quick]

Starts `hackathon serve` (SQLite, embedded Valkey, its defaults) with one benchmark-only route
added to the same app (benchmarks/_served_bare.py: POST /bench/bare streams the body to a file in
<HOME>/tmp and deletes it). Sends --uploads files of --mb MB from --clients keep-alive clients
on 127.0.0.1 first to the bare route (the baseline), then to POST .../submissions as teams (auth,
limits, hashing, storing, a row, a job). No worker scores meanwhile (they are stopped), so the
figure is the upload path alone. Prints MB/s of both and the ratio (goal ≥ 0.5×).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import percentile, post_many


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=10)
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--clients", type=int, default=4)
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
                          command=[sys.executable, "/tmp/upl/served_time.py"],
                          HACKATHON_EMBEDDED_WORKERS="0")
    try:
        slug = served.competition(daily_limit=1000, max_upload_mb=args.mb * 2)
        tokens = [served.team() for _ in range(args.clients)]
        bare = post_many(served.port, args.uploads, args.clients,
                         lambda i: ("/bench/bare", body, {"Content-Type": "text/csv"}))
        real = post_many(served.port, args.uploads, args.clients,
                         lambda i: (f"/api/v1/competitions/{slug}/submissions", body,
                                    {"Content-Type": "text/csv", "Authorization": f"Bearer {tokens[i % len(tokens)]}"}))
        print(f"{args.uploads} uploads of {mb:.1f} MB, {args.clients} clients, 127.0.0.1")
        for name, run in (("bare (stream to disk)", bare), ("submissions", real)):
            print(f"{name:22} {run.ok * mb / run.seconds:7.1f} MB/s  p50 {percentile(run.latencies, .5) * 1000:6.0f} ms  "
                  f"p99 {percentile(run.latencies, .99) * 1000:6.0f} ms  statuses {run.statuses}")
            for error in run.errors[:3]:
                print("   ", error)
        ratio = (real.ok / real.seconds) / (bare.ok / bare.seconds)
        print(f"ratio: {ratio:.2f}× the bare endpoint's throughput (goal ≥ 0.5)")
    finally:
        served.stop(); import re; o=served.output(); i=o.find("Traceback"); print(o[i:i+6000] if i>=0 else "no traceback")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
