"""Pages of issue 8, continued: the overview's example from the competition's own sample
submission, and code competitions (kind, submit.zip, outcome classes, hidden test features)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.errors import BadRequest
from server.models import Competition, Submission, Team
from server.services.code_jobs import attach_test_features
from server.services.competitions import CompetitionSettings, create_competition
from server.services.datafiles import DataFileInput, attach_data_files
from tests.server.conftest import N_ROWS, TINY_TASK, Env, _read, tiny_labels
from tests.server.test_pages import _sign_in, _text

CODE_TASK = TINY_TASK.replace('id_column = "id"', 'id_column = "id"\nkind = "code"') + """
[code]
test_features = ["test.csv"]
install_seconds = 61
inference_seconds = 97
memory_mb = 777
"""
HIDDEN = "id,x\n" + "".join(f"T{i:03d},HIDDEN{i}\n" for i in range(N_ROWS))


def _file(env: Env, name: str, text: str) -> Path:
    path = env.tmp / "files" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_overview_example_comes_from_the_attached_sample_submission(env: Env) -> None:
    env.competition()
    env.competition("other")
    placeholder = _text(env.client.get("/competitions/tiny?lang=en"))
    assert "&lt;id 1&gt;" in placeholder  # no bundled dataset for this task, nothing attached
    sample = "id,y\n" + "".join(f"T{i:03d},42.125\n" for i in range(N_ROWS))  # one constant placeholder
    attach_data_files(env.rt, "tiny", [DataFileInput("sample_submission.csv", _file(env, "s.csv", sample))],
                      actor="test")
    page = _text(env.client.get("/competitions/tiny?lang=en"))
    assert "id,y\nT000,42.125\nT001,42.125\nT002,42.125\n" in page and "&lt;id 1&gt;" not in page
    # A sample whose header is not the task's columns is not shown as the format.
    wrong = "ident,value\n" + "".join(f"T{i:03d},7\n" for i in range(N_ROWS))
    attach_data_files(env.rt, "other", [DataFileInput("sample_submission.csv", _file(env, "w.csv", wrong))],
                      actor="test")
    assert "&lt;id 1&gt;" in _text(env.client.get("/competitions/other?lang=en"))


@pytest.fixture
def code_comp(env: Env) -> Env:
    folder = env.tmp / "code-task"
    folder.mkdir()
    (folder / "task.toml").write_text(CODE_TASK, encoding="utf-8")
    (folder / "labels.csv").write_text(tiny_labels(), encoding="utf-8")
    create_competition(env.rt, actor="test", task_dir=folder, labels_file=folder / "labels.csv", slug="code",
                       settings=CompetitionSettings(start=env.now.replace(day=1).isoformat(),
                                                    end=env.now.replace(month=12).isoformat()),
                       split_seed="test-seed")
    hidden = env.tmp / "code-hidden"
    hidden.mkdir()
    (hidden / "test.csv").write_text(HIDDEN, encoding="utf-8")
    attach_test_features(env.rt, "code", hidden)
    return env


def test_the_competition_object_says_its_kind(code_comp: Env) -> None:
    env = code_comp
    env.competition()
    kinds = {c["slug"]: c["kind"] for c in env.client.get("/api/v1/competitions").get_json()["competitions"]}
    assert kinds == {"code": "code", "tiny": "csv"}


def test_submit_tab_of_a_code_competition_asks_for_submit_zip_with_its_limits(code_comp: Env) -> None:
    env = code_comp
    env.competition()
    client = _sign_in(env, env.team("Alpha"))
    page = _text(client.get("/competitions/code/submit?lang=en"))
    assert 'accept=".zip,application/zip"' in page and "submit.zip" in page and "script.py" in page
    assert "data/test.csv" in page and "61 seconds" in page and "97 seconds" in page and "777 MB" in page
    assert "An install error (zip layout or requirements) does not count." in page
    korean = _text(client.get("/competitions/code/submit?lang=ko"))
    assert "코드 제출 대회입니다" in korean and "최대 97초" in korean
    csv_page = _text(client.get("/competitions/tiny/submit?lang=en"))
    assert 'accept=".csv,.gz,text/csv,application/gzip"' in csv_page and "script.py" not in csv_page


def test_my_submissions_show_the_outcome_class_time_and_memory_and_no_run_log(code_comp: Env) -> None:
    env = code_comp
    token = env.team("Alpha")
    with env.rt.write() as session:
        team_id = session.execute(sa.select(Team.id)).scalar_one()
        comp_id = session.execute(sa.select(Competition.id)).scalar_one()
        for i, (status, outcome, run) in enumerate([
            ("run_error", "timeout", {"outcome": "timeout", "message": "script.py did not finish within the time limit",
                                      "run_seconds": 97.4, "peak_memory_mb": 123.5, "install_seconds": 1.0,
                                      "limits_applied": "rlimits"}),
            ("install_error", "install_error", {"outcome": "install_error", "message": "install error",
                                                "run_seconds": None, "peak_memory_mb": None}),
        ]):
            session.add(Submission(
                id=f"{i:032x}", competition_id=comp_id, team_id=team_id, status=status, outcome=outcome,
                run_info=json.dumps(run), message=run["message"], received_at=env.now, sha256="0" * 64, bytes=10,
                attempts=1, filename="submit.zip"))
    client = _sign_in(env, token)
    page = _text(client.get("/competitions/code/submissions?lang=en"))
    assert "Run error" in page and "Notebook timeout" in page and "run 97.4 s" in page
    assert "peak memory 123.5 MB" in page and "Install error (not counted)" in page
    korean = _text(client.get("/competitions/code/submissions?lang=ko"))
    assert "실행 오류" in korean and "시간 초과" in korean and "실행 97.4초" in korean and "최대 메모리 123.5 MB" in korean
    assert "HIDDEN" not in page + korean
    body = env.get("/api/v1/competitions/code/submissions", token).get_json()
    assert {s["outcome"] for s in body["submissions"]} == {"timeout", "install_error"}


def test_the_data_tab_of_a_code_competition_never_lists_the_hidden_test_features(code_comp: Env) -> None:
    env = code_comp
    hidden_sha = hashlib.sha256(HIDDEN.encode()).hexdigest()
    public_test = "id\n" + "".join(f"T{i:03d}\n" for i in range(3))
    attach_data_files(env.rt, "code", [DataFileInput("test.csv", _file(env, "test.csv", public_test))], actor="test")
    for path in ("/competitions/code/data", "/competitions/code/data?lang=en", "/api/v1/competitions/code/data"):
        text = _text(env.client.get(path))
        assert hidden_sha not in text and "HIDDEN" not in text
    download = _read(env.client.get("/api/v1/competitions/code/data/test.csv"))
    assert download.get_data(as_text=True) == public_test
    # The hidden file itself, under any name, is refused as a data file...
    with pytest.raises(BadRequest, match="hidden test features"):
        attach_data_files(env.rt, "code", [DataFileInput("features.csv", _file(env, "f.csv", HIDDEN))], actor="test")
    assert "features.csv" not in _text(env.client.get("/api/v1/competitions/code/data"))
    # ...and hidden features that are already published cannot be attached as hidden.
    again = env.tmp / "again"
    again.mkdir()
    (again / "test.csv").write_text(public_test, encoding="utf-8")
    with pytest.raises(BadRequest, match="published data file test.csv"):
        attach_test_features(env.rt, "code", again)


def test_the_submit_page_shows_an_upload_refusal_in_the_page_language(env: Env) -> None:
    import io

    from tests.server.test_pages import _csrf

    env.competition()
    client = _sign_in(env, env.team("Alpha"))
    for lang, expected in (("ko", "파일이 비어 있습니다"), ("en", "the file is empty; expected a CSV")):
        token = _csrf(client, f"/competitions/tiny/submit?lang={lang}")
        refused = client.post("/competitions/tiny/upload", data={"file": (io.BytesIO(b""), "empty.csv")},
                              headers={"X-CSRFToken": token}, content_type="multipart/form-data")
        assert refused.status_code == 400 and expected in refused.get_json()["message"], refused.get_json()
        assert refused.get_json()["error"] == "bad_request"
