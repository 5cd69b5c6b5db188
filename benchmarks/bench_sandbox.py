"""Benchmark the code sandbox's overhead per run against plain `python script.py`.

    python benchmarks/bench_sandbox.py [--runs 20] [--no-cgroups]

The same trivial script.py (reads data/test.csv, writes output/submission.csv) runs N times
(a) as `python script.py` in a folder, (b) through `codecomp.run.sandboxed` with the server's
isolation (bwrap, all namespaces, cgroup or rlimits, read-only binds, tmpfs output), and (c) as a
whole submission through `codecomp.pipeline.run_submission` (unpack, venv, the inner wrapper,
sandbox). Prints min and median wall time per variant and each one's overhead over (a), as a
ratio and in milliseconds. Both are measured in the same run, on the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from codecomp.install import InstallConfig, base_env  # noqa: E402
from codecomp.pipeline import run_submission  # noqa: E402
from codecomp.run import Limits, Mount, bwrap_problem, sandboxed  # noqa: E402
from scoring.tasks import CodeSpec  # noqa: E402

SCRIPT = "rows = open('data/test.csv').read().splitlines()\nopen('output/submission.csv', 'w').write('\\n'.join(rows))\n"


def _time(fn: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-cgroups", action="store_true", help="measure the rlimits fallback")
    args = parser.parse_args()
    problem = bwrap_problem()
    if problem:
        sys.exit(f"cannot benchmark the sandbox here: {problem}")
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        work = tmp / "plain"
        (work / "data").mkdir(parents=True)
        (work / "output").mkdir()
        (work / "data" / "test.csv").write_text("id,x\n" + "".join(f"{i},{i}\n" for i in range(1000)))
        (work / "script.py").write_text(SCRIPT)
        for path in (tmp, work, work / "data", work / "output"):
            path.chmod(0o755)

        def plain() -> None:
            subprocess.run([python, "script.py"], cwd=work, check=True)

        base = base_env(python)
        limits = Limits(seconds=60, memory_bytes=1 << 30, processes=64, cpus=1, file_bytes=1 << 28)

        def sandbox() -> None:
            result = sandboxed([python, "script.py"], mounts=[*base.mounts, Mount(work, "/submission"),
                                                            Mount(work / "output", "/submission/output", True)],
                               cwd="/submission", limits=limits, log_path=tmp / "sandbox.log",
                               use_cgroups=not args.no_cgroups)
            assert result.returncode == 0, result.log_tail

        zip_path = tmp / "submit.zip"
        with zipfile.ZipFile(zip_path, "w") as zf:
            zf.writestr("script.py", SCRIPT)
            zf.writestr("requirements.txt", "")
        code = CodeSpec(inference_seconds=60, memory_mb=1024)

        def pipeline() -> None:
            out = run_submission(zip_path, code=code, data_dir=work / "data", install=InstallConfig(python),
                                 cgroups=not args.no_cgroups)
            assert out.outcome == "completed", out

        plain()
        sandbox()  # warm caches (base_env, page cache)
        results = {"plain python script.py": _time(plain, args.runs),
                   "sandboxed (bwrap + limits)": _time(sandbox, args.runs),
                   "whole submission (unpack, venv, sandbox)": _time(pipeline, args.runs)}
    ref_min, ref_med = min(results["plain python script.py"]), statistics.median(results["plain python script.py"])
    print(f"{args.runs} runs each; limits via {'rlimits' if args.no_cgroups else 'cgroups where available'}")
    print(f"{'variant':<42} {'min ms':>8} {'median ms':>10} {'ratio':>6} {'+ms (min)':>10} {'+ms (median)':>13}")
    for name, times in results.items():
        low, med = min(times), statistics.median(times)
        print(f"{name:<42} {low * 1000:8.1f} {med * 1000:10.1f} {med / ref_med:6.2f} {(low - ref_min) * 1000:10.1f} "
              f"{(med - ref_med) * 1000:13.1f}")


if __name__ == "__main__":
    main()
