"""The console's setup pages over the test client, on SQLite and PostgreSQL: a competition created
from a bundled task or an uploaded task folder, refusals on the form (in the page's language, the
field named, what was typed kept), the action log's actor; a roster imported with its tokens shown
once, a bad roster refused whole with line and column; judges and teams refused."""

from __future__ import annotations

import io
import re
from typing import Any

import sqlalchemy as sa

from server.models import ActionLogEntry, Competition, Team
from tests.server.conftest import TINY_TASK, Env, tiny_labels
from tests.server.test_console_pages import _csrf, _staff, _text

NEW = "/console/new-competition"


def _log(env: Env) -> list[ActionLogEntry]:
    with env.rt.session() as session:
        return list(session.execute(sa.select(ActionLogEntry).order_by(ActionLogEntry.id)).scalars())


def _competitions(env: Env) -> list[str]:
    with env.rt.session() as session:
        return list(session.execute(sa.select(Competition.slug).order_by(Competition.id)).scalars())


def _form(**fields: Any) -> dict[str, Any]:
    """What the browser sends: every text field (empty when not typed) and empty file parts."""
    empty = {k: "" for k in ("slug", "title_ko", "title_en", "timezone", "start", "end", "daily_limit",
                             "total_limit", "max_final", "precision", "max_upload_mb", "public_fraction",
                             "public_feedback")}
    files = {"task_toml": (io.BytesIO(b""), ""), "sample_submission": (io.BytesIO(b""), ""),
             "data": (io.BytesIO(b""), "")}
    return {"source": "bundled", "task": "antenna", **empty, **files, **fields}


def _create(client: Any, data: dict[str, Any]) -> Any:
    response = client.post(NEW, data={**data, "csrf_token": _csrf(client, NEW)}, content_type="multipart/form-data")
    response.get_data()
    response.close()
    return response


def _uploaded(**fields: Any) -> dict[str, Any]:
    sample = "id,y\n" + "".join(f"T{i:03d},0\n" for i in range(20))
    given: dict[str, Any] = {
        "source": "upload", "task_toml": (io.BytesIO(TINY_TASK.encode()), "task.toml"),
        "sample_submission": (io.BytesIO(sample.encode()), "sample_submission.csv"),
        "labels": (io.BytesIO(tiny_labels().encode()), "labels.csv"),
        "data": [(io.BytesIO(b"x,y\n1,2\n"), "train.csv"), (io.BytesIO(b"x\n3\n"), "test.csv")]}
    return _form(**{**given, **fields})


def _antenna_labels() -> bytes:
    import datasets

    header = (datasets.task_dir("antenna") / "sample_submission.csv").read_text().splitlines()[0].split(",")
    return (",".join(header) + "\n" + "".join(",".join([f"TEST_{i:05d}"] + ["1.0"] * (len(header) - 1)) + "\n"
                                              for i in range(40))).encode()


def test_new_competition_from_a_bundled_task(env: Env) -> None:
    org = _staff(env, env.organizer)
    page = org.get(NEW)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert '<option value="antenna"' in _text(page) and 'enctype="multipart/form-data"' in _text(page)
    assert NEW in _text(org.get("/console/"))  # linked from the dashboard and the nav
    # A task.toml picked before the bundled task was chosen is not sent on.
    done = _create(org, _form(labels=(io.BytesIO(_antenna_labels()), "labels.csv"), slug="ant-2026",
                              task_toml=(io.BytesIO(TINY_TASK.encode()), "task.toml"),
                              start="2026-08-01T10:00", end="2026-08-29T18:00", daily_limit="4"))
    assert done.status_code == 302 and done.headers["Location"].endswith("/console/competitions/ant-2026")
    assert "ant-2026" in _text(org.get("/console/competitions/ant-2026"))  # the flash
    with env.rt.session() as session:
        comp = session.execute(sa.select(Competition)).scalar_one()
        assert comp.task_slug == "antenna" and comp.daily_limit == 4
        assert comp.start_at.isoformat().startswith("2026-08-01T01:00")  # 10:00 in Seoul
        assert comp.end_at.isoformat().startswith("2026-08-29T09:00")
    entry = [e for e in _log(env) if e.action == "competition.create"]
    assert len(entry) == 1 and entry[0].actor == "organizer:Org"


def test_new_competition_from_an_uploaded_folder_with_data_files(env: Env) -> None:
    org = _staff(env, env.organizer)
    done = _create(org, _uploaded(slug="uploaded", title_en="Uploaded", title_ko="업로드", timezone="UTC",
                                  start="2026-08-01T10:00", end="2026-08-02T10:00", task="antenna"))
    assert done.status_code == 302, done.get_data(as_text=True)
    with env.rt.session() as session:
        comp = session.execute(sa.select(Competition)).scalar_one()
        assert comp.task_slug == "tiny" and comp.title_ko == "업로드" and comp.precision == 4
        assert comp.start_at.isoformat().startswith("2026-08-01T10:00")  # read in the chosen zone
    files = env.get("/api/v1/competitions/uploaded/data").json
    names = sorted(f["name"] for f in (files["files"] if isinstance(files, dict) else files))
    assert names == ["sample_submission.csv", "test.csv", "train.csv"]
    stored = list((env.rt.home / "labels").iterdir())
    assert len(stored) == 1 and stored[0].read_text() == tiny_labels()  # the organizer-only storage
    actions = {(e.action, e.actor) for e in _log(env)}
    assert ("competition.create", "organizer:Org") in actions and ("competition.data.attach", "organizer:Org") in actions


def test_creation_errors_are_shown_on_the_form_naming_the_field(env: Env) -> None:
    org = _staff(env, env.organizer)
    # No labels file: refused, named, in Korean, what was typed kept, the files asked for again.
    missing = _create(org, _form(slug="kept-slug", title_ko="남은 제목", daily_limit="4"))
    page = _text(missing)
    assert missing.status_code == 400 and "숨겨진 정답 파일" in page and "<code>labels</code>" in page
    assert "파일 항목 labels에 숨겨진 정답 파일이 필요합니다" in page
    assert 'value="kept-slug"' in page and 'value="남은 제목"' in page and 'value="4"' in page
    assert "파일은 다시 골라야 합니다" in page and 'id="labels" name="labels"' in page
    assert re.search(r'id="labels"[^>]*aria-invalid="true"', page)
    # A time that is not one (a browser sends datetime-local; another client may not).
    bad_time = _create(org, _form(labels=(io.BytesIO(_antenna_labels()), "labels.csv"), start="next monday"))
    assert bad_time.status_code == 400 and "ISO 8601" in _text(bad_time) and "<code>start</code>" in _text(bad_time)
    assert 'value="next monday"' in _text(bad_time)
    # End before start: the field and the reason.
    backwards = _create(org, _form(labels=(io.BytesIO(_antenna_labels()), "labels.csv"),
                                   start="2026-08-02T10:00", end="2026-08-01T10:00"))
    assert backwards.status_code == 400 and "종료 시각은 시작 시각보다 뒤여야 합니다" in _text(backwards)
    assert _competitions(env) == [] and not [e for e in _log(env) if e.action.startswith("competition")]
    # A slug already taken.
    assert _create(org, _form(labels=(io.BytesIO(_antenna_labels()), "labels.csv"), slug="twice")).status_code == 302
    dup = _create(org, _form(labels=(io.BytesIO(_antenna_labels()), "labels.csv"), slug="twice", title_en="Again"))
    assert dup.status_code == 400 and "<code>slug</code>" in _text(dup)
    assert "twice" in _text(dup) and "대회가 이미 있습니다" in _text(dup)
    assert _competitions(env) == ["twice"]
    # An uploaded task without its sample; a data file that is the labels (English page).
    no_sample = _uploaded()
    no_sample["sample_submission"] = (io.BytesIO(b""), "")
    response = _create(org, no_sample)
    assert response.status_code == 400 and "<code>sample_submission</code>" in _text(response)
    org.get("/console/?lang=en")
    leak = _create(org, _uploaded(slug="leaky", data=[(io.BytesIO(tiny_labels().encode()), "answers.csv")]))
    assert leak.status_code == 400 and "The competition was not created." in _text(leak)
    assert "Data files" in _text(leak) and "<code>data</code>" in _text(leak)
    assert _competitions(env) == ["twice"]


ROSTER = "팀명,팀원1,팀원2,팀원3,팀원4,팀원5\n" + "".join(f"팀 {i:02d},멤버{i}a,멤버{i}b,,,\n" for i in range(50))


def _import(client: Any, data: bytes, **fields: str) -> Any:
    return client.post("/console/teams/import", content_type="multipart/form-data",
                       data={"roster": (io.BytesIO(data), "roster.csv"), "csrf_token": _csrf(client, "/console/teams"),
                             **fields})


def test_roster_import_shows_the_tokens_once(env: Env) -> None:
    env.competition()
    org = _staff(env, env.organizer)
    assert 'action="/console/teams/import"' in _text(org.get("/console/teams"))
    done = _import(org, ("\ufeff" + ROSTER).encode(), eligible="yes")
    page = _text(done)
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    tokens = re.findall(r'<code class="token">(lgh_[^<]+)</code>', page)
    assert len(tokens) == 50 and len(set(tokens)) == 50
    csv_text = re.search(r'<textarea id="tokens-csv"[^>]*>([^<]*)</textarea>', page).group(1)  # type: ignore[union-attr]
    assert csv_text.startswith("team_id,team,members,token") and all(t in csv_text for t in tokens)
    assert "tokens-download.js" in page and "<script>" not in page
    assert env.get("/api/v1/competitions/tiny/submissions", tokens[7]).status_code == 200
    entries = [e for e in _log(env) if e.action == "team.create"]
    assert len(entries) == 50 and {e.actor for e in entries} == {"organizer:Org"}
    assert not any(t in str(e.payload) for e in entries for t in tokens)
    # Shown once: the teams page lists them, with no token.
    listed = _text(org.get("/console/teams"))
    assert "팀 49" in listed and not any(t in listed for t in tokens)


def test_a_bad_roster_names_line_and_column_and_creates_nothing(env: Env) -> None:
    env.competition()
    env.team("Taken", members=["김철수"])
    org = _staff(env, env.organizer)
    bad = "team,member1,member2\nAlpha,Kim,Lee\n,Park,\nBeta,Kim,\n"
    refused = _import(org, bad.encode())
    page = _text(refused)
    assert refused.status_code == 400 and "팀을 하나도 만들지 않았습니다" in page
    assert "3번째 줄, team 열: 팀 이름이 비어 있습니다" in page and "4번째 줄, member1 열" in page
    assert "2번째 줄에도 팀원으로 있습니다" in page
    conflict = _import(org, "team,member1\nGamma,김철수\n".encode())
    assert conflict.status_code == 400 and "Taken" in _text(conflict)
    not_utf8 = _import(org, "team\n알파\n".encode("cp949"))
    assert not_utf8.status_code == 400 and "UTF-8" in _text(not_utf8)
    empty = org.post("/console/teams/import", data={"csrf_token": _csrf(org, "/console/teams")})
    assert empty.status_code == 400 and "명단 CSV 파일을 고르세요" in _text(empty)
    with env.rt.session() as session:
        assert list(session.execute(sa.select(Team.name)).scalars()) == ["Taken"]


def test_judges_and_teams_cannot_use_the_setup_pages(env: Env) -> None:
    env.competition()
    alpha = env.team("Alpha")
    judge = _staff(env, env.judge)
    before = len(_log(env))
    csrf = _csrf(judge, "/judge/")
    for path in (NEW, "/console/teams/import"):
        assert judge.post(path, data={"csrf_token": csrf, "task": "antenna"}).status_code == 403, path
        response = judge.get(path)
        assert response.status_code == 302 and "/console/signin" in response.headers["Location"], path
    team = env.app.test_client()
    assert team.post("/signin", data={"token": alpha, "csrf_token": _csrf(team, "/signin")}).status_code == 302
    assert team.get(NEW).status_code == 302
    assert team.post("/console/teams/import", data={"csrf_token": _csrf(team, "/signin")}).status_code == 403
    assert env.app.test_client().get(NEW).status_code == 302
    assert len(_log(env)) == before and _competitions(env) == ["tiny"]
