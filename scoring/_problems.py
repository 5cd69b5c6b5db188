"""Collect a submission's problems and word them: one place for every message and its kind."""

from __future__ import annotations

from collections import Counter

from scoring._fields import Field
from scoring._values import ClassLookup, parse_float, show
from scoring.errors import Problem, SubmissionRejected

__all__ = [
    "Collector",
    "MAX_DETAILS",
    "MAX_PROBLEMS",
    "UTF8_HINT",
    "code_kind",
    "number_kind",
]

MAX_DETAILS = 10  # detailed problems kept (all are counted)
MAX_PROBLEMS = 100_000  # reading stops after this many problems
UTF8_HINT = "; save the file as UTF-8 (in Excel: 'CSV UTF-8')"


def number_kind(text: str, probability: bool) -> str:
    """Return the kind of problem of an invalid number (or probability) cell."""
    value = parse_float(text)
    if not text.strip():
        return "empty value"
    if value is None:
        return "not a number"
    if value - value != 0.0:
        return "not finite"
    return "not a probability"


def _expected(f: Field) -> str:
    if f.kind == "boolean":
        return "True or False"
    if f.kind == "usage":
        return "Public or Private"
    return "one of " + ", ".join(f.classes)


def code_kind(f: Field, text: str) -> str:
    """Return the kind of problem of an invalid class, boolean or usage cell."""
    if not text.strip():
        return "empty value"
    return "not an allowed class" if f.kind == "class" else f"not {_expected(f)}"


class Collector:
    """Collect problems: the first MAX_DETAILS in detail, all of them counted by kind."""

    def __init__(self) -> None:
        self.details: list[Problem] = []
        self.summaries: list[Problem] = []
        self.counts: Counter[str] = Counter()
        self.shown: Counter[str] = Counter()
        self.total = 0

    def add(self, kind: str, line: int | None, column: str | None, message: str, code: str | None = None,
            **params: object) -> None:
        """Count a problem; keep it in detail (code: the kind, snake_cased, unless given)."""
        self.counts[kind] += 1
        self.total += 1
        if len(self.details) < MAX_DETAILS:
            self.details.append(Problem(line, column, message, code or kind.replace(" ", "_"), params))
            self.shown[kind] += 1

    def summary(self, kind: str, count: int, problem: Problem) -> None:
        """Add one problem that stands for `count` of a kind (e.g. all the missing ids)."""
        if count:
            self.counts[kind] += count
            self.shown[kind] += count
            self.total += count
        self.summaries.append(problem)

    @property
    def full(self) -> bool:
        return self.total >= MAX_PROBLEMS

    def check(self) -> None:
        """Raise SubmissionRejected if any problem was collected."""
        if not self.total:
            return
        problems = self.details + self.summaries
        lines = [str(p) for p in problems]
        hidden = {k: n - self.shown[k] for k, n in self.counts.items() if n > self.shown[k]}
        if hidden:
            more = sum(hidden.values())
            kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(hidden.items(), key=lambda kv: (-kv[1], kv[0])))
            lines.append(f"and {more:,} more problem{'s' if more > 1 else ''} ({kinds})")
        raise SubmissionRejected("\n".join(lines), problems, dict(self.counts))

    # The messages, one method per kind of problem.

    def bad_number(self, text: str, line: int, column: str, probability: bool) -> None:
        kind = number_kind(text, probability)
        code = {"empty value": "empty_probability" if probability else "empty_number", "not a number": "not_a_number",
                "not finite": "not_finite", "not a probability": "not_a_probability"}[kind]
        message = {
            "empty value": f"empty value (expected a {'probability' if probability else 'number'})",
            "not a number": f"{show(text)} is not a number",
            "not finite": f"{show(text)} is not a finite number",
            "not a probability": f"{show(text)} is not a probability (expected 0 to 1)",
        }[kind]
        self.add(kind, line, column, message, code=code, value=show(text))

    def bad_code(self, f: Field, text: str, line: int, column: str) -> None:
        kind = code_kind(f, text)
        allowed = " / ".join(f.classes) if f.kind == "class" else _expected(f).replace(" or ", " / ")
        if kind == "empty value":
            message, code = f"empty value (expected {_expected(f)})", "empty_choice"
        elif f.kind == "class":
            message = f"{show(text)} is not an allowed class (expected {_expected(f)}){ClassLookup(f.classes).hint(text)}"
            code = "not_allowed_class"
        else:
            message, code = f"{show(text)} is not {_expected(f)}", "not_allowed_value"
        self.add(kind, line, column, message, code=code, value=show(text), allowed=allowed)

    def bad_fields(self, line: int, expected: int, found: int, trailing_comma: bool) -> None:
        hint = " (a trailing comma?)" if trailing_comma and found == expected + 1 else ""
        self.add("wrong number of fields", line, None, f"expected {expected} fields, found {found}{hint}",
                 expected=expected, found=found)

    def empty_id(self, line: int, column: str) -> None:
        self.add("empty id", line, column, "empty id")

    def unknown_id(self, key: str, line: int, column: str, padded: bool) -> None:
        hint = " (remove the spaces around it)" if padded else ""
        self.add("unknown id", line, column, f"unknown id {show(key)}{hint}",
                 code="unknown_id_padded" if padded else "unknown_id", value=show(key))

    def duplicate_id(self, key: str, line: int, column: str, first_line: int) -> None:
        self.add("duplicate id", line, column, f"duplicate id {show(key)} (first on line {first_line})",
                 value=show(key), first_line=first_line)

    def missing_ids(self, column: str, count: int, example: str) -> None:
        text = f"1 id is missing: {example}" if count == 1 else f"{count:,} ids are missing, e.g. {example}"
        self.summary("missing id", count, Problem(None, column, text, "missing_ids", {"count": count, "example": example}))

    def no_rows(self) -> None:
        self.add("no rows", None, None, "the file has a header but no data rows")

    def stopped(self, line: int) -> None:
        self.summary("too many problems", 0,
                     Problem(None, None, f"stopped reading at line {line} after {self.total:,} problems",
                             "stopped", {"line": line, "count": self.total}))
