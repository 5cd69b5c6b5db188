"""Upload → scored latency through the real path: HTTP upload, Valkey queue, a worker process.

    python benchmarks/bench_latency.py [--repeat 5]

Generates product-quality (310 rows) and antenna (39,608 × 14) data, creates both competitions in a
temporary instance, starts the embedded queue with one worker process and the web server, then
uploads the sample submission N times per task and reports the time from the start of the
upload until the API shows `scored` (polled every 5 ms). The first upload of each task pays for
parsing the hidden labels once per worker; it is reported apart. Baseline for the ratio: the
time of `scoring.score()` alone on the same file in this process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from werkzeug.serving import make_server

    import datasets
    from scoring import load_task, read_labels, score
    from server import create_app
    from server.cli.app import init_database
    from server.client import ApiClient
    from server.serve import embedded_stack
    from server.services.competitions import CompetitionSettings, create_competition
    from server.services.teams import create_team, create_token

    home = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    app = create_app({"HOME": home / "instance", "EMBEDDED_WORKERS": 1})
    rt = app.extensions["hackathon"]
    init_database(rt)
    org = create_token(rt, "organizer", "bench", actor="bench")
    now = rt.now()
    files = {}
    for name in ("product-quality", "antenna"):
        folder = home / name
        datasets.generate(name, folder, seed=0)
        create_competition(rt, actor="bench", task_dir=datasets.task_dir(name), labels_file=folder / "labels.csv",
                           settings=CompetitionSettings(start=(now - timedelta(days=1)).isoformat(),
                                                        end=(now + timedelta(days=1)).isoformat(),
                                                        daily_limit=1000))
        files[name] = folder
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with embedded_stack(rt, workers=1):
        client = ApiClient(url, create_team(rt, "bench", actor="bench").token)
        watcher = ApiClient(url, org)
        print(f"{'task':<16} {'rows':>7} {'bytes':>11} {'score() alone':>14} {'first':>8} "
              f"{'median':>8} {'max':>8} {'median/score()':>15}")
        for name, folder in files.items():
            sample = folder / "sample_submission.csv"
            task = load_task(datasets.task_dir(name))
            labels = read_labels(folder / "labels.csv", task, public_fraction=0.3, seed="x")
            alone = min(_timed(lambda: score(sample, labels, task)) for _ in range(3))
            times = []
            for _ in range(args.repeat + 1):
                started = time.perf_counter()
                sub = client.upload(name, sample)
                while sub["status"] not in ("scored", "rejected", "failed"):
                    time.sleep(0.005)
                    sub = watcher.get(f"/api/v1/submissions/{sub['id']}")
                times.append(time.perf_counter() - started)
                assert sub["status"] == "scored", sub
            first, rest = times[0], times[1:]
            print(f"{name:<16} {sub['rows']:>7,} {sample.stat().st_size:>11,} {alone:>13.3f}s {first:>7.3f}s "
                  f"{statistics.median(rest):>7.3f}s {max(rest):>7.3f}s {statistics.median(rest) / alone:>14.2f}x")
    server.shutdown()


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
