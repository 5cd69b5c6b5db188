"""Benchmark scoring against the floor of reading the same CSV with pyarrow.

    python benchmarks/bench_scoring.py [--rows N] [--repeat R]

For each case it writes a labels file and a submission into a temporary folder, then measures in
the same run, alternating the two so that machine noise hits both alike:

- floor: `pyarrow.csv.read_csv(path)` alone (types inferred), best of R (default 5);
- score: `scoring.score(path, labels, task)`: header check, parse, validation, alignment, the
  metric on both splits (labels read beforehand, as a worker caches them), best of R;
- the ratio of the two best times (the goal is judged on it) and, as a check against noise from
  other processes, the median of the R ratios of back-to-back pairs;
- memory: in a fresh subprocess with the labels loaded, the peak resident set size during one
  call (Linux VmHWM, reset through /proc/self/clear_refs just before the call) minus the resident
  size just before it. This counts every allocation (numpy, pyarrow, Python) and the file's pages
  only if the process copies them; the goals are time ≤ 1.5 × floor and memory ≤ 4 × file size.

Cases: 14 numeric targets in label order; the same file with rows shuffled (ids must be looked
up); a single binary class target (F1, positive 'AbNormal'). Then, for information (no goal),
how long a rejection of the 14-target file takes: a bad value on the last line, a line with an
extra field, a bad value in a file with a blank line (all found by the vectorised bulk path), and
a quoted id spanning two lines (rows and lines differ: the line-by-line Python path decides).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring import SubmissionRejected, load_task, read_labels, score  # noqa: E402

TIME_GOAL = 1.5
MEMORY_GOAL = 4.0

MULTI_TOML = """
[task]
slug = "bench-multi"
title_ko = "벤치마크"
title_en = "Benchmark, 14 targets"
id_column = "ID"
[metric]
name = "lg_nrmse"
[[targets]]
names = [{names}]
kind = "number"
"""

BINARY_TOML = """
[task]
slug = "bench-binary"
title_ko = "벤치마크"
title_en = "Benchmark, binary"
id_column = "Set ID"
[metric]
name = "f1_binary"
pos_label = "AbNormal"
[[targets]]
name = "target"
kind = "class"
classes = ["Normal", "AbNormal"]
"""


def _write(table: pa.Table, path: Path) -> None:
    pcsv.write_csv(table, path, write_options=pcsv.WriteOptions(quoting_style="none"))


def make_multi(folder: Path, rows: int, seed: int = 0) -> dict[str, Path]:
    """Write a 14-target task, labels with Usage, and two submissions (label order, shuffled)."""
    rng = np.random.default_rng(seed)
    names = [f"Y_{j:02d}" for j in range(1, 15)]
    (folder / "task.toml").write_text(MULTI_TOML.format(names=", ".join(f'"{n}"' for n in names)), encoding="utf-8")
    ids = pa.array([f"TEST_{i:07d}" for i in range(rows)])
    truth = rng.normal(10, 3, size=(rows, 14))
    usage = np.where(rng.random(rows) < 0.3, "Public", "Private")
    labels = pa.table({"ID": ids, **{n: truth[:, j] for j, n in enumerate(names)}, "Usage": usage})
    _write(labels, folder / "labels.csv")
    pred = truth + rng.normal(0, 1, size=truth.shape)
    sub = pa.table({"ID": ids, **{n: pred[:, j] for j, n in enumerate(names)}})
    _write(sub, folder / "submission.csv")
    _write(sub.take(pa.array(rng.permutation(rows))), folder / "submission_shuffled.csv")
    return {"labels": folder / "labels.csv", "ordered": folder / "submission.csv",
            "shuffled": folder / "submission_shuffled.csv"}


def make_binary(folder: Path, rows: int, seed: int = 1) -> dict[str, Path]:
    """Write a binary class task (Normal/AbNormal), labels with Usage, and a submission."""
    rng = np.random.default_rng(seed)
    (folder / "task.toml").write_text(BINARY_TOML, encoding="utf-8")
    ids = pa.array([f"TEST_{i:06d}" for i in range(rows)])
    truth = rng.random(rows) < 0.06
    usage = np.where(rng.random(rows) < 0.3, "Public", "Private")
    classes = np.array(["Normal", "AbNormal"])
    labels = pa.table({"Set ID": ids, "target": classes[truth.astype(int)], "Usage": usage})
    _write(labels, folder / "labels.csv")
    pred = truth ^ (rng.random(rows) < 0.03)
    _write(pa.table({"Set ID": ids, "target": classes[pred.astype(int)]}), folder / "submission.csv")
    return {"labels": folder / "labels.csv", "ordered": folder / "submission.csv"}


def _alternating(floor, run, repeat: int) -> tuple[list[float], list[float]]:
    """Time floor() and run() in turns, `repeat` times each; return both lists of seconds."""
    floors, runs = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        floor()
        floors.append(time.perf_counter() - t)
        t = time.perf_counter()
        run()
        runs.append(time.perf_counter() - t)
    return floors, runs


def _memory(folder: Path, labels: Path, submission: Path, what: str) -> dict[str, float]:
    """Run one call in a fresh subprocess and return its peak RSS growth in bytes."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), str(labels), str(submission), what],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def child(folder: str, labels_path: str, submission: str, what: str) -> None:
    """Measure one call's peak RSS growth (run in a subprocess)."""
    import gc

    task = load_task(folder)
    labels = read_labels(labels_path, task)
    gc.collect()
    pa.default_memory_pool().release_unused()
    before = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    if what == "score":
        score(submission, labels, task)
    else:
        pcsv.read_csv(submission)
    peak = _status_kb("VmHWM")
    print(json.dumps({"peak_growth": (peak - before) * 1024}))


def bench_case(name: str, folder: Path, labels_path: Path, submission: Path, repeat: int) -> dict[str, float]:
    task = load_task(folder)
    t = time.perf_counter()
    labels = read_labels(labels_path, task)
    labels_s = time.perf_counter() - t
    size = submission.stat().st_size
    pcsv.read_csv(submission)  # warm the page cache and the allocator for both
    floors, runs = _alternating(lambda: pcsv.read_csv(submission), lambda: score(submission, labels, task), repeat)
    floor_s, score_s = min(floors), min(runs)
    pair_ratio = statistics.median(r / f for r, f in zip(runs, floors, strict=True))
    mem = _memory(folder, labels_path, submission, "score")["peak_growth"]
    floor_mem = _memory(folder, labels_path, submission, "floor")["peak_growth"]
    result = score(submission, labels, task)
    row = {
        "case": name, "rows": labels.rows, "file_mb": size / 1e6, "labels_s": labels_s,
        "floor_s": floor_s, "score_s": score_s, "ratio": score_s / floor_s, "median_pair_ratio": pair_ratio,
        "floor_median_s": statistics.median(floors), "score_median_s": statistics.median(runs),
        "memory_mb": mem / 1e6, "floor_memory_mb": floor_mem / 1e6, "memory_x_file": mem / size,
        "public": result.public_score, "private": result.private_score,
    }
    ok_t = "ok" if row["ratio"] <= TIME_GOAL else "MISSED"  # judged on the best times
    ok_m = "ok" if row["memory_x_file"] <= MEMORY_GOAL else "MISSED"
    print(f"{name:22s} rows {labels.rows:>9,}  file {row['file_mb']:6.1f} MB  labels read {labels_s:5.2f} s\n"
          f"    time:   floor {floor_s:6.3f} s (median {row['floor_median_s']:.3f})  score {score_s:6.3f} s "
          f"(median {row['score_median_s']:.3f})  ratio of bests {row['ratio']:4.2f}, median ratio of pairs "
          f"{pair_ratio:4.2f}  (goal {TIME_GOAL}: {ok_t})\n"
          f"    memory: peak +{row['memory_mb']:6.1f} MB = {row['memory_x_file']:4.2f} x file  (goal {MEMORY_GOAL}: "
          f"{ok_m}; read_csv alone +{row['floor_memory_mb']:.1f} MB)", flush=True)
    return row


def bench_rejections(folder: Path, labels_path: Path, submission: Path) -> None:
    """Time rejections of broken copies of the submission (one run each)."""
    task = load_task(folder)
    labels = read_labels(labels_path, task)
    data = submission.read_bytes()
    broken = {
        "bad value on the last line": data[:-30] + b"abc" + data[-27:],
        "an extra field near the top": data[:5000] + data[5000:].replace(b"\n", b",\n", 1),
        "a blank line and a bad value": (data[:5000] + data[5000:].replace(b"\n", b"\n\n", 1))[:-30]
        + b"abc" + data[-27:],
        "an id spanning two lines (Python path)": data.replace(b"\nTEST_0000500,", b'\n"TEST\n_0000500",', 1),
    }
    for name, content in broken.items():
        t = time.perf_counter()
        try:
            score(content, labels, task)
        except SubmissionRejected as exc:
            first = exc.message.splitlines()[0]
        else:
            first = "(scored?)"
        print(f"    rejection, {name}: {time.perf_counter() - t:5.2f} s  ({first[:70]})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON line")
    args = parser.parse_args()
    print(f"pyarrow {pa.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs; best of {args.repeat}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_scoring_") as tmp:
        multi = Path(tmp) / "multi"
        binary = Path(tmp) / "binary"
        multi.mkdir()
        binary.mkdir()
        t = time.perf_counter()
        m = make_multi(multi, args.rows)
        b = make_binary(binary, args.rows)
        print(f"generated in {time.perf_counter() - t:.1f} s")
        rows.append(bench_case("14 targets, same order", multi, m["labels"], m["ordered"], args.repeat))
        rows.append(bench_case("14 targets, shuffled", multi, m["labels"], m["shuffled"], args.repeat))
        rows.append(bench_case("binary class (F1)", binary, b["labels"], b["ordered"], args.repeat))
        bench_rejections(multi, m["labels"], m["ordered"])
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
