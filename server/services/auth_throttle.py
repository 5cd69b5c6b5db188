"""Failed authentications per client address: after FAILURES_ALLOWED in a window, 429.

Counted in Redis (one key per address, ``hackathon:<queue name>:authfail:<address>``, expiring with its
window), so memory is bounded by the addresses that failed in the last WINDOW_SECONDS, and the
count is shared by every web process. Only failures are counted and checked: a valid token never
touches this, so teams behind one campus address are not slowed by a neighbour's typo. Redis
trouble fails open (logged): authentication itself does not depend on the queue.
"""

from __future__ import annotations

import logging

import redis

from server.errors import RateLimited, msg
from server.runtime import Runtime

__all__ = ["note_failed_authentication", "FAILURES_ALLOWED", "WINDOW_SECONDS"]

log = logging.getLogger(__name__)

FAILURES_ALLOWED = 20
WINDOW_SECONDS = 60


def note_failed_authentication(rt: Runtime, address: str | None) -> RateLimited | None:
    """Count a failed authentication; return the 429 to answer instead of 401, if over the limit."""
    # Namespaced by the instance's queue name: instances (and test runs) may share one Redis.
    key = f"hackathon:{rt.config['QUEUE_NAME']}:authfail:{address or 'unknown'}"
    try:
        pipe = rt.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS, nx=True)
        pipe.ttl(key)
        failures, _, ttl = pipe.execute()
    except redis.RedisError as exc:
        log.warning("failed-authentication counter unavailable (%s); not throttling", type(exc).__name__)
        return None
    if failures <= FAILURES_ALLOWED:
        return None
    if failures == FAILURES_ALLOWED + 1:
        log.warning("throttling failed authentications from %s (%s in %s s)", address, failures, WINDOW_SECONDS)
    retry = max(int(ttl), 1)
    return RateLimited(msg("too many failed authentications from your address (%(failures)s in the last "
                           "%(window)s s); check your token and try again in %(retry)s s",
                           failures=failures, window=WINDOW_SECONDS, retry=retry),
                       code="too_many_failed_authentications", retry_after=retry)
