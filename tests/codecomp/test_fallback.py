"""The rlimits fallback (no cgroups): memory by RLIMIT_AS, time by the wall clock; it says so."""

from __future__ import annotations

from collections.abc import Callable

from codecomp import outcome as oc
from codecomp.outcome import Outcome
from tests.codecomp.conftest import WRITE_SUBMISSION

RunZip = Callable[..., Outcome]


def test_fallback_reports_rlimits_and_still_completes(run_zip: RunZip) -> None:
    out = run_zip({"script.py": WRITE_SUBMISSION}, cgroups=False)
    assert out.outcome == oc.COMPLETED, out.internal
    assert out.enforcement.startswith("rlimits")
    assert out.to_team_dict()["limits_applied"].startswith("rlimits")


def test_fallback_memory_limit(run_zip: RunZip) -> None:
    out = run_zip({"script.py": "block = bytearray(4 * 2**30)\n" + WRITE_SUBMISSION}, cgroups=False)
    assert out.outcome == oc.EXCEEDED_MEMORY, out.internal


def test_fallback_timeout(run_zip: RunZip) -> None:
    out = run_zip({"script.py": "while True:\n    pass\n"}, cgroups=False)
    assert out.outcome == oc.TIMEOUT
    assert out.run_seconds is not None  # ended by the runner; how soon after the limit is not asserted
