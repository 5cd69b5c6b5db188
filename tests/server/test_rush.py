"""The deadline rush against a real `hackathon serve` (issue 10), on SQLite and PostgreSQL.

Incomplete uploads, hostile input, long notes, in-flight uploads at the freeze, failed
authentications, slow clients. (Supervision of workers and Valkey: test_supervision.py.)
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import _fresh_postgres_database
from tests.server.conftest import tiny_predictions
from tests.server.served import Served, start_served


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(f"served-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'hackathon.db'}"
    else:
        url = _fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
    server = start_served(tmp, url)
    try:
        yield server
    finally:
        server.stop()


def _upload_head(slug: str, token: str, length: int | None, content_type: str = "text/csv",
                 query: str = "") -> bytes:
    lines = [f"POST /api/v1/competitions/{slug}/submissions{query} HTTP/1.1", "Host: 127.0.0.1",
             f"Authorization: Bearer {token}", f"Content-Type: {content_type}", "Connection: close"]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _abandon(served: Served, data: bytes) -> None:
    """Send part of a request and close the connection without reading the answer."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
        s.sendall(data)
        time.sleep(0.05)


def _temporary_files(served: Served) -> list[Path]:
    return list((served.home / "tmp").glob("*"))


# -- item 2: an incomplete body stores nothing, counts nothing, leaves no temporary file ----------

def test_abandoned_uploads_store_nothing_and_count_nothing(served: Served) -> None:
    slug, token = served.competition(), served.team()
    body = tiny_predictions(0.5)
    boundary = "XyZ"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
    for _ in range(10):  # more than daily_limit (3) × 3, the invalid-file guard
        _abandon(served, _upload_head(slug, token, len(body) + 5000) + body)
    _abandon(served, _upload_head(slug, token, None) + f"{len(body):x}\r\n".encode() + body[:10])
    _abandon(served, _upload_head(slug, token, len(form), f"multipart/form-data; boundary={boundary}")
             + form[: len(form) // 2])
    reply = served.request("POST", f"/api/v1/competitions/{slug}/submissions", token=token, body=body,
                           headers={"Content-Type": "text/csv"})
    assert reply.status == 202, reply.body
    assert reply.json()["remaining_today"] == 2
    assert served.wait_scored(reply.json()["id"])["status"] == "scored"
    assert served.statuses(slug) == ["scored"]
    assert _temporary_files(served) == []


def test_an_upload_cut_short_is_answered_400_saying_so(served: Served) -> None:
    slug, token = served.competition(), served.team()
    body = tiny_predictions(0.5)
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
        s.sendall(_upload_head(slug, token, len(body) + 100) + body)
        s.shutdown(socket.SHUT_WR)  # the client stops sending but still reads
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"incomplete" in payload and b"application/json" in head
    assert served.statuses(slug) == []


# -- item 5: no 5xx on any input, on both databases ---------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/v1/competitions/acl%00", "/api/v1/competitions/acl%00/leaderboard", "/competitions/acl%00",
    "/api/v1/competitions/acl?x=%00", "/api/v1/submissions/ab%00cd",
])
def test_nul_bytes_in_urls_are_refused_not_500(served: Served, path: str) -> None:
    reply = served.request("GET", path, token=served.organizer if "submissions" in path else None)
    assert reply.status in (400, 404), (reply.status, reply.body[:300])


def test_out_of_range_integers_and_nul_values_are_refused_not_500(served: Served) -> None:
    slug = served.competition()
    big = "1" * 23
    for method, path, body in [
        ("PUT", f"/api/v1/teams/{big}/eligibility", b'{"eligible": false}'),
        ("PUT", f"/api/v1/competitions/{slug}/teams/{big}/verification", b'{"state": "verified"}'),
        ("PUT", f"/api/v1/teams/{2**63}/eligibility", b'{"eligible": false}'),
        ("POST", "/api/v1/teams", b'{"name": "a\\u0000b"}'),
    ]:
        reply = served.request(method, path, token=served.organizer, body=body,
                               headers={"Content-Type": "application/json"})
        assert reply.status in (400, 404), (path, reply.status, reply.body[:300])
        assert reply.json()["message"]
    token = served.team()
    reply = served.request("POST", f"/api/v1/competitions/{slug}/submissions?note=a%00b&filename=x%00.csv",
                           token=token, body=tiny_predictions(0.5), headers={"Content-Type": "text/csv"})
    assert reply.status in (202, 400), (reply.status, reply.body[:300])


def test_a_nul_in_a_csv_column_name_is_rejected_not_failed(served: Served) -> None:
    slug, token = served.competition(), served.team()
    body = tiny_predictions(0.5).replace(b"id,y", b"id,y\x00z", 1)
    reply = served.request("POST", f"/api/v1/competitions/{slug}/submissions", token=token, body=body,
                           headers={"Content-Type": "text/csv"})
    assert reply.status == 202, reply.body
    done = served.wait_scored(reply.json()["id"])
    assert done["status"] == "rejected" and done["attempts"] == 1, done


def test_invalid_chunked_encoding_is_a_json_400(served: Served) -> None:
    slug, token = served.competition(), served.team()
    answer = served.raw(_upload_head(slug, token, None) + b"zz\r\nid,y\r\n0\r\n\r\n")
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"application/json" in head and b"chunked" in payload
    assert served.statuses(slug) == []


# -- item 6: 1,000-character notes; the HTTP server's own errors are JSON under /api/ ------------

def test_submit_with_a_note_of_1000_korean_characters(served: Served, tmp_path: Path) -> None:
    import json
    import subprocess

    from tests.server.served import HACKATHON

    slug, token = served.competition(), served.team()
    pred = tmp_path / "pred.csv"
    pred.write_bytes(tiny_predictions(0.5))
    note = "한" * 1000
    result = subprocess.run([*HACKATHON, "submit", "--server", served.url, "--token", token, "--competition", slug,
                             "--note", note, str(pred), "--json"], env=served.env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-1000:]
    sub = json.loads(result.stdout)
    assert sub["note"] == note
    # The raw-body API takes it in a header too (percent-encoded UTF-8), and multipart in a field.
    from urllib.parse import quote

    reply = served.request("POST", f"/api/v1/competitions/{slug}/submissions", token=token, body=tiny_predictions(0.4),
                           headers={"Content-Type": "text/csv", "X-Submission-Note": quote("노트 " * 300)})
    assert reply.status == 202 and reply.json()["note"] == ("노트 " * 300)[:1000], reply.body[:300]


@pytest.mark.parametrize("what", ["line", "header", "garbage"])
def test_errors_before_the_app_are_json_under_api(served: Served, what: str) -> None:
    if what == "line":
        request = f"GET /api/v1/competitions/x?q={'a' * 20000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        expected = b"414"
    elif what == "header":
        request = f"GET /api/v1/competitions HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 40000}\r\n\r\n".encode()
        expected = b"431"
    else:
        request = b"GET /api/v1/competitions HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"
        expected = b"400"
    answer = served.raw(request)
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == expected, answer[:300]
    assert b"application/json" in head, head
    import json

    body = json.loads(payload)
    assert body["error"] and body["message"]


# -- item 3: a freeze waits for uploads received before end_at, then includes them ---------------

def test_a_freeze_waits_for_an_upload_that_began_before_the_end(served: Served) -> None:
    import threading
    from datetime import timedelta

    from tests.server.served import Reply, now_utc

    end = now_utc() + timedelta(seconds=5)
    slug, token = served.competition(end=end.isoformat()), served.team()
    body = tiny_predictions(0.5)
    frozen: list[Reply] = []
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as s:
        s.sendall(_upload_head(slug, token, len(body)) + body[:40])  # received before the end
        while now_utc() < end + timedelta(seconds=0.3):
            time.sleep(0.05)
        freezer = threading.Thread(target=lambda: frozen.append(
            served.request("POST", f"/api/v1/competitions/{slug}/freeze", token=served.organizer, timeout=60)))
        freezer.start()
        time.sleep(1.5)  # the organizer froze while the rest of the file was still on its way
        s.sendall(body[40:])
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    freezer.join(60)
    assert answer.startswith(b"HTTP/1.1 202"), answer[:400]
    received = json.loads(answer.partition(b"\r\n\r\n")[2])["received_at"]
    assert datetime.fromisoformat(received.replace("Z", "+00:00")) < end
    reply = frozen[0]
    if reply.status == 409:  # waited for the upload, then refused while it is being scored
        assert reply.json()["error"] == "scoring_pending", reply.body
        served.wait_scored(served.request("GET", f"/api/v1/competitions/{slug}/submissions",
                                          token=served.organizer).json()["submissions"][0]["id"])
        reply = served.request("POST", f"/api/v1/competitions/{slug}/freeze", token=served.organizer)
    assert reply.status == 200, reply.body
    assert reply.json()["submissions"] == 1


def test_a_freeze_is_refused_naming_uploads_still_arriving_past_its_wait(served: Served) -> None:
    from datetime import timedelta

    from server.services.freeze import freeze
    from tests.server.served import now_utc

    end = now_utc() + timedelta(seconds=4)
    slug, token = served.competition(end=end.isoformat()), served.team()
    body = tiny_predictions(0.5)
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as s:
        s.sendall(_upload_head(slug, token, len(body)) + body[:40])
        while now_utc() < end + timedelta(seconds=0.2):
            time.sleep(0.05)
        served.rt.config["FREEZE_WAIT"] = 1
        from server.errors import Conflict

        with pytest.raises(Conflict) as refused:
            freeze(served.rt, slug, "test")
        assert refused.value.code == "uploads_arriving" and "still arriving" in refused.value.message
        assert refused.value.extra["arriving"][0]["bytes"] >= 0


# -- item 7: failed authentications per address are limited; valid tokens are not slowed ---------

def test_failed_authentications_are_throttled_per_address_but_valid_tokens_pass(served: Served) -> None:
    from server.services.auth_throttle import FAILURES_ALLOWED

    slug, token = served.competition(), served.team()
    statuses = []
    for i in range(FAILURES_ALLOWED + 10):
        reply = served.request("GET", f"/api/v1/competitions/{slug}/submissions", token=f"lgh_wrong{i}")
        statuses.append(reply.status)
        if reply.status == 429:
            assert int(reply.headers["Retry-After"]) >= 1
            assert reply.json()["error"] == "too_many_failed_authentications"
        # A team behind the same address is never slowed.
        assert served.request("GET", f"/api/v1/competitions/{slug}/submissions", token=token).status == 200
    assert statuses[:FAILURES_ALLOWED] == [401] * FAILURES_ALLOWED
    assert statuses[FAILURES_ALLOWED:] == [429] * 10
    served.rt.redis.delete("hackathon:scoring:authfail:127.0.0.1")  # leave the address clean for other tests


# -- item 1: slow clients do not block anyone else -----------------------------------------------

def test_fifty_slow_connections_leave_other_requests_answering(served: Served) -> None:
    import threading

    slug, token = served.competition(), served.team()
    body = tiny_predictions(0.5)
    stop = threading.Event()
    sockets: list[socket.socket] = []
    head_only = (f"GET /api/v1/competitions/{slug} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").encode()
    slow_body = _upload_head(slug, served.team(), 100_000)
    for i in range(50):  # half of them stop inside their headers, half inside a body
        s = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        s.sendall(head_only if i % 2 else slow_body + b"id,y\n")
        sockets.append(s)

    def trickle() -> None:
        while not stop.wait(1.0):
            for s in sockets:
                try:
                    s.sendall(b"a" if sockets.index(s) % 2 else b"T000,1.0\n")
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    upload_answer: list[bytes] = []

    def slow_team_upload() -> None:  # a team on a slow link: its upload still completes
        with socket.create_connection(("127.0.0.1", served.port), timeout=30) as s:
            s.sendall(_upload_head(slug, token, len(body)))
            for start in range(0, len(body), 64):
                s.sendall(body[start:start + 64])
                time.sleep(0.1)
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
            upload_answer.append(answer)

    uploader = threading.Thread(target=slow_team_upload)
    uploader.start()
    try:
        time.sleep(1.5)
        for path in ("/healthz", f"/api/v1/competitions/{slug}", f"/competitions/{slug}", "/"):
            reply = served.request("GET", path, timeout=5)  # blocked today: no thread left to answer
            assert reply.status == 200, (path, reply.status)
        reply = served.request("POST", f"/api/v1/competitions/{slug}/submissions", token=served.team(),
                               body=body, headers={"Content-Type": "text/csv"}, timeout=5)
        assert reply.status == 202
        uploader.join(60)
        assert upload_answer and upload_answer[0].startswith(b"HTTP/1.1 202"), upload_answer[:1]
    finally:
        stop.set()
        trickler.join(5)
        for s in sockets:
            s.close()
