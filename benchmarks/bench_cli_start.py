"""Benchmark how fast the `hackathon` command starts, against `python -c "import click"`.

    python benchmarks/bench_cli_start.py [--repeat R] [--hackathon PATH]

Runs, in the same run and interleaved so that machine noise hits every case alike, R times each
(default 9):

- baseline: `python -c "import click"` (the floor of any click program with this interpreter);
- `hackathon submit --help` and `hackathon score --help` (client commands: goal ≤ 0.3 s);
- `hackathon --help` (lists every command without importing any).

It prints the min and median wall time of each, and their ratios to the baseline's. `--hackathon`
measures another installation (e.g. /work/main/.venv/bin/hackathon for the code before the CLI
became a lazy package); its interpreter is the one its script names, so the baseline uses it too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _interpreter_of(script: Path) -> str:
    first = script.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    return first[2:].strip() if first.startswith("#!") else sys.executable


def _once(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--hackathon", type=Path, default=Path(sys.executable).with_name("hackathon"),
                        help="The console script to measure (default: this environment's).")
    args = parser.parse_args()
    script = args.hackathon.resolve() if args.hackathon.exists() else args.hackathon
    python = _interpreter_of(script)
    cases = {
        "python -c 'import click'": [python, "-c", "import click"],
        "hackathon submit --help": [str(script), "submit", "--help"],
        "hackathon score --help": [str(script), "score", "--help"],
        "hackathon --help": [str(script), "--help"],
    }
    env_note = {k: v for k, v in os.environ.items() if k.startswith("HACKATHON_")}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for argv in cases.values():  # warm the file cache once
        _once(argv)
    for _ in range(args.repeat):
        for name, argv in cases.items():
            times[name].append(_once(argv))
    base_min = min(times["python -c 'import click'"])
    base_median = statistics.median(times["python -c 'import click'"])
    print(f"{script} (interpreter {python}); {args.repeat} runs each, interleaved"
          + (f"; environment {env_note}" if env_note else ""))
    print(f"{'command':<28} {'min s':>7} {'median s':>9} {'min/base':>9} {'median/base':>12}")
    for name, values in times.items():
        low, mid = min(values), statistics.median(values)
        print(f"{name:<28} {low:7.3f} {mid:9.3f} {low / base_min:9.2f} {mid / base_median:12.2f}")


if __name__ == "__main__":
    main()
