"""One code submission end to end: unpack, install, run in the sandbox, classify, score.

Used identically by the server's code worker and by `hackathon run-code`, so a team's local run
uses the same sandbox and limits as the server.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codecomp import outcome as oc
from codecomp.install import InstallConfig, InstallError, base_env, create_env, install_requirements, read_requirements
from codecomp.outcome import Outcome
from codecomp.run import Limits, Mount, Result, sandboxed
from codecomp.unpack import REQUIREMENTS, SCRIPT, UnpackError, unpack

__all__ = ["run_submission", "Scorer", "MissingTestData", "SUBMISSION_DIR"]

SUBMISSION_DIR = "/submission"   # script.py's working folder inside the sandbox
_INNER = Path(__file__).with_name("_inner.py")
_RESULT_FD_SLACK = 1024

# Scores output/submission.csv: returns (public, private, rows); raises scoring.SubmissionRejected.
Scorer = Callable[[Path], tuple[float | None, float | None, int | None]]


class MissingTestData(RuntimeError):
    """The organizers' hidden test features are missing: our problem, never the team's."""


def run_submission(zip_path: Path, *, code: Any, data_dir: Path, scorer: Scorer | None = None,
                   install: InstallConfig | None = None, work_root: Path | None = None,
                   keep: bool = False, cgroups: bool = True) -> Outcome:
    """Run a submit.zip under the task's [code] limits (a scoring.tasks.CodeSpec) and classify it.

    `cgroups=False` forces the rlimits fallback (tests; hosts where cgroups misbehave).
    """
    missing = [n for n in code.test_features if not (data_dir / n).is_file()]
    if missing:
        raise MissingTestData(f"hidden test features not found in {data_dir}: {', '.join(missing)}")
    config = install or InstallConfig.from_env()
    work = Path(tempfile.mkdtemp(prefix="codecomp-", dir=work_root))
    work.chmod(0o700)
    try:
        return _run(zip_path, code, data_dir, scorer, config, work, cgroups)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(zip_path: Path, code: Any, data_dir: Path, scorer: Scorer | None, config: InstallConfig,
         work: Path, cgroups: bool) -> Outcome:
    memory = code.memory_mb << 20
    try:
        root = unpack(zip_path, work / "submission", zip_bytes=code.zip_bytes,
                      unpacked_bytes=code.unpacked_bytes, files=code.files)
        requirements = read_requirements(root / REQUIREMENTS)
        base = base_env(config.base_python)
        venv = work / "venv"
        python = create_env(venv, base)
        install_seconds, install_log = install_requirements(
            requirements, venv, base, config, seconds=code.install_seconds, memory_bytes=max(memory, 1 << 30),
            processes=max(code.processes, 64), work=work)
    except UnpackError as exc:
        return Outcome(oc.INSTALL_ERROR, f"{oc.TEAM_MESSAGES[oc.INSTALL_ERROR]}: {exc.message}")
    except InstallError as exc:
        return Outcome(oc.INSTALL_ERROR, f"{oc.TEAM_MESSAGES[oc.INSTALL_ERROR]}: {exc.message}",
                       install_log=exc.log)
    for path in root.rglob("*"):  # the sandbox user reads the team's files through a read-only bind
        path.chmod(0o755 if path.is_dir() else 0o644)
    root.chmod(0o755)
    result, status = _inference(root, python, venv, base, code, data_dir, work, cgroups)
    out = _classify(result, status)
    out.install_seconds, out.install_log = install_seconds, install_log
    if out.outcome == oc.SCORED:
        csv = work / "submission.csv"
        if scorer is None:
            out.outcome, out.message = oc.COMPLETED, oc.TEAM_MESSAGES[oc.COMPLETED]
            out.internal["submission_csv"] = str(csv)
            return out
        from scoring import SubmissionRejected  # pandas: only when there is something to score

        try:
            out.public_score, out.private_score, out.rows = scorer(csv)
        except SubmissionRejected as exc:
            out.outcome, out.message = oc.REJECTED, oc.TEAM_MESSAGES[oc.REJECTED]
            out.internal["rejection"] = exc.message
    return out


def _inference(root: Path, python: Path, venv: Path, base: Any, code: Any, data_dir: Path,
               work: Path, cgroups: bool) -> tuple[Result, dict[str, Any] | None]:
    result_path, status_path = work / "submission.csv", work / "status.json"
    mounts = [*base.mounts, Mount(venv, str(venv)), Mount(root, SUBMISSION_DIR), Mount(_INNER, "/sandbox/inner.py")]
    for name in code.test_features:
        (root / "data" / name).touch(0o644)  # bwrap cannot create a mount point in a read-only bind
        mounts.append(Mount(data_dir / name, f"{SUBMISSION_DIR}/data/{name}"))
    limits = Limits(seconds=code.inference_seconds, memory_bytes=code.memory_mb << 20, processes=code.processes,
                    cpus=code.cpus, file_bytes=code.output_bytes, tmp_bytes=code.output_bytes)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    result_fd = os.open(result_path, flags, 0o600)
    status_fd = os.open(status_path, flags, 0o600)
    try:
        argv = [str(python), "-I", "-S", "/sandbox/inner.py", str(result_fd), str(status_fd), str(python),
                SCRIPT, "output/submission.csv", str(code.output_bytes)]
        result = sandboxed(argv, mounts=mounts, cwd=SUBMISSION_DIR, limits=limits, log_path=work / "run.log",
                           tmpfs=[(f"{SUBMISSION_DIR}/output", code.output_bytes)], pass_fds=(result_fd, status_fd),
                           use_cgroups=cgroups)
    finally:
        os.close(result_fd)
        os.close(status_fd)
    try:
        status = json.loads(status_path.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        status = None
    if result_path.stat().st_size > code.output_bytes + _RESULT_FD_SLACK:
        status = None  # written through /proc by the script itself: not a result we trust
    return result, status


def _classify(result: Result, status: dict[str, Any] | None) -> Outcome:
    internal: dict[str, Any] = {"returncode": result.returncode, "status": status, "log_tail": result.log_tail,
                                "left_running": result.left_running}
    code = None if status is None else status.get("returncode")
    memory_error = "MemoryError" in result.log_tail and "cgroup" not in result.enforcement
    if result.timed_out or code in (-24, 128 + 24) or (code is None and result.returncode in (-24, 152)):
        kind = oc.TIMEOUT  # wall clock, or SIGXCPU from RLIMIT_CPU
    elif result.oom_killed and (code != 0 or status is None):
        kind = oc.EXCEEDED_MEMORY
    elif status is None or code != 0:
        kind = oc.EXCEEDED_MEMORY if memory_error else oc.EXCEPTION
    elif not status.get("found"):
        kind = oc.SUBMISSION_NOT_FOUND
    else:
        kind = oc.SCORED
    return Outcome(kind, oc.TEAM_MESSAGES[kind], run_seconds=result.seconds,
                   peak_memory_bytes=result.peak_memory_bytes, enforcement=result.enforcement, internal=internal)
