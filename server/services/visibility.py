"""Who may see a private score: the one function every view, export and page asks."""

from __future__ import annotations

from server.auth import Caller
from server.models import Competition

__all__ = ["can_see_private"]


def can_see_private(caller: Caller, comp: Competition) -> bool:
    """Private scores: everyone once published; judges once frozen; organizers always."""
    if comp.published_at is not None:
        return True
    if caller.is_organizer:
        return True
    return caller.is_judge and comp.frozen_at is not None
