"""The API's messages: English as before, Korean when the client sends `Accept-Language: ko`.

Each case sends the same request twice and checks that the `error` code is the same, the
English text is today's text word for word, and the Korean one is the catalog's translation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.server.conftest import Env, _read, tiny_predictions

KO = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"}
HANGUL = re.compile(r"[가-힣]")
BAD = b"id,y\nT000,abc\n" + b"".join(f"T{i:03d},{i * 1.5}\n".encode() for i in range(1, 20))


def _twice(env: Env, method: str, path: str, token: str | None = None, **kwargs: Any) -> tuple[Any, Any]:
    """The response in English (no Accept-Language) and in Korean."""
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    en = _read(env.client.open(path, method=method, headers=headers, **kwargs))
    ko = _read(env.client.open(path, method=method, headers={**headers, **KO}, **kwargs))
    return en, ko


def _check(en: Any, ko: Any, status: int, error: str, english: str, korean_part: str) -> None:
    assert en.status_code == ko.status_code == status, (en.get_json(), ko.get_json())
    assert en.get_json()["error"] == ko.get_json()["error"] == error
    assert en.get_json()["message"] == english
    assert HANGUL.search(ko.get_json()["message"]) and korean_part in ko.get_json()["message"], ko.get_json()
    assert ko.headers.get("Content-Language") == "ko" and en.headers.get("Content-Language") == "en"


def _upload(env: Env, token: str, data: bytes, slug: str = "tiny") -> tuple[Any, Any]:
    return _twice(env, "POST", f"/api/v1/competitions/{slug}/submissions", token, data=data,
                  headers={"Content-Type": "text/csv"})


def test_auth_and_not_found_errors_in_both_languages(env: Env) -> None:
    env.competition()
    en, ko = _twice(env, "GET", "/api/v1/competitions/tiny/submissions", "lgh_wrong")
    _check(en, ko, 401, "unauthorized",
           "this token is not valid: check that it was copied whole (it starts with 'lgh_'); if your team lost it, "
           "ask the organizers for a new team token", "새 팀 토큰을 요청하세요")
    en, ko = _twice(env, "POST", "/api/v1/competitions/tiny/submissions", data=b"x",
                    headers={"Content-Type": "text/csv"})
    _check(en, ko, 401, "unauthorized",
           "this needs a token: send 'Authorization: Bearer <token>' (role team)", "토큰이 필요합니다")
    en, ko = _upload(env, env.organizer, b"x")
    _check(en, ko, 403, "forbidden", "a organizer token cannot do this; it needs role team", "필요한 역할: team")
    en, ko = _twice(env, "GET", "/api/v1/competitions/nope")
    _check(en, ko, 404, "not_found", "no competition 'nope'", "'nope' 대회가 없습니다")
    en, ko = _twice(env, "GET", "/api/v1/submissions/abc", env.team("Alpha"))
    _check(en, ko, 404, "not_found", "no submission 'abc'", "'abc' 제출이 없습니다")
    en, ko = _twice(env, "GET", "/api/v1/no/such/route")
    _check(en, ko, 404, "not_found",
           "The requested URL was not found on the server. If you entered the URL manually please check your "
           "spelling and try again.", "찾을 수 없습니다")
    en, ko = _twice(env, "GET", "/api/v1/competitions/tiny/leaderboard?split=private")
    _check(en, ko, 403, "forbidden",
           "the private leaderboard is hidden until the organizers publish the final standings", "비공개 리더보드")


def test_schedule_limit_size_and_empty_file_errors_in_both_languages(env: Env) -> None:
    env.competition("later", start="2026-08-05T10:00:00+09:00", end="2026-08-20T10:00:00+09:00")
    env.competition(daily_limit=1, max_upload_mb=0.001)
    token = env.team("Alpha")
    en, ko = _upload(env, token, tiny_predictions(), slug="later")
    _check(en, ko, 409, "not_open", "competition 'later' opens at 2026-08-05T10:00:00+09:00",
           "2026-08-05T10:00:00+09:00에 시작합니다")
    en, ko = _upload(env, token, b"")
    _check(en, ko, 400, "bad_request",
           "the file is empty; expected a CSV with a header line (or submit.zip for a code competition)",
           "파일이 비어 있습니다")
    en, ko = _upload(env, token, b"id,y\n" + b"T000,1.0\n" * 200)
    _check(en, ko, 413, "payload_too_large",
           "file is 1.8 KB, larger than this competition's limit of 1.0 KB; compress it with gzip or check it is "
           "the right file", "gzip으로 압축")
    assert _read(env.upload(token, tiny_predictions()[:900])).status_code == 202
    en, ko = _upload(env, token, tiny_predictions()[:900])
    _check(en, ko, 429, "rate_limited",
           "daily limit reached: 1 of 1 submissions today; the count resets at 2026-08-02T00:00:00+09:00",
           "2026-08-02T00:00:00+09:00에 초기화됩니다")
    assert en.get_json()["resets_at"] == ko.get_json()["resets_at"]
    env.set_now(env.now.replace(day=20))
    en, ko = _upload(env, token, tiny_predictions()[:900])
    _check(en, ko, 409, "closed",
           "competition 'tiny' closed at 2026-08-08T12:00:00+09:00; submissions are no longer accepted",
           "더 이상 제출을 받지 않습니다")


def test_final_selection_refusals_in_both_languages(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    path = "/api/v1/competitions/tiny/selection"
    en, ko = _twice(env, "PUT", path, token, json={"submission_ids": ["a", "b", "c"]})
    _check(en, ko, 400, "bad_request", "at most 2 final submissions, found 3", "최종 제출은 최대 2개")
    assert en.get_json()["max_final"] == ko.get_json()["max_final"] == 2
    en, ko = _twice(env, "PUT", path, token, json={"submission_ids": ["zzz"]})
    _check(en, ko, 400, "bad_request", "not submissions of your team in 'tiny': zzz", "우리 팀의 제출이 아닙니다: zzz")
    env.set_now(env.now.replace(day=20))
    en, ko = _twice(env, "PUT", path, token, json={"submission_ids": []})
    _check(en, ko, 409, "conflict", "final selections closed at 2026-08-08T12:00:00+09:00", "마감되었습니다")


def test_a_rejected_submission_reads_in_korean_when_asked(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    sub_id = env.upload(token, BAD).get_json()["id"]
    env.work()
    en, ko = _twice(env, "GET", f"/api/v1/submissions/{sub_id}", token)
    assert en.get_json()["status"] == ko.get_json()["status"] == "rejected"
    en_problem, ko_problem = en.get_json()["problems"][0], ko.get_json()["problems"][0]
    assert en_problem["message"] == "'abc' is not a number"
    assert ko_problem["message"] == "'abc'는 숫자가 아닙니다"
    assert {k: v for k, v in en_problem.items() if k != "message"} == {k: v for k, v in ko_problem.items()
                                                                         if k != "message"}
    assert en.get_json()["message"] == "line 2, column y: 'abc' is not a number"
    assert ko.get_json()["message"] == "2번째 줄, y 열: 'abc'는 숫자가 아닙니다"
    listed = _read(env.client.get("/api/v1/competitions/tiny/submissions",
                                  headers={"Authorization": f"Bearer {token}", **KO})).get_json()
    assert listed["submissions"][0]["problems"][0]["message"] == "'abc'는 숫자가 아닙니다"


def test_the_summary_line_of_many_problems_is_translated(env: Env) -> None:
    from server.web.i18n import localized_submission

    body = {"message": "line 2, column y: 'a' is not a number\nand 1234 more problems (1,234 not a number)",
            "problems": [{"line": 2, "column": "y", "message": "'a' is not a number", "code": "not_a_number",
                          "params": {"value": "'a'"}}]}
    with env.app.test_request_context("/api/v1/submissions/x", headers=KO):
        env.app.preprocess_request()  # compiles the catalogs, as before any request
        assert localized_submission(body)["message"] == ("2번째 줄, y 열: 'a'는 숫자가 아닙니다\n"
                                                         "그 밖에 문제 1,234개가 더 있습니다.")
    with env.app.test_request_context("/api/v1/submissions/x"):
        assert localized_submission(body) == body


def test_every_api_message_template_has_a_korean_entry() -> None:
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    found = {m[2] for m in extract_from_dir(root / "server", [("**.py", "python")], keywords={"msg": None})}
    assert len(found) > 30 and "no competition '%(slug)s'" in found
    with (root / "server/web/translations/ko/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    missing = sorted(m for m in found if not catalog.get(m) or not catalog.get(m).string)
    assert not missing, f"API messages without a Korean translation: {missing}"
    # The same placeholders on both sides, so a translation never fails to format.
    names = re.compile(r"%\((\w+)\)s")
    for m in found:
        assert set(names.findall(m)) == set(names.findall(catalog.get(m).string)), m
