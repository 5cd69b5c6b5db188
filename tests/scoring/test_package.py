"""`scoring` imports its public names on first use, and they stay what they were (score is the function)."""

from __future__ import annotations

import subprocess
import sys

import scoring

CHECK = """
import sys
import scoring.cli
assert not {"numpy", "pyarrow", "pandas"} & set(sys.modules), "scoring.cli loaded the scorer"
import scoring.score                   # the submodule: must not replace the package's `score` function
import scoring
from scoring import score, SCORER_VERSION, Task
assert callable(scoring.score) and scoring.score is score and score.__module__ == "scoring.score"
assert SCORER_VERSION == sys.modules["scoring.score"].SCORER_VERSION and Task.__module__ == "scoring.tasks"
print("ok")
"""


def test_public_names_load_on_first_use_and_score_stays_the_function() -> None:
    result = subprocess.run([sys.executable, "-c", CHECK], check=False, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


def test_every_public_name_resolves() -> None:
    assert set(scoring.__all__) <= set(dir(scoring))
    for name in scoring.__all__:
        assert getattr(scoring, name) is not None
    assert callable(scoring.score)
