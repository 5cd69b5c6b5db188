"""Who is calling: a role, the team of a team token, the token's name. No Flask here, so that
services, the CLI and tests can build a caller without a request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Role", "TOKEN_ROLES", "ISSUED_ROLES", "Caller", "ANONYMOUS"]


class Role(StrEnum):
    """A caller's role. The values of the three token roles are what `tokens.role` stores."""

    TEAM = "team"
    ORGANIZER = "organizer"
    JUDGE = "judge"
    PUBLIC = "public"  # no token; never stored


# Roles a stored token may hold; the public holds no token.
TOKEN_ROLES = (Role.TEAM, Role.ORGANIZER, Role.JUDGE)
# Roles `hackathon token create` issues; team tokens come with the team.
ISSUED_ROLES = (Role.ORGANIZER, Role.JUDGE)


@dataclass(frozen=True)
class Caller:
    """Who is calling. `role` also accepts the stored string ("team") and None (the public)."""

    role: Role
    name: str = "public"
    team_id: int | None = None

    def __post_init__(self) -> None:
        role = Role.PUBLIC if self.role is None else Role(self.role)
        object.__setattr__(self, "role", role)


ANONYMOUS = Caller(role=Role.PUBLIC)
