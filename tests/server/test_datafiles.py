"""Competition data files: attached at creation (CLI --data) or later (API), listed, downloaded with ETag;
never the hidden labels (issue 8)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from server.cli import cli, register_commands
from server.models import ActionLogEntry, Competition, DataFile
from tests.server.conftest import N_ROWS, TINY_TASK, Env, tiny_labels

register_commands()


def _run(env: Env, *args: str) -> tuple[int, str]:
    result = env.app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _task(env: Env) -> tuple[Path, Path, Path]:
    """A task folder, its hidden labels, and a data folder with train, test and sample submission."""
    folder = env.tmp / "data-task"
    folder.mkdir(exist_ok=True)
    (folder / "task.toml").write_text(TINY_TASK, encoding="utf-8")
    (folder / "labels.csv").write_text(tiny_labels(), encoding="utf-8")
    data = env.tmp / "data-files"
    if data.exists():  # written once: a test may have changed a file on purpose
        return folder, folder / "labels.csv", data
    data.mkdir()
    (data / "train.csv").write_text("id,x,y\n" + "".join(f"R{i:03d},{i},{i * 2.5}\n" for i in range(50)))
    (data / "test.csv").write_text("id,x\n" + "".join(f"T{i:03d},{i}\n" for i in range(N_ROWS)))
    (data / "sample_submission.csv").write_text("id,y\n" + "".join(f"T{i:03d},0\n" for i in range(N_ROWS)))
    return folder, folder / "labels.csv", data


def _create(env: Env, *data: Path, slug: str = "with-data") -> tuple[int, str]:
    folder, labels, _ = _task(env)
    args = ["competition", "create", "--task", str(folder), "--labels", str(labels), "--slug", slug, "--json"]
    for path in data:
        args += ["--data", str(path)]
    return _run(env, *args)


def _stored_data(env: Env) -> list[Path]:
    return [p for p in (env.rt.home / "data").rglob("*") if p.is_file()] if (env.rt.home / "data").exists() else []


def test_create_with_data_folder_lists_and_downloads_the_exact_bytes(env: Env) -> None:
    _, _, data = _task(env)
    code, out = _create(env, data)
    assert code == 0, out
    assert [f["name"] for f in json.loads(out)["data"]] == ["sample_submission.csv", "test.csv", "train.csv"]

    listing = env.get("/api/v1/competitions/with-data/data")
    assert listing.status_code == 200
    files = {f["name"]: f for f in listing.get_json()["files"]}
    assert set(files) == {"train.csv", "test.csv", "sample_submission.csv"}
    for name, entry in files.items():
        raw = (data / name).read_bytes()
        assert entry["bytes"] == len(raw) and entry["sha256"] == hashlib.sha256(raw).hexdigest()
        assert entry["url"] == f"/api/v1/competitions/with-data/data/{name}"
        response = env.get(entry["url"])
        assert response.status_code == 200 and response.data == raw
        assert response.headers["ETag"] == f'"{entry["sha256"]}"'  # strong: no W/
        assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
        assert response.mimetype == "text/csv"
    with env.rt.session() as session:
        entry = session.execute(sa.select(ActionLogEntry).where(ActionLogEntry.action == "competition.data.attach")).scalar_one()
    assert entry.actor == "cli" and {f["name"] for f in json.loads(entry.payload)["files"]} == set(files)


def test_download_answers_304_to_a_matching_etag_and_404_json_to_an_unknown_name(env: Env) -> None:
    _, _, data = _task(env)
    assert _create(env, data / "train.csv", data / "test.csv")[0] == 0
    url = "/api/v1/competitions/with-data/data/train.csv"
    etag = env.get(url).headers["ETag"]
    response = env.client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    response.close()
    stale = env.client.get(url, headers={"If-None-Match": '"' + "0" * 64 + '"'})
    assert stale.status_code == 200 and stale.data == (data / "train.csv").read_bytes()
    stale.close()
    missing = env.get("/api/v1/competitions/with-data/data/labels.csv")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert "train.csv" in missing.get_json()["message"]  # it names the files there are
    assert env.get("/api/v1/competitions/nope/data").status_code == 404


def test_the_labels_file_is_refused_and_nothing_is_created(env: Env) -> None:
    _, labels, data = _task(env)
    (data / "answers.csv").write_bytes(labels.read_bytes())
    code, out = _create(env, data)
    assert code == 2 and "answers.csv is the hidden labels file" in json.loads(out)["message"]
    with env.rt.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Competition)).scalar_one() == 0
        assert session.execute(sa.select(sa.func.count()).select_from(DataFile)).scalar_one() == 0
    assert _stored_data(env) == []


def test_the_labels_with_other_line_endings_and_a_bom_are_refused(env: Env) -> None:
    _, labels, data = _task(env)
    text = labels.read_text().replace("\n", "  \r\n")
    (data / "copy.csv").write_bytes(b"\xef\xbb\xbf\r\n" + text.encode() + b"\r\n\r\n")
    code, out = _create(env, data / "copy.csv")
    assert code == 2 and "same content as the hidden labels" in json.loads(out)["message"]


def test_a_test_file_with_the_target_column_is_refused(env: Env) -> None:
    _, _, data = _task(env)
    leaky = data / "test.csv"
    leaky.write_text("id,x,y\n" + "".join(f"T{i:03d},{i},{i * 1.5:.1f}\n" for i in range(N_ROWS)))
    code, out = _create(env, data)
    message = json.loads(out)["message"]
    assert code == 2 and "test.csv holds the target column y for rows of the hidden test set" in message
    assert _stored_data(env) == []
    # Gzip does not hide it.
    with gzip.open(data / "test.csv.gz", "wb") as fh:
        fh.write(leaky.read_bytes())
    code, out = _create(env, data / "test.csv.gz")
    assert code == 2 and "test.csv.gz holds the target column y" in json.loads(out)["message"]


def test_a_sample_submission_with_a_constant_placeholder_is_accepted(env: Env) -> None:
    _, _, data = _task(env)
    (data / "sample.csv").write_text("id,y\n" + "".join(f"T{i:03d},0.5\n" for i in range(N_ROWS)))
    code, out = _create(env, data / "sample.csv")
    assert code == 0, out


def test_bad_data_arguments_are_explained(env: Env) -> None:
    _, _, data = _task(env)
    empty = env.tmp / "empty"
    empty.mkdir()
    code, out = _create(env, empty)
    assert code == 2 and "has no files" in json.loads(out)["message"]
    other = env.tmp / "other"
    other.mkdir()
    (other / "train.csv").write_text("id,x\nR1,1\n")
    code, out = _create(env, data, other / "train.csv")
    assert code == 2 and "two data files are named train.csv" in json.loads(out)["message"]
    (other / "broken.csv.gz").write_bytes(b"\x1f\x8b" + b"not gzip at all")
    code, out = _create(env, other / "broken.csv.gz")
    assert code == 2 and "broken.csv.gz cannot be read" in json.loads(out)["message"]
    (other / "spaced name.csv").write_text("id,x\nR1,1\n")
    code, out = _create(env, other / "spaced name.csv")
    assert code == 2 and "data file name must be" in json.loads(out)["message"]


def test_a_binary_file_is_stored_as_it_is(env: Env) -> None:
    images = env.tmp / "images.zip"
    images.write_bytes(bytes(range(256)) * 40)
    assert _create(env, images)[0] == 0
    response = env.get("/api/v1/competitions/with-data/data/images.zip")
    assert response.data == images.read_bytes() and response.mimetype == "application/zip"


def test_organizers_attach_more_files_through_the_api(env: Env) -> None:
    _, _, data = _task(env)
    assert _create(env, data / "train.csv")[0] == 0
    team = env.team("Attachers")
    url = "/api/v1/competitions/with-data/data"

    def post(token: str, name: str, content: bytes) -> Any:
        response = env.client.post(url, headers={"Authorization": f"Bearer {token}"},
                                   data={"file": (io.BytesIO(content), name)},
                                   content_type="multipart/form-data")
        response.close()
        return response

    assert post(team, "extra.csv", b"id,x\nR1,1\n").status_code == 403
    ok = post(env.organizer, "test.csv", (data / "test.csv").read_bytes())
    assert ok.status_code == 201, ok.get_json()
    assert {f["name"] for f in env.get(url).get_json()["files"]} == {"train.csv", "test.csv"}
    leak = post(env.organizer, "answers.csv", tiny_labels().encode())
    assert leak.status_code == 400 and leak.get_json()["error"] == "data_leaks_labels"
    replaced = post(env.organizer, "train.csv", b"id,x\nR9,9\n")
    assert replaced.status_code == 409
    assert list((env.rt.home / "tmp").iterdir()) == []  # no upload left behind


def test_the_demo_attaches_train_test_and_sample_submission(env: Env) -> None:
    import datasets
    from server.cli.demo import _setup

    folder = env.tmp / "demo-antenna"
    datasets.generate("antenna", folder, rows=60, seed=0)
    _setup(env.rt, {"antenna": folder})
    files = env.get("/api/v1/competitions/antenna/data").get_json()["files"]
    assert [f["name"] for f in files] == ["sample_submission.csv", "test.csv", "train.csv"]
    assert env.get(files[1]["url"]).data == (folder / "test.csv").read_bytes()
