"""Slow clients: other requests' latency while 200 connections trickle in (issue 10, item 1).

    python benchmarks/bench_slow_clients.py [--slow 200] [--probes 300]

Starts `hackathon serve` (SQLite, embedded Valkey, 2 workers) in a temporary instance, measures
the latency of GET /api/v1/competitions/<slug> and /healthz alone (the baseline), then again
while --slow connections on 127.0.0.1 send half of them headers and half of them an upload body
one piece a second. Prints p50/p99 of both runs and their ratio (goal: ≤ 2×), and whether a team
upload sent slowly meanwhile completed.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _probe(url: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
        times.append(time.perf_counter() - start)
    return times


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(int(q * len(values)), len(values) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--probes", type=int, default=300)
    args = parser.parse_args()

    from tests.server.conftest import tiny_predictions
    from tests.server.served import start_served

    tmp = Path(tempfile.mkdtemp(prefix="bench-slow-"))
    served = start_served(tmp, f"sqlite:///{tmp / 'hackathon.db'}")
    try:
        slug = served.competition()
        detail = f"{served.url}/api/v1/competitions/{slug}"
        _probe(detail, 20)  # warm up
        base = {path: _probe(served.url + path, args.probes) for path in (f"/api/v1/competitions/{slug}", "/healthz")}

        stop = threading.Event()
        conns = []
        upload_head = (f"POST /api/v1/competitions/{slug}/submissions HTTP/1.1\r\nHost: x\r\n"
                       f"Authorization: Bearer {served.team()}\r\nContent-Type: text/csv\r\n"
                       "Content-Length: 10000000\r\n\r\nid,y\n").encode()
        for i in range(args.slow):
            s = socket.create_connection(("127.0.0.1", served.port), timeout=30)
            s.sendall(upload_head if i % 2 else f"GET /api/v1/competitions/{slug} HTTP/1.1\r\nX-Slow: ".encode())
            conns.append((s, b"T000,1.0\n" if i % 2 else b"a"))

        def trickle() -> None:
            while not stop.wait(1.0):
                for s, piece in conns:
                    try:
                        s.sendall(piece)
                    except OSError:
                        pass

        threading.Thread(target=trickle, daemon=True).start()
        body, token, answer = tiny_predictions(0.5), served.team(), []

        def slow_upload() -> None:
            with socket.create_connection(("127.0.0.1", served.port), timeout=60) as s:
                s.sendall((f"POST /api/v1/competitions/{slug}/submissions HTTP/1.1\r\nHost: x\r\n"
                           f"Authorization: Bearer {token}\r\nContent-Type: text/csv\r\nConnection: close\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n").encode())
                for start in range(0, len(body), 32):
                    s.sendall(body[start:start + 32])
                    time.sleep(0.1)
                answer.append(s.recv(100))

        uploader = threading.Thread(target=slow_upload)
        uploader.start()
        time.sleep(2)
        loaded = {path: _probe(served.url + path, args.probes) for path in base}
        uploader.join(120)
        stop.set()
        for s, _ in conns:
            s.close()
        print(f"slow connections: {args.slow} (half headers, half bodies, a piece a second); probes: {args.probes} each")
        for path in base:
            b50, b99, l50, l99 = _p(base[path], 0.5), _p(base[path], 0.99), _p(loaded[path], 0.5), _p(loaded[path], 0.99)
            print(f"{path:40s} alone p50 {b50:6.1f} ms p99 {b99:6.1f} ms | with slow clients p50 {l50:6.1f} ms "
                  f"p99 {l99:6.1f} ms | ratio p50 {l50 / b50:.2f}× p99 {l99 / b99:.2f}× (goal ≤ 2×)")
            print(f"{'':40s} mean ratio {statistics.mean(loaded[path]) / statistics.mean(base[path]):.2f}×")
        print(f"slow team upload: {answer[0][:15].decode(errors='replace') if answer else 'NO ANSWER'}")
    finally:
        served.stop()


if __name__ == "__main__":
    main()
