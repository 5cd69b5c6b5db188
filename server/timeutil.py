"""Time: stored in UTC, computed timezone-aware, shown in the competition's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.errors import BadRequest, msg

__all__ = ["parse_datetime", "zone", "local_day_bounds", "isoformat_utc", "isoformat_local"]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"timezone must be an IANA zone such as Asia/Seoul, found {name!r}") from None


def parse_datetime(value: str, field: str, tz_name: str) -> datetime:
    """Parse an ISO 8601 time; one without an offset is read in the competition's zone."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(
            msg("%(field)s must be an ISO 8601 time such as 2026-08-01T10:00:00+09:00, found %(found)s", field=field,
                found=repr(value)), field=field
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz_name))
    return parsed.astimezone(UTC)


def local_day_bounds(moment: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """Return the UTC start and end of the local calendar day holding `moment`.

    Computed from local midnights (not start + 24 h) so that days with a DST change keep their
    real length.
    """
    tz = zone(tz_name)
    local = moment.astimezone(tz)
    start = datetime(local.year, local.month, local.day, tzinfo=tz)
    nxt = (start + timedelta(days=1, hours=12)).replace(hour=0, minute=0, second=0, microsecond=0)
    nxt = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return start.astimezone(UTC), nxt.astimezone(UTC)


def isoformat_utc(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def isoformat_local(value: datetime | None, tz_name: str) -> str | None:
    return None if value is None else value.astimezone(zone(tz_name)).isoformat()
