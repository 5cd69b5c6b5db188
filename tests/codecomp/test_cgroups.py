"""Cgroups of sandbox runs: created under the worker's own group, removed after, leftovers swept."""

from __future__ import annotations

import subprocess
import sys

import pytest

from codecomp.cgroups import ROOT, CgroupSet, _own_paths


def _probe() -> CgroupSet:
    group = CgroupSet.create(memory_bytes=1 << 28, pids=16, cpus=1)
    if group is None:
        pytest.skip("cgroups cannot be written here (the sandbox falls back to rlimits)")
    return group


def test_group_is_a_child_of_our_own_and_is_removed() -> None:
    group = _probe()
    dirs = list(group.dirs.values())
    own = _own_paths()
    for controller, path in group.dirs.items():
        assert path.parent == ROOT / (controller or "") / own.get(controller, "/").lstrip("/") or group.version == 2
    group.remove()
    assert not any(p.exists() for p in dirs)


def test_groups_of_a_killed_worker_are_swept() -> None:
    group = _probe()
    parent = next(iter(group.dirs.values())).parent
    group.remove()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = parent / f"hackathon-sandbox-{int(dead.stdout)}-dead"
    stale.mkdir()
    try:
        _probe().remove()
        assert not stale.exists()
    finally:
        if stale.exists():
            stale.rmdir()
