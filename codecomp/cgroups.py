"""Memory, process-count and CPU limits for one sandboxed run through cgroups (v2, else v1).

A group is created as a child of the cgroup this process is in (so a limit set for the worker
itself still applies on top), joined by the sandbox's first process before it executes bwrap, and
removed after the run. `CgroupSet.create` returns None where cgroups cannot be written (no
delegation, read-only /sys/fs/cgroup): the caller then falls back to rlimits and says so.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CgroupSet", "ROOT"]

ROOT = Path("/sys/fs/cgroup")


def _own_paths() -> dict[str, str]:
    """Map controller name (v1) or "" (v2) to this process's cgroup path."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


_PREFIX = "hackathon-sandbox-"


def _sweep(own: dict[str, str]) -> None:
    """Remove empty groups left by a worker that was killed mid-run (its pid is in the name)."""
    parents = [ROOT / c / own.get(c, "/").lstrip("/") for c in ("memory", "pids", "cpu")]
    if "" in own:
        parents += [ROOT / own[""].lstrip("/"), ROOT / "unified" / own[""].lstrip("/")]
    for parent in parents:
        try:
            stale = [p for p in parent.glob(f"{_PREFIX}*") if p.is_dir()]
        except OSError:
            continue
        for group in stale:
            try:
                pid = int(group.name[len(_PREFIX):].split("-")[0])
            except ValueError:
                continue
            if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
                try:
                    group.rmdir()  # fails, harmlessly, while a process is still inside
                except OSError:
                    pass


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


@dataclass
class CgroupSet:
    """The group(s) of one run: one folder for v2, one per controller for v1."""

    version: int
    dirs: dict[str, Path]  # v2: {"": dir}; v1: {"memory": dir, "pids": dir, "cpu": dir}
    join_files: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        names = "memory, pids, cpu" if self.version == 2 else ", ".join(self.dirs)
        return f"cgroup v{self.version} ({names})"

    @classmethod
    def create(cls, *, memory_bytes: int, pids: int, cpus: int) -> CgroupSet | None:
        """Make a group with these limits; None if this host does not let us."""
        name = f"{_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        own = _own_paths()
        _sweep(own)
        for factory in (cls._v2, cls._v1):
            try:
                group = factory(name, own, memory_bytes, pids, cpus)
            except OSError:
                group = None
            if group is not None:
                return group
        return None

    @classmethod
    def _v2(cls, name: str, own: dict[str, str], memory_bytes: int, pids: int, cpus: int) -> CgroupSet | None:
        for mount in (ROOT, ROOT / "unified"):
            if not (mount / "cgroup.controllers").is_file() or "" not in own:
                continue
            parent = mount / own[""].lstrip("/")
            available = (parent / "cgroup.controllers").read_text().split()
            if not {"memory", "pids"} <= set(available):
                continue
            enabled = (parent / "cgroup.subtree_control").read_text().split()
            wanted = [c for c in ("memory", "pids", "cpu") if c in available and c not in enabled]
            if wanted:
                _write(parent / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
            path = parent / name
            path.mkdir()
            try:
                _write(path / "memory.max", str(memory_bytes))
                if (path / "memory.swap.max").exists():
                    _write(path / "memory.swap.max", "0")
                _write(path / "pids.max", str(pids))
                if (path / "cpu.max").exists():
                    _write(path / "cpu.max", f"{cpus * 100_000} 100000")
            except OSError:
                path.rmdir()
                raise
            return cls(2, {"": path}, [str(path / "cgroup.procs")])
        return None

    @classmethod
    def _v1(cls, name: str, own: dict[str, str], memory_bytes: int, pids: int, cpus: int) -> CgroupSet | None:
        if not ((ROOT / "memory" / "cgroup.procs").exists() and (ROOT / "pids" / "cgroup.procs").exists()):
            return None
        dirs: dict[str, Path] = {}
        try:
            for controller in ("memory", "pids", "cpu"):
                mount = ROOT / controller
                if not (mount / "cgroup.procs").exists():
                    if controller == "cpu":
                        continue  # CPU quota is a nicety; memory and pids are the limits
                    raise OSError(f"no v1 {controller} controller")
                path = mount / own.get(controller, "/").lstrip("/") / name
                path.mkdir()
                dirs[controller] = path
            _write(dirs["memory"] / "memory.limit_in_bytes", str(memory_bytes))
            if (dirs["memory"] / "memory.memsw.limit_in_bytes").exists():
                try:
                    _write(dirs["memory"] / "memory.memsw.limit_in_bytes", str(memory_bytes))
                except OSError:
                    pass  # swap accounting off: no swap to limit
            _write(dirs["pids"] / "pids.max", str(pids))
            if "cpu" in dirs:
                try:
                    _write(dirs["cpu"] / "cpu.cfs_period_us", "100000")
                    _write(dirs["cpu"] / "cpu.cfs_quota_us", str(cpus * 100_000))
                except OSError:
                    dirs.pop("cpu").rmdir()
        except OSError:
            for path in dirs.values():
                try:
                    path.rmdir()
                except OSError:
                    pass
            raise
        return cls(1, dirs, [str(p / "cgroup.procs") for p in dirs.values()])

    def join_self(self) -> None:
        """Move the calling process into the group (run in the child between fork and exec)."""
        pid = str(os.getpid())
        for path in self.join_files:
            with open(path, "w") as fh:
                fh.write(pid)

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.dirs.values():
            try:
                found.update(int(x) for x in (path / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return found

    def kill_all(self, timeout: float = 5.0) -> bool:
        """SIGKILL every process in the group until it is empty; return whether it emptied."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids:
                return True
            if time.monotonic() > deadline:
                return False
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def peak_memory(self) -> int | None:
        candidates = [self.dirs.get(""), self.dirs.get("memory")]
        for path in filter(None, candidates):
            for name in ("memory.peak", "memory.max_usage_in_bytes"):
                try:
                    return int((path / name).read_text().split()[0])
                except (OSError, ValueError, IndexError):
                    continue
        return None

    def oom_killed(self) -> bool:
        path = self.dirs.get("") or self.dirs.get("memory")
        if path is None:
            return False
        for name in ("memory.events", "memory.oom_control"):
            try:
                text = (path / name).read_text()
            except OSError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                    return True
        try:  # v1 kernels without an oom_kill counter: the limit was hit
            return int((path / "memory.failcnt").read_text()) > 0 and self.version == 1
        except (OSError, ValueError):
            return False

    def remove(self) -> None:
        self.kill_all()
        for path in self.dirs.values():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)  # the last process is still being torn down
