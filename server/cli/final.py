"""Organizer and judge commands for the end of a competition.

freeze, publish, award, verification, eligibility, audit, verify, rescore.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import click

from server.caller import Caller, Role
from server.cli.app import CLI_ACTOR, ServerGroup, runtime
from server.cli.output import emit, json_option
from server.services.audit import FORMATS, TABLES, audit_csv, audit_json
from server.services.award import (
    STATES,
    award_standings,
    set_eligibility,
    set_verification,
)
from server.services.competitions import get_competition
from server.services.freeze import freeze, publish
from server.services.rescore import rescore
from server.services.verify import verify

# Holds this module's top-level commands; server/cli/__init__.py registers each by name.
commands = ServerGroup("final")

# Commands run on the server itself, with the organizer's rights.
CLI_CALLER = Caller(role=Role.ORGANIZER, name=CLI_ACTOR)


def _board_lines(board: list[dict[str, Any]], limit: int = 10) -> list[str]:
    lines = [f"  {e['rank']:>4}  {e['score']!s:>14}  {e['team']}" for e in board[:limit]]
    if len(board) > limit:
        lines.append(f"  ... {len(board) - limit} more")
    return lines


def _snapshot_text(verb: str, data: dict[str, Any]) -> str:
    lines = [f"{verb} {data['competition']} (frozen {data['frozen_at_local']}"
             + (f", published {data['published_at_local']}" if data["published_at"] else "") + ")",
             f"snapshot sha256 {data['sha256']}",
             f"{data['submissions']} submissions; {len(data['public_board'])} teams on the public board, "
             f"{len(data.get('private_board', []))} on the private board",
             "private board:", *_board_lines(data.get("private_board", []))]
    return "\n".join(lines)


@commands.command("freeze")
@click.argument("slug")
@click.option("--preview", is_flag=True, help="Only say what a freeze would do now (refusal, pending, boards).")
@json_option
def freeze_command(slug: str, preview: bool, as_json: bool) -> None:
    """Freeze the final standings into an immutable, hashed snapshot (after the end)."""
    if preview:
        from server.services.freeze_preview import freeze_preview

        view = freeze_preview(runtime(), slug)
        head = "a freeze now would be accepted" if view["allowed"] else f"refused: {view['refusal']['message']}"
        lines = [head, f"{view['submissions']} submissions of {len(view['teams'])} teams; "
                       f"{view['pending_total']} still waiting for a score"]
        lines += [f"  pending {p['id']} ({p['team']}, {p['status']})" for p in view["pending"]]
        lines += [f"  {e['rank']:>3}. {e['team']}  {e['score']}" for e in view["private_board"]]
        emit(as_json, view, "\n".join(lines))
        return
    data = freeze(runtime(), slug, CLI_ACTOR)
    emit(as_json, data, _snapshot_text("froze", data))


@commands.command("publish")
@click.argument("slug")
@json_option
def publish_command(slug: str, as_json: bool) -> None:
    """Make the frozen private leaderboard public."""
    data = publish(runtime(), slug, CLI_ACTOR)
    emit(as_json, data, _snapshot_text("published", data))


@commands.command("award")
@click.argument("slug")
@json_option
def award_command(slug: str, as_json: bool) -> None:
    """Show the award standings: eligible, verified teams in private-board order."""
    rt = runtime()
    with rt.session() as session:
        data = award_standings(session, get_competition(session, slug))
    lines = [f"award standings of {slug} (snapshot {data['snapshot_sha256']})"]
    lines += [f"  {e['award_rank']:>3}  (private rank {e['private_rank']})  {e['score']!s:>14}  {e['team']}"
              for e in data["standings"]] or ["  (no team is verified yet)"]
    for title, key in (("disqualified", "disqualified"), ("pending verification", "pending"),
                       ("not eligible", "not_eligible")):
        if data[key]:
            lines.append(f"{title}:")
            lines += [f"  (private rank {e['private_rank']})  {e['team']}"
                      + (f": {e['reason']}" if e.get("reason") else "") for e in data[key]]
    emit(as_json, data, "\n".join(lines))


@commands.command("verification")
@click.argument("slug")
@click.argument("team")
@click.option("--state", required=True, type=click.Choice(STATES), help="The code-verification outcome.")
@click.option("--reason", help="Why (required for disqualified; recorded in the action log).")
@json_option
def verification_command(slug: str, team: str, state: str, reason: str | None, as_json: bool) -> None:
    """Record a team's code verification (after the freeze); TEAM is the exact team name."""
    data = set_verification(runtime(), slug, team, state, reason, actor=CLI_ACTOR)
    emit(as_json, data, f"{data['team']}: {data['previous']} → {data['state']}"
         + (f" ({data['reason']})" if data["reason"] else ""))


@commands.command("eligibility")
@click.argument("team")
@click.option("--eligible/--not-eligible", required=True, help="Whether the team may receive an award.")
@click.option("--reason", help="Why (recorded in the action log).")
@json_option
def eligibility_command(team: str, eligible: bool, reason: str | None, as_json: bool) -> None:
    """Set whether a team may receive an award; TEAM is the exact team name."""
    data = set_eligibility(runtime(), team, eligible, reason, actor=CLI_ACTOR)
    emit(as_json, data, f"{data['team']}: eligible {data['previous']} → {data['eligible']}")


@commands.command("audit")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--table", type=click.Choice(TABLES), default="submissions", show_default=True,
              help="CSV only: the submissions table or the action log (JSON holds both).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (CSV gets a UTF-8 BOM for spreadsheets) instead of stdout.")
@json_option
def audit_command(slug: str, fmt: str, table: str, output: Path | None, as_json: bool) -> None:
    """Export the judges' audit: every submission, the snapshot hash and the action log."""
    rt = runtime()
    if fmt == "json" and table != "submissions":
        raise click.UsageError("--table applies to CSV only; the JSON audit holds both tables")
    chunks = audit_csv(rt, slug, CLI_CALLER, table) if fmt == "csv" else audit_json(rt, slug, CLI_CALLER)
    if output is None:
        if as_json and fmt == "csv":
            emit(True, {"competition": slug, "format": fmt, "table": table, "csv": "".join(chunks)}, "")
            return
        for chunk in chunks:  # the JSON audit is itself one JSON object
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    digest = hashlib.sha256()
    size = 0
    tmp = output.with_name(output.name + ".part")
    with open(tmp, "wb") as fh:
        for chunk in _with_bom(fmt, chunks):
            data = chunk.encode("utf-8")
            digest.update(data)
            size += len(data)
            fh.write(data)
    tmp.replace(output)
    emit(as_json, {"competition": slug, "format": fmt, "table": table, "file": str(output), "bytes": size,
                   "sha256": digest.hexdigest()},
         f"wrote {output} ({size:,} bytes, sha256 {digest.hexdigest()})")


def _with_bom(fmt: str, chunks: Any) -> Any:
    if fmt == "csv":
        yield "\ufeff"
    yield from chunks


@commands.command("verify")
@click.argument("slug")
@json_option
def verify_command(slug: str, as_json: bool) -> None:
    """Re-read and re-score every submission, check the snapshot and the action log; exit 1 on any difference."""
    report = verify(runtime(), slug)
    data = report.to_dict()
    lines = [
        f"verify {slug}: {report.submissions} submissions, {report.files} files re-read, {report.rescored} re-scored "
        f"with scorer {report.scorer_version}; {report.matches} match, {report.mismatches} differ"
        + (f", {report.pending} still pending" if report.pending else "")
        + (f", {report.not_scored} failed (file checked only)" if report.not_scored else ""),
        f"snapshot {report.snapshot_sha256 or '(not frozen)'}; action log {report.log_entries} entries; "
        f"{report.seconds:.1f} s",
    ]
    if report.ok:
        lines.append("OK: every file, score, the snapshot and the action log check out")
    else:
        lines.append(f"FAILED: {report.differences_total} difference{'s' if report.differences_total != 1 else ''}")
        lines += [f"  [{d.kind}] {d.subject}: {d.message}" for d in report.differences]
        if report.differences_total > len(report.differences):
            lines.append(f"  ... {report.differences_total - len(report.differences)} more (see --json)")
    emit(as_json, data, "\n".join(lines))
    if not report.ok:
        click.get_current_context().exit(1)


@commands.command("rescore")
@click.argument("slug")
@click.option("--all", "all_", is_flag=True, help="Every scored and rejected submission.")
@click.option("--submission", "ids", multiple=True, help="A submission id (repeat).")
@click.option("--labels", "labels_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Install this corrected hidden labels file first (needs --all).")
@json_option
def rescore_command(slug: str, all_: bool, ids: tuple[str, ...], labels_file: Path | None, as_json: bool) -> None:
    """Score submissions again (before the freeze), keeping old scores in history; reports rank changes."""
    if all_ == bool(ids):
        raise click.UsageError("give either --all or one or more --submission ID")
    data = rescore(runtime(), slug, actor=CLI_ACTOR, submission_ids=None if all_ else list(ids),
                   labels_file=labels_file)
    lines = [f"rescored {data['rescored']} submissions of {slug}; {data['changed']} changed"
             + (f"; labels {data['labels']['from'][:12]}… → {data['labels']['to'][:12]}…" if data["labels"] else "")]
    for split in ("public", "private"):
        for c in data["rank_changes"][split]:
            lines.append(f"  {split}: {c['team']}: rank {c['rank_before']} → {c['rank_after']} "
                         f"({c['score_before']} → {c['score_after']})")
    emit(as_json, data, "\n".join(lines))
