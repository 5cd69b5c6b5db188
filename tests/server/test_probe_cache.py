"""The probe signs compare a team's file with its previous one. The workers of a machine keep each
scored file's row fingerprints on disk, so the previous file is not read again whichever worker
scored it; what they compare must be what a fresh read of both files gives for that competition
(its labels, split and task), never another's, and the folder must not grow with every file."""

from __future__ import annotations

import shutil

import sqlalchemy as sa

from scoring.predictions import read_predictions
from scoring.probes import changed_rows
from server.models import Competition, Submission
from server.services.competitions import competition_labels, competition_task
from tests.server.conftest import Env, tiny_labels, tiny_predictions

FIRST = tiny_predictions(0.1)
SECOND = FIRST.replace(b"T003,4.6", b"T003,9.0").replace(b"T004,6.1", b"T004,9.0")


def _changed_on_fresh_read(env: Env, comp: Competition, before: Submission, after: Submission) -> int:
    labels, task = competition_labels(env.rt, comp), competition_task(env.rt, comp)
    read = [read_predictions(env.rt.storage.submission_path(s.sha256), labels, task) for s in (before, after)]
    return changed_rows(read[0], read[1])


def _submissions(env: Env, slug: str) -> tuple[Competition, list[Submission]]:
    with env.rt.session() as session:
        comp = session.execute(sa.select(Competition).where(Competition.slug == slug)).scalar_one()
        subs = list(session.execute(sa.select(Submission).where(Submission.competition_id == comp.id)
                                    .order_by(Submission.received_at, Submission.id)).scalars())
    return comp, subs


def _fingerprint_files(env: Env) -> list[str]:
    folder = env.rt.home / "cache" / "fingerprints"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_previous_file_is_compared_without_reading_it_in_each_competition(env: Env) -> None:
    # The same two files in two competitions whose splits differ: the same bytes, other rows public.
    labels = "\n".join(",".join(line.split(",")[:2]) for line in tiny_labels().splitlines()) + "\n"
    env.competition("one", labels=labels, public_fraction=0.3)
    env.competition("two", labels=labels, public_fraction=0.7)
    team = env.team("Alpha")
    for slug in ("one", "two"):
        assert env.upload(team, FIRST, slug).status_code == 202
    env.work()
    assert len(_fingerprint_files(env)) == 2  # one per competition: the keys include the split
    # The first file is gone from the storage: only its fingerprints can tell what changed.
    first = env.rt.storage.submission_path(_submissions(env, "one")[1][0].sha256)
    shutil.move(first, first.with_name("away"))
    env.advance(seconds=10)
    for slug in ("one", "two"):
        assert env.upload(team, SECOND, slug).status_code == 202
    env.work()
    shutil.move(first.with_name("away"), first)
    for slug in ("one", "two"):
        comp, subs = _submissions(env, slug)
        assert [s.status for s in subs] == ["scored", "scored"]
        assert subs[1].changed_rows == _changed_on_fresh_read(env, comp, subs[0], subs[1]) == 2


def test_without_fingerprints_the_previous_file_is_read(env: Env) -> None:
    env.competition("one")
    team = env.team("Alpha")
    assert env.upload(team, FIRST, "one").status_code == 202
    env.work()
    shutil.rmtree(env.rt.home / "cache" / "fingerprints")  # as on another machine, or after a restore
    env.advance(seconds=10)
    assert env.upload(team, SECOND, "one").status_code == 202
    env.work()
    comp, subs = _submissions(env, "one")
    assert subs[1].changed_rows == _changed_on_fresh_read(env, comp, subs[0], subs[1]) == 2


def test_the_folder_keeps_one_file_per_team(env: Env) -> None:
    env.competition("one", daily_limit=10)
    teams = [env.team("Alpha"), env.team("Beta")]
    for i in range(4):
        for team in teams:
            body = FIRST.replace(b"T005,7.6", f"T005,{7.6 + i + (10 if team is teams[1] else 0)}".encode())
            assert env.upload(team, body, "one").status_code == 202
        env.work()
        env.advance(seconds=10)
    subs = _submissions(env, "one")[1]
    assert [s.changed_rows for s in subs] == [None, None] + [1] * 6
    assert len(_fingerprint_files(env)) == 2  # each team's last scored file


def test_a_folder_that_cannot_be_written_costs_only_a_read(env: Env) -> None:
    env.competition("one")
    (env.rt.home / "cache").mkdir(parents=True, exist_ok=True)
    (env.rt.home / "cache" / "fingerprints").write_text("not a folder")  # every save and load fails
    team = env.team("Alpha")
    assert env.upload(team, FIRST, "one").status_code == 202
    env.work()
    env.advance(seconds=10)
    assert env.upload(team, SECOND, "one").status_code == 202
    env.work()
    comp, subs = _submissions(env, "one")
    assert [s.status for s in subs] == ["scored", "scored"]
    assert subs[1].changed_rows == _changed_on_fresh_read(env, comp, subs[0], subs[1]) == 2
