"""The queue carries ids only; the row is the truth: idempotent scoring, lost jobs, killed workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import sqlalchemy as sa
from rq.job import Job

from server.models import Submission
from server.queue import enqueue_scoring, job_id, reconcile
from server.services.scoring_jobs import run_scoring
from tests.server.conftest import Env, tiny_predictions


def _status(env: Env, sub_id: str) -> Submission:
    with env.rt.session() as session:
        return session.get_one(Submission, sub_id)


def test_job_carries_only_the_submission_id(env: Env) -> None:
    env.competition()
    sub_id = env.upload(env.team("Alpha"), tiny_predictions(0.5)).json["id"]
    job = Job.fetch(job_id(sub_id), connection=env.rt.redis)
    assert job.args == (sub_id,) and job.kwargs == {}
    assert job.func_name == "server.queue.score_job"
    assert job.timeout == env.rt.config["JOB_TIMEOUT"] and job.failure_ttl == env.rt.config["FAILURE_TTL"]


def test_scoring_twice_leaves_one_result(env: Env) -> None:
    env.competition()
    sub_id = env.upload(env.team("Alpha"), tiny_predictions(0.5)).json["id"]
    assert run_scoring(env.rt, sub_id) == "scored"
    first = _status(env, sub_id)
    assert run_scoring(env.rt, sub_id) == "scored"  # a duplicate job finds it done
    enqueue_scoring(env.rt, sub_id)
    env.work()
    again = _status(env, sub_id)
    assert (again.status, again.public_score, again.scored_at, again.attempts) == \
           (first.status, first.public_score, first.scored_at, 1)


def test_reconciler_requeues_a_lost_job(env: Env) -> None:
    env.competition()
    sub_id = env.upload(env.team("Alpha"), tiny_predictions(0.5)).json["id"]
    env.rt.redis.flushdb()  # Redis restarted without its data: the job is gone
    report = reconcile(env.rt)
    assert report.requeued == [sub_id]
    env.work()
    assert _status(env, sub_id).status == "scored"
    assert reconcile(env.rt).requeued == []


def test_upload_survives_a_queue_outage(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    real_url = env.rt.config["REDIS_URL"]
    env.rt.config["REDIS_URL"] = "redis://127.0.0.1:1"  # nothing listens there
    env.rt._redis = None
    response = env.upload(token, tiny_predictions(0.5))
    assert response.status_code == 202  # the row is stored; the reconciler will queue it
    assert env.get("/healthz").status_code == 503
    env.rt.config["REDIS_URL"] = real_url
    env.rt._redis = None
    assert reconcile(env.rt).requeued == [response.json["id"]]
    env.work()
    assert _status(env, response.json["id"]).status == "scored"


def test_failed_after_max_attempts(env: Env) -> None:
    env.competition()
    sub_id = env.upload(env.team("Alpha"), tiny_predictions(0.5)).json["id"]
    with env.rt.session() as session:
        sha = session.get_one(Submission, sub_id).sha256
    env.rt.storage.submission_path(sha).unlink()  # our fault: the stored file vanished
    env.work()
    sub = _status(env, sub_id)
    assert sub.status == "failed" and sub.attempts == env.rt.config["MAX_ATTEMPTS"]
    assert "internal error" in sub.message and "/" not in sub.message  # no internal path shown


def _worker_env(env: Env) -> dict[str, str]:
    return dict(os.environ, HACKATHON_HOME=str(env.rt.home), DATABASE_URL=env.rt.config["DATABASE_URL"],
                REDIS_URL=env.rt.config["REDIS_URL"], HACKATHON_QUEUE_NAME=env.rt.config["QUEUE_NAME"])


def test_long_running_worker_process_scores_uploads(env: Env) -> None:
    env.competition()
    token = env.team("Alpha")
    proc = subprocess.Popen([sys.executable, "-m", "server", "worker"], env=_worker_env(env))
    try:
        sub_id = env.upload(token, tiny_predictions(0.5)).json["id"]
        deadline = time.monotonic() + 60
        while _status(env, sub_id).status != "scored" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _status(env, sub_id).status == "scored"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_worker_log_level_is_what_its_option_says(env: Env) -> None:
    """`hackathon worker --burst --log-level WARNING` scores without the per-result info lines;
    the default (INFO) prints them (the option once reached only RQ's own logger)."""
    env.competition()
    token = env.team("Alpha")
    for level, expect_info in (["--log-level", "WARNING"], False), ([], True):
        sub_id = env.upload(token, tiny_predictions(0.5)).json["id"]
        done = subprocess.run([sys.executable, "-m", "server", "worker", "--burst", *level], env=_worker_env(env),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert _status(env, sub_id).status == "scored"
        said = done.stdout + done.stderr
        assert (f"submission {sub_id} scored" in said) is expect_info, said[-2000:]


def test_killed_worker_loses_nothing(env: Env) -> None:
    """SIGKILL a worker in the middle of a job; the reconciler re-queues it; one result remains."""
    rows = 400_000  # large enough that parsing the labels keeps the worker busy for a while
    labels = "id,y,Usage\n" + "".join(f"T{i:06d},{i % 97},{'Public' if i % 3 else 'Private'}\n" for i in range(rows))
    env.competition(labels=labels, max_upload_mb=50)
    preds = ("id,y\n" + "".join(f"T{i:06d},{i % 97 + 1}\n" for i in range(rows))).encode()
    sub_id = env.upload(env.team("Alpha"), preds).json["id"]
    proc = subprocess.Popen([sys.executable, "-m", "server", "worker"], env=_worker_env(env))
    deadline = time.monotonic() + 60
    while _status(env, sub_id).status != "scoring" and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert _status(env, sub_id).status == "scoring"  # killed mid-job

    report = reconcile(env.rt)
    assert report.requeued == [sub_id]
    env.work()
    sub = _status(env, sub_id)
    assert sub.status == "scored" and sub.public_score == 1.0 and sub.attempts == 2
    with env.rt.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Submission)).scalar_one() == 1


def test_metric_undefined_on_our_split_fails_at_once(env: Env) -> None:
    """A scoring error that is ours and deterministic is `failed` without retries."""
    # Every public row is 1, so ROC-AUC is undefined on the public split.
    labels = "id,y,Usage\n" + "".join(f"T{i:03d},{1 if i % 2 == 0 else i % 4 // 2},"
                                      f"{'Public' if i % 2 == 0 else 'Private'}\n" for i in range(20))
    env.competition(labels=labels)
    sub_id = env.upload(env.team("Alpha"), tiny_predictions(0.5)).json["id"]
    from server.models import Competition

    with env.rt.write() as session:  # the organizer's task turns out to need a metric undefined here
        comp = session.execute(sa.select(Competition)).scalar_one()
        comp.task_toml = comp.task_toml.replace('name = "root_mean_squared_error"', 'name = "roc_auc_score"') \
            .replace('kind = "number"', 'kind = "probability"')
    preds = "id,y\n" + "".join(f"T{i:03d},0.5\n" for i in range(20))
    with env.rt.session() as session:
        sha = session.get_one(Submission, sub_id).sha256
    env.rt.storage.submission_path(sha).write_text(preds)
    env.work()
    sub = _status(env, sub_id)
    assert sub.status == "failed" and sub.attempts == 1
    assert "metric could not be computed" in sub.message


def test_embedded_queue_is_found_only_by_its_own_instance(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from server.embedded import running_embedded_url, start_embedded_queue

    server, url = start_embedded_queue(tmp_path / "a")
    try:
        assert running_embedded_url(tmp_path / "a") == url
        (tmp_path / "b" / "valkey").mkdir(parents=True)
        (tmp_path / "b" / "valkey" / "url").write_text(url)  # b's old server used the same port
        assert running_embedded_url(tmp_path / "b") is None
    finally:
        server.stop()
    assert running_embedded_url(tmp_path / "a") is None
