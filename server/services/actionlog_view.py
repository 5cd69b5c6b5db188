"""The action log as the consoles read it: entries (all, or one competition's) and the hash chain
checked over the whole log (the chain is one, across competitions), naming the first broken entry."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from server.caller import Caller
from server.models import ActionLogEntry, Competition
from server.runtime import Runtime
from server.services.access import check_action_log
from server.services.actionlog import check_chain
from server.services.competitions import get_competition
from server.timeutil import isoformat_utc

__all__ = ["action_log_view", "entry_to_dict"]


def entry_to_dict(entry: ActionLogEntry, slugs: dict[int, str]) -> dict[str, Any]:
    try:
        payload: Any = json.loads(entry.payload)
    except ValueError:
        payload = entry.payload  # an altered entry: shown as stored, the chain check names it
    return {"id": entry.id, "created_at": isoformat_utc(entry.created_at), "actor": entry.actor,
            "action": entry.action, "competition": slugs.get(entry.competition_id) if entry.competition_id else None,
            "payload": payload, "prev_sha256": entry.prev_sha256, "sha256": entry.sha256}


def action_log_view(rt: Runtime, caller: Caller, slug: str | None) -> dict[str, Any]:
    with rt.session() as session:
        comp: Competition | None = get_competition(session, slug) if slug else None
        check_action_log(caller, comp)
        checked, problems = check_chain(session)
        slugs = dict(session.execute(sa.select(Competition.id, Competition.slug)).all())
        query = sa.select(ActionLogEntry).order_by(ActionLogEntry.id)
        if comp is not None:
            query = query.where(ActionLogEntry.competition_id == comp.id)
        entries = [entry_to_dict(e, slugs) for e in session.execute(query).scalars()]
    first = problems[0] if problems else None
    return {
        "competition": slug, "chain_ok": not problems, "entries_checked": checked,
        "first_broken": None if first is None else {"id": first.entry_id, "message": first.message},
        "problems": [{"id": p.entry_id, "message": p.message} for p in problems[:100]],
        "entries": entries,
    }
