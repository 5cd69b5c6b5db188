"""Submissions: every kind of rejection with its exact message, and every accepted file format."""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path

import pytest

from scoring import Problem, SubmissionRejected, _problems, _reader, score
from scoring._reader import MAX_LINE

from .conftest import REGRESSION_TOML, Case, make_case, regression_csv

HEADER = "ID,Y_01,Y_02,Y_03"
UTF8_HINT = "; save the file as UTF-8 (in Excel: 'CSV UTF-8')"


def rejected(case: Case, data: object, **kwargs: object) -> SubmissionRejected:
    with pytest.raises(SubmissionRejected) as info:
        score(data, case.labels, case.task, **kwargs)  # type: ignore[arg-type]
    return info.value


def rows(overrides: dict[int, str] | None = None) -> list[str]:
    """The six valid regression rows, with some replaced (key: 1-based data row)."""
    out = [f"TEST_00{i},{i + 0.5},{i + 1},{i + 2}" for i in range(1, 7)]
    for k, v in (overrides or {}).items():
        out[k - 1] = v
    return out


@pytest.fixture
def big(tmp_path: Path) -> Case:
    """2,000 ids TEST_00000..TEST_01999, every row public or private by hash."""
    lines = ["ID,Y_01,Y_02,Y_03"] + [f"TEST_{i:05d},{i + 1},{i + 2},{i + 3}" for i in range(2000)]
    return make_case(tmp_path, "big", REGRESSION_TOML, "\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------
# The SPEC's examples, exactly


def test_spec_example_not_a_number_and_missing_ids(big: Case) -> None:
    keep = list(range(17)) + list(range(1221, 2000))
    lines = [HEADER] + [f"TEST_{i:05d},{i + 1},{i + 2},{'abc' if i == 15 else i + 3}" for i in keep]
    exc = rejected(big, ("\n".join(lines) + "\n").encode())
    assert exc.message == "line 17, column Y_03: 'abc' is not a number\n1,204 ids are missing, e.g. TEST_00017"
    assert exc.problems == [Problem(17, "Y_03", "'abc' is not a number"),
                            Problem(None, "ID", "1,204 ids are missing, e.g. TEST_00017")]
    assert exc.counts == {"not a number": 1, "missing id": 1204}
    assert next(p.to_dict() for p in exc.problems) == {"line": 17, "column": "Y_03", "message": "'abc' is not a number",
                                                       "code": "not_a_number", "params": {"value": "'abc'"}}


def test_spec_example_duplicate_id(regression: Case) -> None:
    order = ["TEST_002", "TEST_001", "TEST_003", "TEST_001", "TEST_004", "TEST_005", "TEST_006"]
    data = regression_csv([f"{i},1,2,3" for i in order])
    exc = rejected(regression, data)
    assert exc.message == "line 5, column ID: duplicate id 'TEST_001' (first on line 3)"
    assert exc.problems == [Problem(5, "ID", "duplicate id 'TEST_001' (first on line 3)")]


def test_spec_example_encoding(regression: Case) -> None:
    data = regression_csv(rows({1: "TEST_001,1.5,2\xff,3"})).replace("\xff".encode(), b"\xff")
    offset = data.index(b"\xff")
    exc = rejected(regression, data)
    assert exc.message == f"line 2: not UTF-8: byte 0xff at offset {offset}{UTF8_HINT}"
    assert exc.problems[0].line == 2 and exc.problems[0].column is None


# ---------------------------------------------------------------------------------------------
# Every other kind of problem


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the file is empty"),
    (b"\xef\xbb\xbf", "the file is empty"),
    (b"\nID,Y_01,Y_02,Y_03\n", "line 1: the first line is empty; it must be the header (the column names)"),
    (b"ID,Y_01\xff,Y_02\n", f"line 1: not UTF-8: byte 0xff at offset 7{UTF8_HINT}"),
    ("ID,Y_01,Y_02,Y_03\nTEST_001,한,1,1\n".encode("cp949"), f"line 2: not UTF-8: byte 0xc7 at offset 27{UTF8_HINT}"),
    (b"A" * (MAX_LINE + 1), f"line 1: the header is longer than {MAX_LINE:,} bytes"),
    (",".join(f"c{i}" for i in range(10_001)).encode(), "line 1: the header has 10,001 columns; at most 10,000 are allowed"),
    (b'"ID,Y_01\n', "line 1: the header is not valid CSV: unexpected end of data"),
])
def test_file_level_rejections(regression: Case, data: bytes, message: str) -> None:
    exc = rejected(regression, data)
    assert exc.message == message
    assert len(exc.problems) == 1


def test_line_too_long(regression: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    data = regression_csv(rows({2: "TEST_002,1," + "1" * MAX_LINE + ",3"}))
    assert rejected(regression, data).message == f"line 3: longer than {MAX_LINE:,} bytes"
    # A valid file is scored by pyarrow whatever its line lengths; the limit guards the Python path.
    valid = regression_csv(rows({2: "TEST_002,2.5,3." + "0" * MAX_LINE + ",4"}))
    assert score(valid, regression.labels, regression.task).private_score == pytest.approx(0.15)
    use_path(monkeypatch, "precise")
    assert rejected(regression, valid).message == f"line 3: longer than {MAX_LINE:,} bytes"


@pytest.mark.parametrize(("header", "messages"), [
    ("ID,Y_01,Y_02", ["line 1: missing column 'Y_03'",
                      "line 1: expected the columns ID, Y_01, Y_02, Y_03 (in any order); found ID, Y_01, Y_02"]),
    ("ID,Y_01,Y_02,Y_03,extra", ["line 1: unexpected column 'extra'"]),
    ("ID,y_01,Y_02,Y_03", ["line 1: missing column 'Y_01': found 'y_01' (column names are case-sensitive)"]),
    ("ID, Y_01,Y_02,Y_03", ["line 1: missing column 'Y_01': found ' Y_01' (remove the spaces or quotes around it)"]),
    ("ID,Y_01,Y_02,Y_03,Y_03", ["line 1: column 'Y_03' appears 2 times"]),
    ("ID,Y_01,Y_02,Y_03,", ["line 1: unexpected column '' (a trailing comma, or an unnamed index column?)"]),
    ("Unnamed: 0,ID,Y_01,Y_02,Y_03",
     ["line 1: unexpected column 'Unnamed: 0' (the index of a pandas DataFrame? save with index=False)"]),
])
def test_header_rejections(regression: Case, header: str, messages: list[str]) -> None:
    exc = rejected(regression, regression_csv(rows(), header=header))
    for message in messages:
        assert message in exc.message.splitlines()
    assert all(p.line == 1 for p in exc.problems)
    assert exc.message.splitlines()[-1].startswith("line 1: expected the columns ID, Y_01, Y_02, Y_03 (in any order)")


@pytest.mark.parametrize(("row", "problem"), [
    ("TEST_002,1,2", Problem(3, None, "expected 4 fields, found 3")),
    ("TEST_002,1,2,3,", Problem(3, None, "expected 4 fields, found 5 (a trailing comma?)")),
    ("TEST_002,1,,3", Problem(3, "Y_02", "empty value (expected a number)")),
    ("TEST_002,1,nan,3", Problem(3, "Y_02", "'nan' is not a finite number")),
    ("TEST_002,1,-inf,3", Problem(3, "Y_02", "'-inf' is not a finite number")),
    ("TEST_002,1,1e999,3", Problem(3, "Y_02", "'1e999' is not a finite number")),
    ("TEST_002,1,1_000,3", Problem(3, "Y_02", "'1_000' is not a number")),
    ("TEST_002,1,１,3", Problem(3, "Y_02", "'１' is not a number")),
    ("TEST_002,1,1.5.2,3", Problem(3, "Y_02", "'1.5.2' is not a number")),
    ("TEST_002,1," + "x" * 100 + ",3", Problem(3, "Y_02", "'" + "x" * 40 + "…' is not a number")),
    ("TEST_999,1,2,3", Problem(3, "ID", "unknown id 'TEST_999'")),
    (" TEST_002,1,2,3", Problem(3, "ID", "unknown id ' TEST_002' (remove the spaces around it)")),
    (",1,2,3", Problem(3, "ID", "empty id")),
])
def test_row_rejections(regression: Case, row: str, problem: Problem) -> None:
    exc = rejected(regression, regression_csv(rows({2: row})))
    assert exc.problems[0] == problem
    if problem.column == "ID" or problem.column is None:
        assert exc.problems[-1] == Problem(None, "ID", "1 id is missing: TEST_002")


def test_header_only_and_missing_rows(regression: Case) -> None:
    exc = rejected(regression, (HEADER + "\n").encode())
    assert exc.message == "6 ids are missing, e.g. TEST_001"
    exc = rejected(regression, regression_csv(rows()[:5]))
    assert exc.message == "1 id is missing: TEST_006"


def test_many_problems_are_counted_and_summarised(regression: Case) -> None:
    data = regression_csv([f"TEST_00{i},x{i},y{i},{i}" for i in range(1, 7)] + ["BAD_1,1,2,3", "BAD_2,1,2,3"])
    exc = rejected(regression, data)
    assert len(exc.problems) == 10
    assert exc.counts == {"not a number": 12, "unknown id": 2}
    assert exc.message.splitlines()[-1] == "and 4 more problems (2 not a number, 2 unknown id)"


def test_reading_stops_after_too_many_problems(regression: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_problems, "MAX_PROBLEMS", 20)
    data = regression_csv(rows() + [f"BAD_{i},1,2,3" for i in range(100)])
    exc = rejected(regression, data)
    assert exc.problems[-1] == Problem(None, None, "stopped reading at line 27 after 20 problems")
    assert "missing" not in exc.message


def test_malformed_csv(regression: Case) -> None:
    data = regression_csv(rows({1: 'TEST_001,"' + "1" * 200_000 + '",2,3'}))
    assert rejected(regression, data).message == "line 2: malformed CSV: field larger than field limit (131072)"


@pytest.mark.parametrize(("fixture", "row", "problem"), [
    ("quality", "TEST_001,3", Problem(3, "Y_Class", "'3' is not an allowed class (expected one of 0, 1, 2)")),
    ("quality", "TEST_001,", Problem(3, "Y_Class", "empty value (expected one of 0, 1, 2)")),
    ("anomaly", "S2,abnormal", Problem(3, "target", "'abnormal' is not an allowed class (expected one of Normal, "
                                                    "AbNormal) (did you mean 'AbNormal'? classes are case-sensitive)")),
    ("lead", "1,yes", Problem(3, "is_converted", "'yes' is not True or False")),
    ("probability", "B,1.5", Problem(3, "probability", "'1.5' is not a probability (expected 0 to 1)")),
    ("probability", "B,-0.0001", Problem(3, "probability", "'-0.0001' is not a probability (expected 0 to 1)")),
])
def test_kind_rejections(request: pytest.FixtureRequest, fixture: str, row: str, problem: Problem) -> None:
    case: Case = request.getfixturevalue(fixture)
    valid = {"quality": ["TEST_000,0", "TEST_001,1", "TEST_002,2", "TEST_003,1", "TEST_004,0", "TEST_005,2",
                         "TEST_006,1"],
             "anomaly": ["S1,Normal", "S2,AbNormal", "S3,Normal", "S4,AbNormal", "S5,Normal", "S6,Normal"],
             "lead": ["0,True", "1,False", "2,False", "3,True"],
             "probability": ["A,0.9", "B,0.1", "C,0.2", "D,0.8"]}[fixture]
    valid[1] = row
    data = "\n".join([",".join(case.task.columns), *valid]) + "\n"
    exc = rejected(case, data.encode())
    assert exc.problems == [problem]


def test_size_limits(regression: Case, tmp_path: Path) -> None:
    data = regression_csv(rows())
    assert rejected(regression, data, max_bytes=100).message == "file is larger than 100 bytes"
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    assert rejected(regression, path, max_bytes=100).message == f"file is larger than 100 bytes ({len(data)} bytes)"
    bomb = gzip.compress(data + b"\n" * 10_000)
    assert rejected(regression, bomb, max_bytes=1000).message == "file is larger than 1,000 bytes after decompression"


@pytest.mark.parametrize(("data", "message"), [
    (gzip.compress(b"ID,Y_01,Y_02,Y_03\n")[:-6], "the gzip file is truncated (its end is missing)"),
    (b"\x1f\x8b\x07\x00\x00\x00\x00\x00\x00\x03abc",
     "not a valid gzip file: Error -3 while decompressing data: unknown compression method"),
    (gzip.compress(b"x") + b"trailing", "unexpected data after the end of the gzip stream"),
])
def test_broken_gzip(regression: Case, data: bytes, message: str) -> None:
    assert rejected(regression, data).message == message


def test_a_non_finite_score_is_a_rejection(regression: Case) -> None:
    data = regression_csv(rows({1: "TEST_001,1e200,2,3"}))
    assert rejected(regression, data).message == (
        "the lg_nrmse score of the public rows is not finite (inf); are some predictions extremely large?")


def test_line_numbers_count_blank_lines_and_multiline_records(regression: Case) -> None:
    body = rows()
    data = (HEADER + "\n\n\r\n" + "\n".join(body[:2]) + '\n"TEST\n003",1,2,3\n' + "\n".join(body[3:]) +
            "\nTEST_003,1,x,3\n").encode()
    exc = rejected(regression, data)
    # header 1, blank 2-3, rows 4-5, the quoted id spans 6-7, rows 8-10, then line 11
    assert exc.problems[:2] == [Problem(6, "ID", "unknown id 'TEST\\n003'"), Problem(11, "Y_02", "'x' is not a number")]


def test_rejections_pickle(regression: Case) -> None:
    exc = rejected(regression, regression_csv(rows({1: "TEST_001,a,2,3"})))
    again = pickle.loads(pickle.dumps(exc))
    assert again.message == exc.message and again.problems == exc.problems and again.counts == exc.counts


# ---------------------------------------------------------------------------------------------
# Accepted formats: the same score whatever the encoding details, on both reading paths

EXPECTED = (0.2, 0.15)  # Y_01 is off by 0.5: 1.2 · 0.5 / mean(Y_01) on public (3) and private (4) rows


def _variants(tmp_path: Path) -> dict[str, object]:
    plain = regression_csv(rows())
    crlf = plain.replace(b"\n", b"\r\n")
    quoted = b"\n".join(b",".join(b'"' + f + b'"' for f in line.split(b",")) for line in plain.splitlines()) + b"\n"
    reordered = regression_csv([",".join([r.split(",")[3], r.split(",")[0], r.split(",")[2], r.split(",")[1]])
                                for r in reversed(rows())], header="Y_03,ID,Y_02,Y_01")
    path = tmp_path / "sub.csv"
    path.write_bytes(plain)
    gz_path = tmp_path / "sub.csv.gz"
    gz_path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + crlf))
    return {
        "bytes": plain,
        "bytearray": bytearray(plain),
        "path": path,
        "str path": str(path),
        "file object": io.BytesIO(plain),
        "gzip": gzip.compress(plain),
        "gzip path with BOM and CRLF": gz_path,
        "BOM": b"\xef\xbb\xbf" + plain,
        "CRLF": crlf,
        "CR only": plain.replace(b"\n", b"\r"),
        "quoted": quoted,
        "columns and rows reordered": reordered,
        "blank lines, no final newline": plain.replace(b"\nTEST_003", b"\n\n\nTEST_003").rstrip(b"\n"),
        "spaces and number spellings": regression_csv(rows({1: "TEST_001, 1.5 ,2e0,+3", 2: "TEST_002,2.5,3.,4.0"})),
    }


PATHS = ["fast", "bulk", "precise"]


def use_path(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """Make read_columns start at the given path (the earlier ones give up)."""
    if path in ("bulk", "precise"):
        monkeypatch.setattr(_reader, "_fast", lambda *args: None)
    if path == "precise":
        monkeypatch.setattr(_reader, "_bulk", lambda *args: None)


@pytest.mark.parametrize("path", PATHS)
def test_accepted_formats(regression: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    use_path(monkeypatch, path)
    for name, source in _variants(tmp_path).items():
        result = score(source, regression.labels, regression.task)  # type: ignore[arg-type]
        assert (result.public_score, result.private_score) == pytest.approx(EXPECTED, rel=1e-12), name
        assert result.rows == 6


@pytest.mark.parametrize("path", PATHS)
def test_class_spellings(quality: Case, lead: Case, anomaly: Case, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    use_path(monkeypatch, path)
    q = "PRODUCT_ID,Y_Class\nTEST_000,0\nTEST_001,1.0\nTEST_002, 2\nTEST_003,1\nTEST_004,0\nTEST_005,2\nTEST_006,1\n"
    assert score(q.encode(), quality.labels, quality.task).public_score == 1.0
    ld = "id,is_converted\n0,TRUE\n1,false\n2,0\n3,1\n"
    result = score(ld.encode(), lead.labels, lead.task)
    assert (result.public_score, result.private_score) == (1.0, 1.0)
    an = "Set ID,target\nS1,Normal\nS2,AbNormal\nS3,AbNormal\nS4,Normal\nS5,Normal\nS6,AbNormal\n"
    result = score(an.encode(), anomaly.labels, anomaly.task)
    assert (result.public_score, result.private_score) == (2 / 3, 0.0)


@pytest.mark.parametrize(("row", "code", "params"), [
    ("TEST_002,1,2", "wrong_number_of_fields", {"expected": 4, "found": 3}),
    ("TEST_002,1,,3", "empty_number", {"value": "''"}),
    ("TEST_002,1,abc,3", "not_a_number", {"value": "'abc'"}),
    ("TEST_002,1,nan,3", "not_finite", {"value": "'nan'"}),
    ("TEST_999,1,2,3", "unknown_id", {"value": "'TEST_999'"}),
    (" TEST_002,1,2,3", "unknown_id_padded", {"value": "' TEST_002'"}),
    (",1,2,3", "empty_id", {}),
])
def test_problems_carry_a_code_and_params_for_translation(regression: Case, row: str, code: str,
                                                          params: dict[str, object]) -> None:
    # Pages translate problems from code + params; the English message stays as it was.
    exc = rejected(regression, regression_csv(rows({2: row})))
    assert (exc.problems[0].code, dict(exc.problems[0].params)) == (code, params)
    assert all(p.code for p in exc.problems)
    assert exc.problems[0].to_dict()["code"] == code
