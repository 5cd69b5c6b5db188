"""S3-compatible storage (HACKATHON_STORAGE_URL) against moto's real HTTP endpoint: no shared folder."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server import create_app
from server.errors import ConfigError, PayloadTooLarge
from server.object_storage import S3Storage
from server.services.verify import verify
from tests.server.conftest import Env, tiny_labels, tiny_predictions
from tests.server.s3_server import CREDENTIALS, S3Endpoint, s3_endpoint  # noqa: F401  (fixture)


@pytest.fixture
def s3_env(make_env: Any, s3_endpoint: S3Endpoint, tmp_path: Path) -> tuple[Env, dict[str, str]]:  # noqa: F811
    files, labels = s3_endpoint.new_bucket("files"), s3_endpoint.new_bucket("labels")
    storage = {"STORAGE_URL": f"s3://{files}/inst", "LABELS_STORAGE_URL": f"s3://{labels}/hidden",
               "S3_ENDPOINT_URL": s3_endpoint.url}
    env = make_env(HOME=tmp_path / "web", **storage)
    return env, {**storage, "files_bucket": files, "labels_bucket": labels}


def _worker_burst(env: Env, home: Path, storage: dict[str, str]) -> None:
    """A real `hackathon worker --burst` process with its own, empty instance folder."""
    process_env = {k: v for k, v in os.environ.items() if not k.startswith("HACKATHON_")}
    process_env.update(CREDENTIALS)
    process_env.update(HACKATHON_HOME=str(home), DATABASE_URL=env.rt.config["DATABASE_URL"],
                       REDIS_URL=env.rt.config["REDIS_URL"], HACKATHON_QUEUE_NAME=env.rt.config["QUEUE_NAME"],
                       HACKATHON_STORAGE_URL=storage["STORAGE_URL"],
                       HACKATHON_LABELS_STORAGE_URL=storage["LABELS_STORAGE_URL"],
                       HACKATHON_S3_ENDPOINT_URL=storage["S3_ENDPOINT_URL"], HACKATHON_LOG_FORMAT="text")
    result = subprocess.run([sys.executable, "-m", "server", "worker", "--burst"], env=process_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


def test_upload_scored_by_a_worker_with_no_shared_folder_then_download_and_verify(
        s3_env: tuple[Env, dict[str, str]], s3_endpoint: S3Endpoint, tmp_path: Path) -> None:  # noqa: F811
    env, storage = s3_env
    env.competition()
    team = env.team("Alpha")
    good, bad = tiny_predictions(0.5, private_offset=0.25), b"id,y\nT000,abc\n"
    ids = [env.upload(team, good).get_json()["id"], env.upload(team, bad).get_json()["id"],
           env.upload(team, good).get_json()["id"]]  # same bytes: stored once

    labels_sha = hashlib.sha256(tiny_labels().encode()).hexdigest()
    good_sha, bad_sha = hashlib.sha256(good).hexdigest(), hashlib.sha256(bad).hexdigest()
    assert s3_endpoint.keys(storage["labels_bucket"]) == [f"hidden/{labels_sha}.csv"]
    assert s3_endpoint.keys(storage["files_bucket"]) == sorted(
        [f"inst/files/{good_sha[:2]}/{good_sha}", f"inst/files/{bad_sha[:2]}/{bad_sha}"])
    web_home = env.rt.home
    assert not (web_home / "files").exists() and not (web_home / "labels").exists()

    worker_home = tmp_path / "worker"
    _worker_burst(env, worker_home, storage)
    statuses = [env.get(f"/api/v1/submissions/{i}", env.organizer).get_json() for i in ids]
    assert [s["status"] for s in statuses] == ["scored", "rejected", "scored"]
    assert statuses[0]["public_score"] == 0.5 and statuses[0]["private_score"] == 0.25
    # The worker read labels and files from the bucket into its cache; it has no instance folders.
    assert (worker_home / "cache" / "labels" / f"{labels_sha}.csv").read_text() == tiny_labels()
    assert not (worker_home / "files").exists() and not (worker_home / "labels").exists()

    # A team downloads its file through the server (from a fresh web process: nothing cached).
    other_web = create_app({**env.rt.config, "HOME": tmp_path / "web2"})
    try:
        response = other_web.test_client().get(f"/api/v1/submissions/{ids[0]}/file",
                                               headers={"Authorization": f"Bearer {team}"})
        assert response.status_code == 200 and response.data == good
        response.close()
    finally:
        other_web.extensions["hackathon"].dispose()

    # The judges' verify re-scores every file from the bucket, on yet another machine.
    env.advance(days=8)
    assert env.client.post("/api/v1/competitions/tiny/freeze",
                           headers={"Authorization": f"Bearer {env.organizer}"}).status_code == 200
    judge_app = create_app({**env.rt.config, "HOME": tmp_path / "judge"})
    try:
        report = verify(judge_app.extensions["hackathon"], "tiny")
        assert report.ok, report.to_dict()
    finally:
        judge_app.extensions["hackathon"].dispose()


def test_data_files_live_in_the_bucket_and_download_through_the_server(
        s3_env: tuple[Env, dict[str, str]], s3_endpoint: S3Endpoint, tmp_path: Path) -> None:  # noqa: F811
    env, storage = s3_env
    env.competition()
    body = b"id,x\n" + b"".join(b"T%03d,%d\n" % (i, i) for i in range(20))
    response = env.client.post("/api/v1/competitions/tiny/data", headers={"Authorization": f"Bearer {env.organizer}"},
                               data={"file": (io.BytesIO(body), "test.csv")}, content_type="multipart/form-data")
    assert response.status_code in (200, 201), response.get_json()
    sha = hashlib.sha256(body).hexdigest()
    assert f"inst/data/{sha[:2]}/{sha}" in s3_endpoint.keys(storage["files_bucket"])
    fresh = create_app({**env.rt.config, "HOME": tmp_path / "web3"})
    try:
        got = fresh.test_client().get("/api/v1/competitions/tiny/data/test.csv")
        assert got.status_code == 200 and got.data == body and got.headers["ETag"].strip('"') == sha
        got.close()
    finally:
        fresh.extensions["hackathon"].dispose()


def test_a_large_upload_is_streamed_in_parts_and_refused_past_the_limit(
        s3_endpoint: S3Endpoint, tmp_path: Path) -> None:  # noqa: F811
    bucket = s3_endpoint.new_bucket()
    store = S3Storage(tmp_path / "a", f"s3://{bucket}/p", endpoint_url=s3_endpoint.url, cache_mb=1)
    payload = os.urandom(1 << 20) * 12  # 12 MB: above boto3's 8 MB multipart threshold
    saved = store.save_stream(io.BytesIO(payload), max_bytes=20_000_000)
    assert saved.sha256 == hashlib.sha256(payload).hexdigest() and saved.bytes == len(payload)
    head = s3_endpoint.client().head_object(Bucket=bucket, Key=f"p/files/{saved.sha256[:2]}/{saved.sha256}")
    assert head["ContentLength"] == len(payload) and "-" in head["ETag"]  # a multipart upload's ETag
    reader = S3Storage(tmp_path / "b", f"s3://{bucket}/p", endpoint_url=s3_endpoint.url)
    assert reader.submission_path(saved.sha256).read_bytes() == payload
    with pytest.raises(PayloadTooLarge, match="limit"):
        store.save_stream(io.BytesIO(payload), max_bytes=5_000_000)
    assert list((tmp_path / "a" / "tmp").iterdir()) == []  # the spooled part is gone
    with pytest.raises(FileNotFoundError, match="not in the bucket"):
        reader.submission_path("0" * 64)


def test_a_bad_storage_url_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="STORAGE_URL from application config must be s3://bucket/prefix"):
        create_app({"HOME": tmp_path, "STORAGE_URL": "/srv/files"})
    with pytest.raises(ConfigError, match="LABELS_STORAGE_URL .* needs STORAGE_URL"):
        create_app({"HOME": tmp_path, "LABELS_STORAGE_URL": "s3://b/p"})
