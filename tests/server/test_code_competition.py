"""A code competition on the server: zip uploads, the code queue, outcomes and the daily limit."""

from __future__ import annotations

import json

import pytest
from rq.job import Job

from codecomp import outcome as oc
from scoring import read_labels, score
from scoring.tasks import parse_task
from server.models import Submission
from server.queue import code_queue, job_id, reconcile
from server.services.code_jobs import JOB_MARGIN, attach_test_features
from server.services.competitions import CompetitionSettings, create_competition, get_competition
from server.services.submissions import quota_today
from tests.codecomp.conftest import make_zip, require_sandbox
from tests.server.conftest import N_ROWS, TINY_TASK, Env, tiny_labels, tiny_predictions

CODE_TASK = TINY_TASK.replace('id_column = "id"', 'id_column = "id"\nkind = "code"') + """
[code]
test_features = ["test.csv"]
install_seconds = 60
inference_seconds = 5
memory_mb = 256
processes = 32
"""
PREDICTIONS = tiny_predictions(0.5).decode()


@pytest.fixture
def code_env(env: Env) -> Env:
    require_sandbox()
    folder = env.tmp / "code-task"
    folder.mkdir()
    (folder / "task.toml").write_text(CODE_TASK, encoding="utf-8")
    (folder / "labels.csv").write_text(tiny_labels(), encoding="utf-8")
    hidden = env.tmp / "code-hidden"
    hidden.mkdir()
    (hidden / "test.csv").write_text("id,x\n" + "".join(f"T{i:03d},{i}\n" for i in range(N_ROWS)))
    create_competition(env.rt, actor="test", task_dir=folder, labels_file=folder / "labels.csv", slug="code",
                       settings=CompetitionSettings(start=(env.now.replace(day=1)).isoformat(),
                                                    end=env.now.replace(month=12).isoformat()),
                       split_seed="test-seed")
    attach_test_features(env.rt, "code", hidden)
    return env


def _upload_zip(env: Env, token: str, files: dict[str, str]) -> str:
    path = make_zip(env.tmp / "submit.zip", files)
    response = env.client.post("/api/v1/competitions/code/submissions?filename=submit.zip", data=path.read_bytes(),
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/zip"})
    assert response.status_code == 202, response.json
    return str(response.json["id"])


def _work_code(env: Env) -> None:
    from server.serve import run_worker

    run_worker(env.rt, burst=True, queue="code")


def _row(env: Env, sub_id: str) -> Submission:
    with env.rt.session() as session:
        return session.get_one(Submission, sub_id)


def test_code_submission_scores_like_the_same_csv(code_env: Env) -> None:
    env = code_env
    token = env.team("Alpha")
    script = f"open('data/test.csv').read()\nopen('output/submission.csv', 'w').write({PREDICTIONS!r})\n"
    sub_id = _upload_zip(env, token, {"script.py": script, "requirements.txt": "", "model/m.txt": "1"})
    job = Job.fetch(job_id(sub_id), connection=env.rt.redis)
    assert job.origin == code_queue(env.rt).name
    assert job.timeout == 60 + 5 + JOB_MARGIN
    assert env.rt.queue.count == 0  # nothing on the CSV queue
    _work_code(env)
    row = _row(env, sub_id)
    task = parse_task(CODE_TASK, "t")
    csv = env.tmp / "same.csv"
    csv.write_text(PREDICTIONS)
    with env.rt.session() as session:
        comp = get_competition(session, "code")
    expected = score(csv, read_labels(env.tmp / "code-task" / "labels.csv", task, public_fraction=comp.public_fraction,
                                      seed=comp.split_seed), task)
    assert (row.status, row.outcome) == ("scored", "scored")
    assert (row.public_score, row.private_score) == (expected.public_score, expected.private_score)
    body = env.get(f"/api/v1/submissions/{sub_id}", token).json
    assert body["outcome"] == "scored" and body["run"]["run_seconds"] is not None
    assert "log_tail" not in json.dumps(body)


def test_install_error_is_not_counted_and_run_errors_are(code_env: Env) -> None:
    env = code_env
    token = env.team("Alpha")
    bad_layout = _upload_zip(env, token, {"submit/script.py": "print(1)\n"})
    crash = _upload_zip(env, token, {"script.py": "print(open('data/test.csv').read())\nraise SystemExit(3)\n"})
    _work_code(env)
    first, second = _row(env, bad_layout), _row(env, crash)
    assert (first.status, first.outcome) == ("install_error", oc.INSTALL_ERROR)
    assert "inside the folder 'submit/'" in (first.message or "")
    assert (second.status, second.outcome) == ("run_error", oc.EXCEPTION)
    body = env.get(f"/api/v1/submissions/{crash}", token).json
    assert "T000" not in json.dumps(body)  # what the script printed on the hidden data stays out
    with env.rt.session() as session:
        comp = get_competition(session, "code")
        quota = quota_today(session, comp, first.team_id, env.now)
    assert (quota.counted, quota.uncounted) == (1, 1)


def test_reconciler_requeues_a_lost_code_job_on_the_code_queue(code_env: Env) -> None:
    env = code_env
    token = env.team("Alpha")
    sub_id = _upload_zip(env, token, {"script.py": "print(1)\n"})
    env.rt.redis.delete(f"rq:queue:{code_queue(env.rt).name}", f"rq:job:{job_id(sub_id)}")  # the job is lost
    report = reconcile(env.rt)
    assert report.requeued == [sub_id]
    assert code_queue(env.rt).count == 1
    _work_code(env)
    row = _row(env, sub_id)
    assert (row.status, row.outcome) == ("run_error", oc.SUBMISSION_NOT_FOUND)


def test_test_features_of_a_csv_competition_are_refused(code_env: Env) -> None:
    env = code_env
    env.competition()
    from server.errors import BadRequest

    with pytest.raises(BadRequest, match="not a code competition"):
        attach_test_features(env.rt, "tiny", env.tmp)


def test_killed_code_worker_leaves_no_sandbox_and_the_job_is_requeued(code_env: Env) -> None:
    """SIGKILL a code worker while script.py runs: the sandbox dies with it, the reconciler re-queues
    the job, and the second attempt's result is the only one (our failure is never charged)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    env = code_env
    script = f"import time\ntime.sleep(2)\nopen('output/submission.csv', 'w').write({PREDICTIONS!r})\n"
    sub_id = _upload_zip(env, env.team("Alpha"), {"script.py": script})
    worker_env = dict(os.environ, HACKATHON_HOME=str(env.rt.home), DATABASE_URL=env.rt.config["DATABASE_URL"],
                      REDIS_URL=env.rt.config["REDIS_URL"], HACKATHON_QUEUE_NAME=env.rt.config["QUEUE_NAME"])
    proc = subprocess.Popen([sys.executable, "-m", "server", "worker", "--queue", "code"], env=worker_env)
    runs = str(env.rt.home / "tmp" / "code-runs")

    def sandboxed() -> list[psutil.Process]:
        found = []
        for p in psutil.process_iter(["cmdline"]):
            if any(runs in part for part in p.info["cmdline"] or []):
                found.append(p)
        return found

    deadline = time.monotonic() + 120
    while not any("script.py" in p.info["cmdline"] for p in sandboxed()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _row(env, sub_id).status == "scoring"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    gone_by = time.monotonic() + 10
    while sandboxed() and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert sandboxed() == []  # bwrap --die-with-parent: the pid namespace went with the worker

    assert reconcile(env.rt).requeued == [sub_id]
    _work_code(env)
    row = _row(env, sub_id)
    assert (row.status, row.outcome, row.attempts) == ("scored", "scored", 2)


def test_rejected_output_shows_no_detail_from_the_hidden_data(code_env: Env) -> None:
    env = code_env
    token = env.team("Alpha")
    # The ids echo the hidden test file: a rejection listing them would leak it.
    script = ("ids = [line.split(',')[0] for line in open('data/test.csv').read().splitlines()[1:]]\n"
              "open('output/submission.csv', 'w').write('id,y\\n' + ''.join(f'{i}-LEAK,1\\n' for i in ids))\n")
    sub_id = _upload_zip(env, token, {"script.py": script})
    _work_code(env)
    row = _row(env, sub_id)
    assert (row.status, row.outcome) == ("run_error", oc.REJECTED)
    body = env.get(f"/api/v1/submissions/{sub_id}", token).json
    assert body["problems"] == [] and "LEAK" not in json.dumps(body) and "T000" not in json.dumps(body)
