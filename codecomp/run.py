"""Run a command in a bubblewrap sandbox with memory, process, CPU, file-size and time limits.

Isolation (bwrap, Debian's `bubblewrap`): every namespace unshared (user, pid, net, ipc, uts,
cgroup), so there is no network at all (only the sandbox's own loopback); a new read-only root holding
only the system's /usr (and /bin, /lib links), the Python installation(s) needed, and the folders
the caller binds, all read-only except those marked writable; size-limited /tmp, /dev/shm and
caller's tmpfs folders; a cleared environment; all capabilities dropped; no nested user
namespaces; the sandbox dies with its parent. Nothing else of the host is visible: not the
instance folder, the hidden labels, other submissions or the worker's environment variables.

Limits: memory, process count and CPU share through a cgroup (v2, else v1) when this process may
create one, else RLIMIT_AS and RLIMIT_NPROC (`Result.enforcement` says which); always RLIMIT_CPU,
RLIMIT_FSIZE and RLIMIT_CORE = 0; a wall-clock timeout that kills the whole process tree (the
bwrap process group; its pid namespace dies with it; the cgroup is emptied and removed).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codecomp.cgroups import CgroupSet

__all__ = ["Limits", "Mount", "Result", "SandboxUnavailable", "bwrap_problem", "sandboxed", "SANDBOX_UID"]

SANDBOX_UID = 65534  # "nobody" inside the sandbox's user namespace
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives")
_NETWORK_ETC = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl", "/etc/ca-certificates",
                "/etc/pki", "/etc/pip.conf")


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot create namespaces here (an organizer problem, never the team's)."""


@dataclass(frozen=True)
class Mount:
    source: Path
    dest: str
    writable: bool = False


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory_bytes: int
    processes: int
    cpus: int = 1
    file_bytes: int = 1 << 30         # RLIMIT_FSIZE: the largest file any process may write
    tmp_bytes: int = 64 << 20         # size of the sandbox's /tmp

    @property
    def cpu_seconds(self) -> int:
        # RLIMIT_CPU is per process; the wall clock is the real limit, this stops a runaway early.
        return int(self.seconds * self.cpus) + 5


@dataclass
class Result:
    returncode: int | None          # of bwrap (the inner program's exit code, or 128+signal)
    timed_out: bool
    seconds: float
    peak_memory_bytes: int | None
    oom_killed: bool
    enforcement: str
    log_tail: str = ""              # the program's stdout+stderr, last lines: internal only
    left_running: list[int] = field(default_factory=list)


def bwrap_problem() -> str | None:
    """Return why bwrap cannot run here, or None if it can (checked with a real sandbox)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bwrap (Debian package bubblewrap) is not installed"
    try:
        done = subprocess.run([exe, "--unshare-all", "--ro-bind", "/usr", "/usr", *_system_links(),
                               "--", "/usr/bin/true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap cannot start: {exc}"
    if done.returncode != 0:
        return f"bwrap cannot create namespaces here: {done.stderr.decode(errors='replace').strip()[:200]}"
    return None


def _system_links() -> list[str]:
    args: list[str] = []
    for path in _SYSTEM_DIRS[1:]:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _bwrap_args(*, mounts: Sequence[Mount], tmpfs: Sequence[tuple[str, int]], cwd: str, env: dict[str, str],
                network: bool, limits: Limits, status_fd: int) -> list[str]:
    exe = shutil.which("bwrap")
    if exe is None:
        raise SandboxUnavailable("bwrap (Debian package bubblewrap) is not installed")
    args = [exe, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--disable-userns", "--clearenv", "--json-status-fd", str(status_fd)]
    if network:
        args.append("--share-net")  # only for `pip install` from a configured index
    args += ["--ro-bind", "/usr", "/usr", *_system_links()]
    for path in (*_ETC_FILES, *(_NETWORK_ETC if network else ())):
        args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
             "--size", str(limits.tmp_bytes), "--tmpfs", "/dev/shm"]
    for mount in mounts:
        args += ["--bind" if mount.writable else "--ro-bind", str(mount.source), mount.dest]
    for dest, size in tmpfs:
        args += ["--size", str(size), "--tmpfs", dest]
    # Last: the new root and /dev read-only, so /tmp, /dev/shm and the caller's writable binds and
    # tmpfs folders (all size-limited) are the only places a program can write.
    args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", cwd, "--"]
    return args


def _preexec(cgroup: CgroupSet | None, limits: Limits) -> None:
    """In the child, before exec: join the cgroup, set the rlimits (inherited by everything below)."""
    if cgroup is not None:
        cgroup.join_self()
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cgroup is None:
        # Fallback: per-process address space (not total memory) and per-user process count.
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


def sandboxed(argv: Sequence[str], *, mounts: Sequence[Mount], cwd: str, limits: Limits,
              env: dict[str, str] | None = None, tmpfs: Sequence[tuple[str, int]] = (), network: bool = False,
              log_path: Path, pass_fds: Sequence[int] = (), use_cgroups: bool = True) -> Result:
    """Run `argv` in a sandbox; wait at most `limits.seconds`; return how it ended.

    The program's stdout and stderr go to `log_path` (bounded by RLIMIT_FSIZE); only its tail is
    kept in `Result.log_tail`, for the organizers.

    Raises:
        SandboxUnavailable: bwrap is missing.
    """
    base_env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": str(limits.cpus),
                "OPENBLAS_NUM_THREADS": str(limits.cpus), "MKL_NUM_THREADS": str(limits.cpus)}
    status_path = log_path.with_name(log_path.name + ".bwrap-status")
    status_fd = os.open(status_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        args = _bwrap_args(mounts=mounts, tmpfs=tmpfs, cwd=cwd, env={**base_env, **(env or {})},
                           network=network, limits=limits, status_fd=status_fd) + list(argv)
        result = _supervise(args, limits, log_path, (*pass_fds, status_fd), use_cgroups)
    finally:
        os.close(status_fd)
    if '"child-pid"' not in status_path.read_text(errors="replace"):
        # bwrap itself failed before starting the program: our problem, never the team's.
        raise SandboxUnavailable(f"bwrap could not set up the sandbox: {result.log_tail.strip()[-300:]}")
    return result


def _supervise(args: list[str], limits: Limits, log_path: Path, pass_fds: Sequence[int],
               use_cgroups: bool) -> Result:
    cgroup = CgroupSet.create(memory_bytes=limits.memory_bytes, pids=limits.processes, cpus=limits.cpus) \
        if use_cgroups else None
    fallback = "rlimits (RLIMIT_AS" + (", RLIMIT_NPROC)" if os.geteuid() != 0 else
                                       "; no process limit: RLIMIT_NPROC does not bind root)")
    enforcement = (cgroup.description if cgroup else fallback) + " + RLIMIT_CPU, RLIMIT_FSIZE"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    timed_out = False
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    pass_fds=tuple(pass_fds), start_new_session=True,
                                    preexec_fn=lambda: _preexec(cgroup, limits))
            try:
                proc.wait(timeout=limits.seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_tree(proc, cgroup)
            seconds = time.monotonic() - started
            if proc.returncode is None:
                proc.wait()
        left: list[int] = []
        if cgroup is not None and not cgroup.kill_all():
            left = sorted(cgroup.pids())
        peak = cgroup.peak_memory() if cgroup else None
        if peak is None:
            after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            peak = after * 1024 if after > before else None
        oom = cgroup.oom_killed() if cgroup else False
    finally:
        if cgroup is not None:
            cgroup.remove()
    return Result(returncode=proc.returncode, timed_out=timed_out, seconds=seconds, peak_memory_bytes=peak,
                  oom_killed=oom, enforcement=enforcement, log_tail=_tail(log_path), left_running=left)


def _kill_tree(proc: subprocess.Popen[bytes], cgroup: CgroupSet | None) -> None:
    """Kill bwrap's process group; its pid namespace, and so every process in it, dies with it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if cgroup is not None:
        cgroup.kill_all()
    proc.wait()


def _tail(path: Path, max_bytes: int = 4000) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(path.stat().st_size - max_bytes, 0))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
