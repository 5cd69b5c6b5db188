"""Leaderboard under load vs the competition-detail endpoint (issue 10, item 8).

    python benchmarks/bench_leaderboard.py [--teams 2000] [--seconds 10] [--clients 16]

Starts `hackathon serve` (SQLite, embedded Valkey) in a temporary instance with one competition
whose public board has --teams ranked teams (standings written directly: the board reads
standings, not submissions), then for --seconds each drives GET .../leaderboard and
GET /api/v1/competitions/<slug> with --clients keep-alive clients on 127.0.0.1 (Python threads;
wrk is used instead when installed). Prints requests/s, p50/p99 and the ratios (goal:
leaderboard ≥ 0.5× the detail endpoint's requests/s, p99 ≤ 3×).
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _load(port: int, path: str, seconds: float, clients: int) -> tuple[float, list[float], int]:
    times: list[float] = []
    sizes: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, size = [], 0
        while time.monotonic() < stop:
            start = time.perf_counter()
            conn.request("GET", path)
            size = len(conn.getresponse().read())
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            times.extend(mine)
            sizes.append(size)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(times) / seconds, sorted(times), max(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()

    from server.models import Team, TeamStanding
    from server.services.competitions import get_competition
    from server.services.leaderboard import sort_key
    from tests.server.served import start_served

    tmp = Path(tempfile.mkdtemp(prefix="bench-board-"))
    served = start_served(tmp, f"sqlite:///{tmp / 'hackathon.db'}")
    try:
        slug = served.competition()
        rt = served.rt
        now = rt.now()
        with rt.write() as session:
            comp = get_competition(session, slug)
            teams = [Team(name=f"team {i:04d}", eligible=True, created_at=now) for i in range(args.teams)]
            session.add_all(teams)
            session.flush()
            for i, team in enumerate(teams):
                score = 1.0 + (i * 7919 % args.teams) / args.teams
                session.add(TeamStanding(competition_id=comp.id, team_id=team.id, best_submission_id=uuid.uuid4().hex,
                                         best_score=score, sort_key=sort_key(comp, score),
                                         best_received_at=now - timedelta(minutes=i), entries=5,
                                         last_submission_at=now - timedelta(minutes=i)))
        board, detail = f"/api/v1/competitions/{slug}/leaderboard", f"/api/v1/competitions/{slug}"
        if shutil.which("wrk"):
            for path in (detail, board):
                print(subprocess.run(["wrk", "-t2", f"-c{args.clients}", f"-d{int(args.seconds)}s", "--latency",
                                      served.url + path], capture_output=True, text=True).stdout)
            return
        _load(served.port, board, 1, 2)  # warm up
        d_rps, d_t, d_size = _load(served.port, detail, args.seconds, args.clients)
        b_rps, b_t, b_size = _load(served.port, board, args.seconds, args.clients)

        def p(t: list[float], q: float) -> float:
            return t[min(int(q * len(t)), len(t) - 1)] * 1000

        print(f"teams on the board: {args.teams}; {args.clients} clients, {args.seconds:.0f} s each")
        print(f"detail      {d_rps:7.1f} req/s  p50 {p(d_t, .5):6.1f} ms  p99 {p(d_t, .99):6.1f} ms  {d_size:,} bytes")
        print(f"leaderboard {b_rps:7.1f} req/s  p50 {p(b_t, .5):6.1f} ms  p99 {p(b_t, .99):6.1f} ms  {b_size:,} bytes")
        print(f"ratio: {b_rps / d_rps:.2f}× requests/s (goal ≥ 0.5), p99 {p(b_t, .99) / p(d_t, .99):.2f}× (goal ≤ 3)")
    finally:
        served.stop()


if __name__ == "__main__":
    main()
