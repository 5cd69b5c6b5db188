"""Leaderboard under load vs the competition-detail endpoint (issue 10, item 8).

    python benchmarks/bench_leaderboard.py [--teams 2000] [--per-team 100] [--seconds 10] [--quick]

Starts `hackathon serve` (SQLite, embedded Valkey, its defaults: one web process per core) in a
temporary instance with one competition of --teams teams × --per-team scored submissions (rows
and standings written directly through SQL: seeding through uploads would take an hour), then
runs wrk (Debian's `wrk`; `apt-get install wrk`) for --seconds against each of:
GET /api/v1/competitions/<slug> (the baseline), the leaderboard JSON with and without
`Accept-Encoding: gzip`, and the leaderboard page. Prints requests/s, p50/p99 and the ratios to
the baseline (goal: ≥ 0.5× its requests/s, p99 ≤ 3× its p99). The cases run in --rounds
interleaved rounds (A B C D, A B C D, …) and each ratio is taken within its round, so a burst of
load from other jobs hits one round rather than whichever case happened to run last; every
round's ratios are printed, then their medians.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def seed(rt: object, slug: str, teams: int, per_team: int) -> None:
    """`teams` teams with `per_team` scored submissions each, and their standings, via SQL."""
    import sqlalchemy as sa

    from server.models import Submission, Team
    from server.services.competitions import get_competition
    from server.services.leaderboard import refresh_standing

    now = rt.now()  # type: ignore[attr-defined]
    with rt.write() as session:  # type: ignore[attr-defined]
        comp = get_competition(session, slug)
        session.execute(sa.insert(Team), [{"name": f"team {i:04d}", "eligible": True, "created_at": now}
                                          for i in range(teams)])
        ids = [i for (i,) in session.execute(sa.select(Team.id).where(Team.name.like("team %")).order_by(Team.id))]
        for chunk in range(0, len(ids), 200):
            rows = []
            for n, team_id in enumerate(ids[chunk:chunk + 200], start=chunk):
                for k in range(per_team):
                    at = now - timedelta(hours=per_team - k, minutes=n % 60)
                    rows.append({"id": uuid.uuid4().hex, "competition_id": comp.id, "team_id": team_id,
                                 "status": "scored", "received_at": at, "sha256": "0" * 64, "bytes": 100,
                                 "public_score": 1.0 + ((n * 7919 + k * 31) % 10007) / 10007,
                                 "private_score": 1.0 + ((n * 104729 + k) % 10007) / 10007, "attempts": 1})
            session.execute(sa.insert(Submission), rows)
        for team_id in ids:
            refresh_standing(session, comp, team_id)


def wrk(url: str, seconds: int, clients: int, headers: list[str]) -> dict[str, float]:
    args = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def latency(q: str) -> float:
        value, unit = re.search(rf"\s{q}%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        print("  wrk:", errors.group(0))
    transfer = re.search(r"Transfer/sec:\s+(\S+)", out)
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"),
            "transfer": transfer.group(1) if transfer else "?"}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=2000)
    parser.add_argument("--per-team", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="500 teams × 20, 3 s runs")
    args = parser.parse_args()
    if args.quick:
        args.teams, args.per_team, args.seconds, args.rounds = 500, 20, 3, 1
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    from tests.server.served import start_served

    tmp = Path(tempfile.mkdtemp(prefix="bench-board-"))
    served = start_served(tmp, f"sqlite:///{tmp / 'hackathon.db'}")
    try:
        slug = served.competition()
        started = time.monotonic()
        seed(served.rt, slug, args.teams, args.per_team)
        print(f"seeded {args.teams:,} teams × {args.per_team} submissions in {time.monotonic() - started:.0f} s")
        base = f"{served.url}/api/v1/competitions/{slug}"
        cases = [("detail (baseline)", base, []),
                 ("leaderboard JSON", base + "/leaderboard", []),
                 ("leaderboard JSON gzip", base + "/leaderboard", ["Accept-Encoding: gzip"]),
                 ("leaderboard page", f"{served.url}/competitions/{slug}/leaderboard", ["Accept-Encoding: gzip"])]
        for _, url, headers in cases:  # warm every process's cache
            wrk(url, 1, 4, headers)
        ratios: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in cases}
        print(f"{args.clients} connections, {args.seconds} s each (wrk, 127.0.0.1), {args.rounds} rounds")
        for round_no in range(1, args.rounds + 1):
            results = [(name, wrk(url, args.seconds, args.clients, headers)) for name, url, headers in cases]
            d = results[0][1]
            print(f"round {round_no}")
            for name, r in results:
                ratios[name].append((r["rps"] / d["rps"], r["p99"] / d["p99"]))
                print(f"  {name:22} {r['rps']:8.1f} req/s  p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  "
                      f"{r['transfer']}/s   ratio {r['rps'] / d['rps']:.2f}× req/s, p99 {r['p99'] / d['p99']:.2f}×")
        print("medians of the rounds' ratios")
        for name, values in ratios.items():
            print(f"  {name:22} {statistics.median(v[0] for v in values):.2f}× req/s, "
                  f"p99 {statistics.median(v[1] for v in values):.2f}×")
        print("goal: ≥ 0.50× requests/s and p99 ≤ 3× the baseline's")
        # Warnings, errors and 5xx answers the server logged, for a round that went wrong.
        unusual = [line for line in served.output().splitlines()
                   if '"level": "info"' not in line or '"status": 5' in line]
        if unusual:
            print(f"server log, {len(unusual)} warnings, errors or 5xx; the last ones:")
            print("\n".join(line[:300] for line in unusual[-15:]))
    finally:
        served.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
