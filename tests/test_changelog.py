"""The changelog names every scorer version, so an audit's `scorer_version` can be explained."""

from __future__ import annotations

import re
from pathlib import Path

from scoring import SCORER_VERSION

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"


def test_the_current_scorer_version_has_a_changelog_entry_with_its_reason() -> None:
    text = CHANGELOG.read_text(encoding="utf-8")
    match = re.search(rf"^### Scorer {re.escape(SCORER_VERSION)}\n- (.+)$", text, re.MULTILINE)
    assert match, f"CHANGELOG.md lacks a '### Scorer {SCORER_VERSION}' heading followed by its reason"


def test_the_changelog_starts_with_unreleased_then_versions_newest_first() -> None:
    versions = re.findall(r"^## \[([^\]]+)\]", CHANGELOG.read_text(encoding="utf-8"), re.MULTILINE)
    assert versions[0] == "Unreleased"
    released = [tuple(int(p) for p in v.split(".")) for v in versions[1:]]
    assert released == sorted(released, reverse=True) and released
