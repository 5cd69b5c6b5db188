"""The OpenAPI document: valid, the same routes as the app, real responses match its schemas, docs current."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from server.api import openapi_docs
from server.api.openapi import load_document

from .conftest import N_ROWS, Env, tiny_labels, tiny_predictions

DOC_URI = "urn:hackathon:openapi"
METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH"}


def _documented() -> set[tuple[str, str]]:
    doc = load_document()
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item
            if method.upper() in METHODS}


def _served(app: Flask) -> set[tuple[str, str]]:
    """(method, path) of every API route, with Flask's `<int:team_id>` written `{team_id}`."""
    out = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        if path.startswith("/api/") or path in ("/healthz", "/metrics"):
            out |= {(method, path) for method in (rule.methods or set()) & METHODS}
    return out


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = load_document()
    assert doc["openapi"].startswith("3.1")
    validate_spec(doc)
    for item in doc["paths"].values():
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                assert op.get("x-roles") and op.get("summary") and op.get("responses"), op.get("operationId")


def test_every_route_is_documented_and_every_documented_route_exists(env: Env) -> None:
    served, documented = _served(env.app), _documented()
    assert served - documented == set(), (
        "routes the app serves that server/api/openapi.yaml lacks: add them there, then run "
        "`python -m server.api.openapi_docs`")
    assert documented - served == set(), "routes server/api/openapi.yaml documents that the app does not serve"


def test_the_route_check_sees_a_new_route(env: Env) -> None:
    # The comparison is against the live URL map: a route added anywhere (even outside a blueprint) shows up.
    env.app.add_url_rule("/api/v1/competitions/<slug>/brand-new", "brand_new", lambda slug: "", methods=["DELETE"])
    assert _served(env.app) - _documented() == {("DELETE", "/api/v1/competitions/{slug}/brand-new")}


def test_docs_api_md_is_up_to_date() -> None:
    assert openapi_docs.DOCS_PATH.read_text(encoding="utf-8") == openapi_docs.render(), \
        "docs/api.md is out of date: run `python -m server.api.openapi_docs`"


def test_the_document_is_served_to_anyone(env: Env) -> None:
    response = env.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == load_document()


def contract_errors(component: str, value: Any) -> list[str]:
    """What in `value` the document's schema `component` refuses (empty when it validates)."""
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(load_document(), DRAFT202012))
    schema = {"$ref": f"{DOC_URI}#/components/schemas/{component}"}
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in Draft202012Validator(schema, registry=registry).iter_errors(value)]


class Contract:
    """Checks a real response against the schema the document gives its route, method and status."""

    def __init__(self) -> None:
        self.doc = load_document()
        self.registry = Registry().with_resource(DOC_URI, Resource.from_contents(self.doc, DRAFT202012))
        self.checked: set[tuple[str, str, int]] = set()

    def check(self, method: str, template: str, response: Any, media_type: str = "application/json") -> Any:
        op = self.doc["paths"][template][method.lower()]
        status = str(response.status_code)
        assert status in op["responses"], f"{method} {template} answered {status}, not documented"
        pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
        declared = op["responses"][status]
        if "$ref" in declared:
            pointer = declared["$ref"].lstrip("#")
        assert response.mimetype == media_type, (method, template, response.mimetype)
        body = json.loads(response.get_data(as_text=True))
        schema = {"$ref": f"{DOC_URI}#{pointer}/content/{_escape(media_type)}/schema"}
        errors = sorted(Draft202012Validator(schema, registry=self.registry).iter_errors(body), key=str)
        assert not errors, f"{method} {template} {status}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])
        self.checked.add((method, template, response.status_code))
        return body


    def check_media(self, method: str, template: str, response: Any) -> None:
        """A response that is not JSON (a file, a CSV, a 304): its status and media type are documented."""
        declared = self.doc["paths"][template][method.lower()]["responses"].get(str(response.status_code))
        assert declared is not None, f"{method} {template} answered {response.status_code}, not documented"
        if response.status_code == 304:
            assert "content" not in declared and response.get_data() == b"", (method, template)
        else:
            assert response.mimetype in declared["content"], (method, template, response.mimetype)
        for header in declared.get("headers", {}):
            assert header in response.headers, (method, template, response.status_code, header)
        self.checked.add((method, template, response.status_code))


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def test_the_contract_rejects_an_undocumented_field(env: Env) -> None:
    # additionalProperties / unevaluatedProperties false: a field added to a response must be documented.
    contract = Contract()
    response = env.app.response_class(json.dumps({"ok": True, "database": "ok", "queue": "ok", "extra": 1}),
                                      mimetype="application/json")
    with pytest.raises(AssertionError, match="extra"):
        contract.check("GET", "/healthz", response)


def test_real_responses_match_their_schemas(env: Env) -> None:
    contract = Contract()
    c, check = env.client, contract.check
    org, judge = {"Authorization": f"Bearer {env.organizer}"}, {"Authorization": f"Bearer {env.judge}"}
    env.competition("tiny", max_upload_mb=0.0005)  # 500 bytes: a tripled file is too large

    created = check("POST", "/api/v1/teams", c.post(
        "/api/v1/teams", json={"name": "팀 하나", "members": ["김민준"], "eligible": True}, headers=org))
    team = {"Authorization": f"Bearer {created['token']}"}
    other = env.team("two")
    check("GET", "/api/v1/competitions", c.get("/api/v1/competitions"))
    check("GET", "/api/v1/competitions/{slug}", c.get("/api/v1/competitions/tiny"))
    check("GET", "/healthz", c.get("/healthz"))
    _data_files(env, contract, team)

    # Errors: 400, 401, 403, 404, 413.
    check("GET", "/api/v1/competitions/{slug}/leaderboard", c.get("/api/v1/competitions/tiny/leaderboard?split=x"))
    check("POST", "/api/v1/competitions/{slug}/submissions", c.post(
        "/api/v1/competitions/tiny/submissions", data=b"x", headers={"Authorization": "Bearer nope"}))
    check("POST", "/api/v1/competitions/{slug}/freeze", c.post("/api/v1/competitions/tiny/freeze", headers=team))
    check("GET", "/api/v1/competitions/{slug}", c.get("/api/v1/competitions/nope"))
    check("GET", "/api/v1/submissions/{submission_id}", c.get("/api/v1/submissions/nope", headers=team))
    check("POST", "/api/v1/competitions/{slug}/submissions", env.upload(created["token"], tiny_predictions(0.5) * 3))

    # Submissions: 202, then scored and rejected ones, the list, the selection.
    first = check("POST", "/api/v1/competitions/{slug}/submissions", env.upload(created["token"], tiny_predictions(0.5)))
    rejected = check("POST", "/api/v1/competitions/{slug}/submissions", env.upload(created["token"], b"id,y\nT000,abc\n"))
    env.upload(other, tiny_predictions(0.3))
    waiting = check("GET", "/healthz", c.get("/healthz"))  # queued, and no worker alive: 503
    assert waiting["ok"] is False and waiting["workers"] == 0 and waiting["oldest_queued_seconds"] is not None
    env.work()
    scored = check("GET", "/api/v1/submissions/{submission_id}", c.get(f"/api/v1/submissions/{first['id']}", headers=team))
    assert scored["status"] == "scored" and "private_score" not in scored
    assert check("GET", "/api/v1/submissions/{submission_id}",
                 c.get(f"/api/v1/submissions/{rejected['id']}", headers=team))["problems"]
    in_korean = check("GET", "/api/v1/submissions/{submission_id}",
                      c.get(f"/api/v1/submissions/{rejected['id']}", headers={**team, "Accept-Language": "ko"}))
    assert "숫자가 아닙니다" in in_korean["problems"][0]["message"]
    empty = check("POST", "/api/v1/competitions/{slug}/submissions", c.post(
        "/api/v1/competitions/tiny/submissions", data=b"", headers={**team, "Content-Type": "text/csv"}))
    assert empty["error"] == "bad_request"
    listed = check("GET", "/api/v1/competitions/{slug}/submissions",
                   c.get("/api/v1/competitions/tiny/submissions", headers=org))
    assert all("private_score" in s for s in listed["submissions"])
    check("GET", "/api/v1/competitions/{slug}/selection", c.get("/api/v1/competitions/tiny/selection", headers=team))
    check("PUT", "/api/v1/competitions/{slug}/selection", c.put(
        "/api/v1/competitions/tiny/selection", json={"submission_ids": [first["id"]]}, headers=team))
    noted = check("POST", "/api/v1/competitions/{slug}/submissions", c.post(
        "/api/v1/competitions/tiny/submissions", data=tiny_predictions(0.2),
        headers={**team, "Content-Type": "text/csv", "X-Submission-Note": "%EB%A9%94%EB%AA%A8"}))
    assert noted["note"] == "메모"
    check("POST", "/api/v1/competitions/{slug}/submissions", env.upload(created["token"], tiny_predictions(0.1)))
    limited = check("POST", "/api/v1/competitions/{slug}/submissions",
                    env.upload(created["token"], tiny_predictions(0.1)))
    assert limited["error"] == "rate_limited" and limited["resets_at"]
    env.work()

    # Leaderboards: public; private for an organizer before the freeze, 403 for the public.
    public = check("GET", "/api/v1/competitions/{slug}/leaderboard", c.get("/api/v1/competitions/tiny/leaderboard"))
    assert public["entries"] and "last_submission_at" in public["entries"][0]
    check("GET", "/api/v1/competitions/{slug}/leaderboard",
          c.get("/api/v1/competitions/tiny/leaderboard?split=private", headers=org))
    check("GET", "/api/v1/competitions/{slug}/leaderboard", c.get("/api/v1/competitions/tiny/leaderboard?split=private"))
    check("POST", "/api/v1/competitions/{slug}/rescore",
          c.post("/api/v1/competitions/tiny/rescore", json={"all": True}, headers=org))

    # 409s, then the end: freeze, award, verification, eligibility, audit, publish.
    not_ended = check("POST", "/api/v1/competitions/{slug}/freeze", c.post("/api/v1/competitions/tiny/freeze", headers=org))
    assert not_ended["error"] == "not_ended" and not_ended["end_at"]
    env.advance(days=8)
    assert check("POST", "/api/v1/competitions/{slug}/submissions",
                 env.upload(created["token"], tiny_predictions(0.2)))["error"] == "closed"
    check("PUT", "/api/v1/competitions/{slug}/selection", c.put(
        "/api/v1/competitions/tiny/selection", json={"submission_ids": []}, headers=team))
    snapshot = check("POST", "/api/v1/competitions/{slug}/freeze", c.post("/api/v1/competitions/tiny/freeze", headers=org))
    assert snapshot["private_board"] and snapshot["published_at"] is None
    check("POST", "/api/v1/competitions/{slug}/rescore",
          c.post("/api/v1/competitions/tiny/rescore", json={"all": True}, headers=org))
    check("GET", "/api/v1/competitions/{slug}/award", c.get("/api/v1/competitions/tiny/award", headers=judge))
    check("PUT", "/api/v1/competitions/{slug}/teams/{team_id}/verification", c.put(
        f"/api/v1/competitions/tiny/teams/{created['id']}/verification", json={"state": "verified"}, headers=org))
    check("PUT", "/api/v1/competitions/{slug}/teams/{team_id}/verification", c.put(
        "/api/v1/competitions/tiny/teams/2/verification", json={"state": "disqualified", "reason": "copied"},
        headers=org))
    check("PUT", "/api/v1/teams/{team_id}/eligibility", c.put(
        f"/api/v1/teams/{created['id']}/eligibility", json={"eligible": False, "reason": "staff"}, headers=org))
    check("PUT", "/api/v1/teams/{team_id}/eligibility", c.put(
        f"/api/v1/teams/{created['id']}/eligibility", json={"eligible": True}, headers=org))
    audit = check("GET", "/api/v1/competitions/{slug}/audit", c.get("/api/v1/competitions/tiny/audit", headers=judge))
    assert audit["snapshot"]["sha256"] == snapshot["sha256"] and audit["action_log"]["entries"]
    contract.check_media("GET", "/api/v1/competitions/{slug}/audit",
                         env.get("/api/v1/competitions/tiny/audit?format=csv&table=log", env.organizer))
    contract.check_media("GET", "/api/v1/submissions/{submission_id}/file",
                         env.get(f"/api/v1/submissions/{first['id']}/file", created["token"]))
    published = check("POST", "/api/v1/competitions/{slug}/publish",
                      c.post("/api/v1/competitions/tiny/publish", headers=org))
    assert published["published_at"]
    check("POST", "/api/v1/competitions/{slug}/publish", c.post("/api/v1/competitions/tiny/publish", headers=org))
    private = check("GET", "/api/v1/competitions/{slug}/leaderboard",
                    c.get("/api/v1/competitions/tiny/leaderboard?split=private"))
    assert private["published"] and "move" in private["entries"][0]
    award = check("GET", "/api/v1/competitions/{slug}/award", c.get("/api/v1/competitions/tiny/award", headers=org))
    assert award["standings"] and award["disqualified"][0]["reason"] == "copied"
    check("GET", "/api/v1/openapi.json", c.get("/api/v1/openapi.json"))
    _team_tokens(env, contract, team, other)
    # Last (it throttles this address): failed authentications end in 429 with Retry-After.
    for _ in range(30):
        refused = c.get("/api/v1/competitions/tiny/submissions", headers={"Authorization": "Bearer lgh_wrong"})
        if refused.status_code == 429:
            break
    throttled = check("GET", "/api/v1/competitions/{slug}/submissions", refused)
    assert throttled["error"] == "too_many_failed_authentications"
    assert int(refused.headers["Retry-After"]) == throttled["retry_after"] > 0

    sub, board, comp = "/api/v1/competitions/{slug}/submissions", "/api/v1/competitions/{slug}/leaderboard", \
        "/api/v1/competitions/{slug}"
    data, data_file, token = comp + "/data", comp + "/data/{name}", "/api/v1/teams/{team_id}/token"
    expected = {
        ("GET", "/api/v1/competitions", 200), ("GET", comp, 200), ("GET", comp, 404), ("POST", "/api/v1/teams", 201),
        ("POST", sub, 202), ("POST", sub, 401), ("POST", sub, 409), ("POST", sub, 413), ("POST", sub, 429),
        ("GET", sub, 200), ("GET", "/api/v1/submissions/{submission_id}", 200),
        ("GET", "/api/v1/submissions/{submission_id}", 404), ("GET", board, 200), ("GET", board, 400),
        ("GET", board, 403), ("GET", comp + "/selection", 200), ("PUT", comp + "/selection", 200),
        ("PUT", comp + "/selection", 409), ("POST", comp + "/freeze", 200), ("POST", comp + "/freeze", 403),
        ("POST", comp + "/freeze", 409), ("POST", comp + "/publish", 200), ("POST", comp + "/publish", 409),
        ("POST", comp + "/rescore", 200), ("POST", comp + "/rescore", 409), ("GET", comp + "/award", 200),
        ("GET", comp + "/audit", 200), ("PUT", comp + "/teams/{team_id}/verification", 200),
        ("PUT", "/api/v1/teams/{team_id}/eligibility", 200), ("GET", "/healthz", 200),
        ("GET", data, 200), ("GET", data, 404), ("POST", data, 201), ("POST", data, 400), ("POST", data, 403),
        ("POST", data, 409), ("GET", data_file, 200), ("GET", data_file, 206), ("GET", data_file, 304),
        ("GET", data_file, 404), ("GET", data_file, 416), ("GET", "/api/v1/teams", 200),
        ("GET", "/api/v1/teams", 403), ("POST", token, 201), ("POST", token, 403), ("POST", token, 404),
        ("DELETE", token, 200), ("DELETE", token, 401), ("DELETE", token, 404), ("GET", sub, 401),
        ("GET", "/healthz", 503), ("POST", sub, 400), ("GET", sub, 429),
    }
    assert expected - contract.checked == set()


DATA, DATA_FILE = "/api/v1/competitions/{slug}/data", "/api/v1/competitions/{slug}/data/{name}"
TOKEN = "/api/v1/teams/{team_id}/token"


def _data_files(env: Env, contract: Contract, team: dict[str, str]) -> None:
    """Data files: attach (201, 400 leak, 403, 409 replacement), list, download (200, 206, 304, 404, 416)."""
    c, check = env.client, contract.check
    org = {"Authorization": f"Bearer {env.organizer}"}
    test_csv = ("id,x\n" + "".join(f"T{i:03d},{i}\n" for i in range(N_ROWS))).encode()
    sample = ("id,y\n" + "".join(f"T{i:03d},0\n" for i in range(N_ROWS))).encode()

    def attach(headers: dict[str, str], *files: tuple[str, bytes]) -> Any:
        return c.post("/api/v1/competitions/tiny/data", headers=headers, content_type="multipart/form-data",
                      data={"file": [(io.BytesIO(content), name) for name, content in files]})

    assert check("GET", DATA, c.get("/api/v1/competitions/tiny/data"))["files"] == []
    check("GET", DATA, c.get("/api/v1/competitions/nope/data"))
    attached = check("POST", DATA, attach(org, ("test.csv", test_csv), ("sample_submission.csv", sample)))
    assert [f["name"] for f in attached["files"]] == ["test.csv", "sample_submission.csv"]
    assert check("POST", DATA, attach(team, ("x.csv", b"id,x\nR1,1\n")))["error"] == "forbidden"
    assert check("POST", DATA, attach(org, ("answers.csv", tiny_labels().encode())))["error"] == "data_leaks_labels"
    assert check("POST", DATA, attach(org, ("test.csv", b"id,x\nT000,9\n")))["error"] == "conflict"
    listed = check("GET", DATA, c.get("/api/v1/competitions/tiny/data"))
    assert [f["name"] for f in listed["files"]] == ["sample_submission.csv", "test.csv"]

    url = "/api/v1/competitions/tiny/data/test.csv"
    whole = c.get(url)
    contract.check_media("GET", DATA_FILE, whole)
    assert whole.data == test_csv and whole.headers["ETag"] == f'"{attached["files"][0]["sha256"]}"'
    assert whole.headers["X-Content-SHA256"] == attached["files"][0]["sha256"]
    assert whole.headers["Content-Disposition"] == "attachment; filename=test.csv"
    whole.close()
    part = c.get(url, headers={"Range": "bytes=0-9"})
    contract.check_media("GET", DATA_FILE, part)
    assert part.data == test_csv[:10]
    part.close()
    fresh = c.get(url, headers={"If-None-Match": whole.headers["ETag"]})
    contract.check_media("GET", DATA_FILE, fresh)
    fresh.close()
    beyond = check("GET", DATA_FILE, c.get(url, headers={"Range": f"bytes={len(test_csv) + 10}-"}))
    assert beyond["error"] == "requested_range_not_satisfiable"
    missing = check("GET", DATA_FILE, c.get("/api/v1/competitions/tiny/data/labels.csv"))
    assert "test.csv" in missing["message"]


def _team_tokens(env: Env, contract: Contract, team: dict[str, str], other_token: str) -> None:
    """The team list (200, 403), reissue (201, 403, 404), revoke (200, 404), and the old token's 401."""
    c, check = env.client, contract.check
    org = {"Authorization": f"Bearer {env.organizer}"}
    teams = check("GET", "/api/v1/teams", c.get("/api/v1/teams", headers=org))["teams"]
    assert all(t["token_active"] for t in teams)
    check("GET", "/api/v1/teams", c.get("/api/v1/teams", headers=team))
    other_id = next(t["id"] for t in teams if t["name"] == "two")
    url = f"/api/v1/teams/{other_id}/token"
    check("POST", TOKEN, c.post(url, headers=team))
    check("POST", TOKEN, c.post("/api/v1/teams/abc/token", headers=org))
    check("DELETE", TOKEN, c.delete("/api/v1/teams/999999/token", headers=org))
    reissued = c.post(url, headers=org)
    assert reissued.headers["Cache-Control"] == "no-store"
    new_token = check("POST", TOKEN, reissued)["token"]
    refused = check("GET", "/api/v1/competitions/{slug}/submissions",
                    c.get("/api/v1/competitions/tiny/submissions", headers={"Authorization": f"Bearer {other_token}"}))
    assert "ask the organizers for a new team token" in refused["message"]
    assert check("DELETE", TOKEN, c.delete(url, headers=org))["revoked"] == 1
    check("DELETE", TOKEN, c.delete(url, headers={"Authorization": f"Bearer {new_token}"}))
    teams = check("GET", "/api/v1/teams", c.get("/api/v1/teams", headers=org))["teams"]
    assert next(t for t in teams if t["id"] == other_id)["token_active"] is False



def _walk(node: Any, pointer: str = "") -> Any:
    """Yield (JSON pointer of the parent, key, value) for every mapping entry of the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield pointer, key, value
            yield from _walk(value, f"{pointer}/{_escape(str(key))}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{i}")


def test_every_example_matches_its_schema_and_no_key_is_a_stray() -> None:
    contract = Contract()
    checked = 0
    for pointer, key, value in _walk(contract.doc):
        # A comma in an unquoted YAML flow value starts a stray key with no value.
        if value is None and "/example" not in pointer and "/enum" not in pointer:
            pytest.fail(f"{pointer}: key {key!r} has no value (quote a text that has a comma)")
        if key == "application/json" and isinstance(value, dict) and "example" in value and "/responses/" in pointer:
            schema = {"$ref": f"{DOC_URI}#{pointer}/{_escape(key)}/schema"}
            errors = list(Draft202012Validator(schema, registry=contract.registry).iter_errors(value["example"]))
            assert not errors, f"{pointer} example: {errors[0].message}"
            checked += 1
    assert checked >= 10
