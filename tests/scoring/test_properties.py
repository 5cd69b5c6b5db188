"""Property tests: any bytes either score or raise SubmissionRejected, and all three reading paths agree."""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scoring import SubmissionRejected, _bulk, _problems, _reader, score

from .conftest import (
    ANOMALY_LABELS,
    ANOMALY_TOML,
    LEAD_LABELS,
    LEAD_TOML,
    PROBABILITY_LABELS,
    PROBABILITY_TOML,
    QUALITY_LABELS,
    QUALITY_TOML,
    REGRESSION_LABELS,
    REGRESSION_TOML,
    SALES_LABELS,
    SALES_TOML,
    Case,
    make_case,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = {
    "regression": b"ID,Y_01,Y_02,Y_03\n" + b"".join(b"TEST_00%d,%d.5,%d,%d\n" % (i, i, i + 1, i + 2) for i in range(1, 7)),
    "quality": b"PRODUCT_ID,Y_Class\nTEST_000,0\nTEST_001,1\nTEST_002,2\nTEST_003,1\nTEST_004,0\nTEST_005,2\nTEST_006,1\n",
    "anomaly": b"Set ID,target\nS1,Normal\nS2,AbNormal\nS3,Normal\nS4,AbNormal\nS5,Normal\nS6,AbNormal\n",
    "lead": b"id,is_converted\n0,True\n1,False\n2,True\n3,True\n",
    "probability": b"ID,probability\nA,0.9\nB,0.2\nC,0.4\nD,0.7\n",
    "sales": b"ID,2023-04-05,2023-04-06\nP1,5,2\nP2,0,0\nP3,3,2\nP4,3,5\nP5,2,0\n",
}

TOKENS = [b'"', b",", b"\n", b"\r", b"\r\n", b"\xff", b"\x00", b"\xef\xbb\xbf", b"nan", b"inf", b"1e999", b" ", b"-",
          b"TEST_001", b"True", b"AbNormal", b"2", b"1.0", b'""', b"\t", "한".encode(), b"\x1f\x8b", b"0" * 50]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    root = tmp_path_factory.mktemp("properties")
    specs = {"regression": (REGRESSION_TOML, REGRESSION_LABELS), "quality": (QUALITY_TOML, QUALITY_LABELS),
             "anomaly": (ANOMALY_TOML, ANOMALY_LABELS), "lead": (LEAD_TOML, LEAD_LABELS),
             "probability": (PROBABILITY_TOML, PROBABILITY_LABELS), "sales": (SALES_TOML, SALES_LABELS)}
    return {name: make_case(root, name, toml, labels) for name, (toml, labels) in specs.items()}


def outcome(data: bytes, case: Case) -> tuple[str, object]:
    """Score the bytes; only SubmissionRejected may escape score(), anything else fails the test."""
    try:
        result = score(data, case.labels, case.task)
    except SubmissionRejected as exc:
        assert exc.message and exc.problems and exc.counts
        assert len(exc.problems) <= _problems.MAX_DETAILS + 3
        for problem in exc.problems:
            assert problem.line is None or problem.line >= 1
        return "rejected", exc.message
    assert math.isfinite(result.public_score) and math.isfinite(result.private_score)
    assert result.rows == case.labels.rows
    return "scored", (result.public_score, result.private_score)


def both_paths(data: bytes, case: Case) -> tuple[str, object]:
    """Score on the normal route, from the bulk path on, and on the precise path alone: all agree."""
    normal = outcome(data, case)
    with mock.patch.object(_reader, "_fast", lambda *args: None):
        bulk = outcome(data, case)
        with mock.patch.object(_reader, "_bulk", lambda *args: None):
            precise = outcome(data, case)
    assert normal == bulk == precise
    return normal


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid submission of one of the cases with a few random edits."""
    name = draw(st.sampled_from(sorted(VALID)))
    data = bytearray(VALID[name])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate line", "drop line", "swap lines",
                                   "blank line"]))
        at = draw(st.integers(0, len(data)))
        if op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 5))]
        elif op == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        else:
            lines = bytes(data).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if op == "duplicate line":
                lines.insert(j, lines[i])
            elif op == "blank line":
                lines.insert(j, draw(st.sampled_from([b"", b"\r", b" "])))
            elif op == "drop line" and len(lines) > 1:
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return name, bytes(data)


@SETTINGS
@given(data=st.binary(max_size=2000), name=st.sampled_from(sorted(VALID)))
def test_arbitrary_bytes_score_or_are_rejected(cases: dict[str, Case], data: bytes, name: str) -> None:
    both_paths(data, cases[name])


@SETTINGS
@given(case_and_data=mutated())
def test_mutated_submissions_score_or_are_rejected_alike_on_both_paths(cases: dict[str, Case],
                                                                       case_and_data: tuple[str, bytes]) -> None:
    name, data = case_and_data
    both_paths(data, cases[name])


@SETTINGS
@given(case_and_data=mutated(), block=st.integers(1, 40), crlf=st.booleans())
def test_line_scan_blocks_do_not_matter(cases: dict[str, Case], case_and_data: tuple[str, bytes], block: int,
                                        crlf: bool) -> None:
    name, data = case_and_data
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    expected = both_paths(data, cases[name])
    with mock.patch.object(_bulk, "_SCAN_BLOCK", block), mock.patch.object(_reader, "_fast", lambda *args: None):
        assert outcome(data, cases[name]) == expected


@SETTINGS
@given(case_and_data=mutated(), bom=st.booleans(), crlf=st.booleans())
def test_gzip_of_mutated_submissions(cases: dict[str, Case], case_and_data: tuple[str, bytes], bom: bool,
                                     crlf: bool) -> None:
    name, data = case_and_data
    assume(not data.startswith(b"\x1f\x8b"))  # gzip inside gzip is not unpacked twice
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    packed = gzip.compress((b"\xef\xbb\xbf" if bom else b"") + data)
    assert outcome(packed, cases[name]) == outcome((b"\xef\xbb\xbf" if bom else b"") + data, cases[name])


def _csv_text() -> st.SearchStrategy[bytes]:
    cell = st.text(alphabet=st.sampled_from(list('ab,"\n\r 01.-eE+naifTRUEtrue_') + ["한", "\x00", "\ufeff"]),
                   max_size=8)
    row = st.lists(cell, min_size=0, max_size=5).map(",".join)
    return st.lists(row, max_size=8).map(lambda rows: ("ID,Y_01,Y_02,Y_03\n" + "\n".join(rows)).encode())


@SETTINGS
@given(data=_csv_text())
def test_csv_like_text(cases: dict[str, Case], data: bytes) -> None:
    both_paths(data, cases["regression"])


def test_valid_files_score(cases: dict[str, Case]) -> None:
    for name, data in VALID.items():
        assert both_paths(data, cases[name])[0] == "scored", name


def _iter_names() -> Iterator[str]:  # keeps the sampled names honest if a case is added
    yield from VALID


def test_every_case_has_a_valid_file(cases: dict[str, Case]) -> None:
    assert set(_iter_names()) == set(cases)
