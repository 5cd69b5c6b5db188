"""Code competitions on the server: hidden test features, the code queue, and the scoring job.

A code competition's task.toml has kind = "code". Its hidden test features live under
``<instance>/code-data/<competition id>/`` (mode 0700, never served; `hackathon code-data`
puts them there). Uploads are submit.zip files, stored like CSVs; their jobs go to the RQ queue
CODE_QUEUE_NAME ("code"), served by `hackathon worker --queue code`, with a job timeout above
the install and inference limits. The job runs `codecomp.pipeline.run_submission` (the same
sandbox as `hackathon run-code`) and scores output/submission.csv with the competition's labels.

Statuses: scored; run_error (counted; `outcome` is timeout, exception, exceeded_memory,
submission_not_found or rejected); install_error (not counted). Our own failures (sandbox
unavailable, test features missing, a lost worker) go through the usual retry and end in
`failed`, which is never counted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from scoring import SCORER_VERSION, score
from scoring.tasks import Task
from server.errors import BadRequest
from server.models import Competition, DataFile, Submission
from server.runtime import Runtime
from server.services.competitions import competition_labels, competition_task, get_competition
from server.services.leaderboard import refresh_standing

__all__ = ["CODE_QUEUE_NAME", "JOB_MARGIN", "attach_test_features", "code_job_timeout", "is_code_competition",
           "run_code_scoring", "test_features_dir", "hidden_feature_hashes"]

log = logging.getLogger(__name__)

CODE_QUEUE_NAME = "code"
JOB_MARGIN = 300  # seconds above install + inference: unpacking, venv, scoring, slow disks


def is_code_competition(rt: Runtime, comp: Competition) -> bool:
    return competition_task(rt, comp).kind == "code"


def code_job_timeout(task: Task) -> int:
    assert task.code is not None
    return task.code.install_seconds + task.code.inference_seconds + JOB_MARGIN


def test_features_dir(rt: Runtime, comp: Competition) -> Path:
    return rt.home / "code-data" / str(comp.id)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def hidden_feature_hashes(rt: Runtime, comp: Competition) -> dict[str, str]:
    """SHA-256 → name of the hidden test feature files stored for a code competition (none yet: {})."""
    folder = test_features_dir(rt, comp)
    if not folder.is_dir():
        return {}
    return {_sha256(p): p.name for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def attach_test_features(rt: Runtime, slug: str, source: Path) -> dict[str, Any]:
    """Copy the hidden test features a code competition's task names from `source` into the instance."""
    with rt.session() as session:
        comp = get_competition(session, slug)
    task = competition_task(rt, comp)
    if task.kind != "code" or task.code is None:
        raise BadRequest(f"competition '{slug}' is not a code competition (its task has kind {task.kind!r})")
    missing = [n for n in task.code.test_features if not (source / n).is_file()]
    if missing:
        raise BadRequest(f"{source} lacks the test features the task names: {', '.join(missing)}")
    # A published data file with the same bytes would hand the hidden features to every team.
    with rt.session() as session:
        published = {sha: name for sha, name in session.execute(sa.select(DataFile.sha256, DataFile.name).where(
            DataFile.competition_id == comp.id))}
    for name in task.code.test_features:
        sha = _sha256(source / name)
        if sha in published:
            raise BadRequest(f"{name} has the same content as the published data file {published[sha]} "
                             f"(SHA-256 {sha[:12]}…); hidden test features must not be downloadable",
                             code="hidden_test_features")
    target = test_features_dir(rt, comp)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.parent.chmod(0o700)
    target.mkdir(exist_ok=True)
    for name in task.code.test_features:
        tmp = target / f".{name}.tmp"
        shutil.copyfile(source / name, tmp)
        tmp.replace(target / name)
        (target / name).chmod(0o644)  # the sandbox reads it through a read-only bind
    return {"competition": slug, "folder": str(target), "files": list(task.code.test_features)}


def install_config(rt: Runtime) -> Any:
    """The install settings from the instance's config (HACKATHON_CODE_* in the environment)."""
    from codecomp.install import InstallConfig

    keys = ("CODE_INSTALL", "CODE_WHEELHOUSE", "CODE_INDEX_URL", "CODE_BASE_PYTHON")
    return InstallConfig.from_env({f"HACKATHON_{k}": str(rt.config[k]) for k in keys if rt.config.get(k)})


def run_code_scoring(rt: Runtime, submission_id: str, comp: Competition, task: Task, path: Path) -> str:
    """Run a stored submit.zip in the sandbox and record its outcome; return the final status.

    Raises (for the retry machinery, never charged): SandboxUnavailable, MissingTestData.
    """
    from codecomp.pipeline import run_submission

    assert task.code is not None
    labels = competition_labels(rt, comp)
    code = task.code

    def scorer(csv: Path) -> tuple[float | None, float | None, int | None]:
        result = score(csv, labels, task, max_bytes=code.output_bytes)
        return result.public_score, result.private_score, result.rows

    started = time.perf_counter()
    outcome = run_submission(path, code=code, data_dir=test_features_dir(rt, comp), scorer=scorer,
                             install=install_config(rt), work_root=_work_root(rt))
    log.info("code submission %s: %s (exit %s, %s)", submission_id, outcome.outcome,
             outcome.internal.get("status"), outcome.enforcement)
    status = {"scored": "scored", "install_error": "install_error"}.get(outcome.outcome, "run_error")
    team_view = outcome.to_team_dict()
    for key in ("public_score", "private_score", "rows", "charged"):
        team_view.pop(key, None)  # the submission's own fields carry these, with visibility rules
    with rt.write() as session:
        sub = session.get_one(Submission, submission_id)
        if sub.status != "scoring":
            return sub.status  # another attempt finished first
        sub.status, sub.outcome, sub.message = status, outcome.outcome, outcome.message
        sub.run_info = json.dumps(team_view, ensure_ascii=False)
        if status == "scored":
            sub.public_score, sub.private_score, sub.rows = outcome.public_score, outcome.private_score, outcome.rows
        sub.scored_at, sub.duration_s = rt.now(), time.perf_counter() - started
        sub.scorer_version, sub.labels_sha256 = SCORER_VERSION, labels.sha256
        refresh_standing(session, comp, sub.team_id)
    return status


STALE_RUN_SECONDS = 24 * 3600  # a run folder this old belongs to a worker that was killed mid-run


def _work_root(rt: Runtime) -> Path:
    folder = rt.home / "tmp" / "code-runs"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    cutoff = time.time() - STALE_RUN_SECONDS
    for stale in folder.glob("codecomp-*"):
        try:
            if stale.stat().st_mtime < cutoff:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass
    return folder
