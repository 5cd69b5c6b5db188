"""Benchmark rank confidence: 200 finalist teams on the largest bundled task's private rows.

    python benchmarks/bench_confidence.py [--teams 200] [--replicates 1000] [--rows 39608]

The largest bundled task is antenna (39,608 test rows × 14 targets, lg_nrmse; 70% private). Its
real task.toml is used with synthetic labels of that shape (generating the real data takes a
minute and changes nothing here). Prints the wall time and the peak resident memory the
computation added (Linux VmHWM, reset just before), and as a baseline measured in the same run
the time to compute each team's lg_nrmse once (the ratio is the cost per replicate in scores).
Goal: ≤ 60 s and ≤ 1 GB on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _load import status_mb  # noqa: E402

from scoring import load_task  # noqa: E402
from scoring.confidence import rank_confidence  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=39_608)
    args = parser.parse_args()
    task = load_task(ROOT / "datasets" / "antenna")
    rng = np.random.default_rng(0)
    private = int(args.rows * 0.7)
    k = len(task.targets)
    y = rng.gamma(4.0, 2.0, size=(private, k))
    noise = np.linspace(0.5, 1.5, args.teams)
    preds = [y + rng.normal(0, s, size=y.shape) for s in noise]
    metric, kwargs = task.get_metric(), task.metric_kwargs()
    started = time.perf_counter()
    for p in preds:
        metric.func(y, p, **kwargs)
    baseline = time.perf_counter() - started
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = status_mb("VmRSS")
    started = time.perf_counter()
    result = rank_confidence(task, y, preds, replicates=args.replicates, seed="bench")
    seconds = time.perf_counter() - started
    peak = status_mb("VmHWM") - before
    tied = sum(1 for e in result if e["tied_with_next"])
    print(f"rank confidence: {args.teams} teams × {private:,} private rows × {k} targets × "
          f"{args.replicates} replicates")
    print(f"  time {seconds:.1f} s (goal ≤ 60 s); peak memory added {peak:.0f} MB (goal ≤ 1024 MB)")
    print(f"  baseline: each team's lg_nrmse once {baseline:.2f} s; ratio {seconds / baseline:.0f}× "
          f"(≈ {seconds / baseline / args.replicates:.2f}× per replicate)")
    print(f"  adjacent pairs tied: {tied} of {args.teams - 1}")


if __name__ == "__main__":
    main()
