"""The probe signs compare a team's file with its previous one; a worker keeps the values of the
files it read lately, so the previous one is usually not read again. The kept values must be the
ones a fresh read gives for that competition (its labels, split and task), never another's."""

from __future__ import annotations

import sqlalchemy as sa

from scoring.predictions import read_predictions
from scoring.probes import changed_rows
from server.models import Competition, Submission
from server.services import probes
from server.services.competitions import competition_labels, competition_task
from tests.server.conftest import Env, tiny_labels, tiny_predictions


def _changed_on_fresh_read(env: Env, comp: Competition, before: Submission, after: Submission) -> int:
    labels, task = competition_labels(env.rt, comp), competition_task(env.rt, comp)
    read = [read_predictions(env.rt.storage.submission_path(s.sha256), labels, task) for s in (before, after)]
    return changed_rows(read[0], read[1])


def test_kept_values_match_a_fresh_read_in_each_competition(env: Env) -> None:
    # The same two files in two competitions whose splits differ: the same bytes, other rows public.
    labels = "\n".join(",".join(line.split(",")[:2]) for line in tiny_labels().splitlines()) + "\n"
    env.competition("one", labels=labels, public_fraction=0.3)
    env.competition("two", labels=labels, public_fraction=0.7)
    first = tiny_predictions(0.1)
    second = first.replace(b"T003,4.6", b"T003,9.0").replace(b"T004,6.1", b"T004,9.0")
    team = env.team("Alpha")
    for slug in ("one", "two"):
        assert env.upload(team, first, slug).status_code == 202
    env.work()
    env.advance(seconds=10)
    for slug in ("one", "two"):
        assert env.upload(team, second, slug).status_code == 202
    env.work()  # in this process: the first files' values are kept, not read again
    with env.rt.session() as session:
        for slug in ("one", "two"):
            comp = session.execute(sa.select(Competition).where(Competition.slug == slug)).scalar_one()
            subs = list(session.execute(sa.select(Submission).where(Submission.competition_id == comp.id)
                                        .order_by(Submission.received_at, Submission.id)).scalars())
            assert [s.status for s in subs] == ["scored", "scored"]
            assert subs[1].changed_rows == _changed_on_fresh_read(env, comp, subs[0], subs[1]) == 2
    assert probes._recent.get(probes._cache_key(comp, subs[0].sha256)) is not None
