"""Who may see and do what: the one access policy every API route, page, export and command asks.

Decisions depend only on the caller's role (and team) and the competition's state, never on how
the caller reached us. The README's "Who sees what" table is this module in words; its tests
compare the two.

- private scores: organizers always; judges once the competition is frozen; everyone once published;
- a submission's public score: organizers and judges always; teams and the public except in
  `ladder` mode before publication (they see only the Ladder value: README "Public feedback");
- award standings and audits: organizers always; judges once frozen; nobody else;
- submissions and their files: the owning team, organizers and judges; another team's id reads
  as unknown (404), so ids are not confirmed to exist;
- uploads and final selection: team tokens only; managing (teams, tokens, freeze, publish,
  verification, rescore): organizers only;
- judges are read-only: any state-changing request from a judge is refused (403), except starting a
  verify run, which only reads; verify runs and the checked action log: organizers, judges once frozen.

`can_*` answer yes or no; `check_*` raise the error to show (401 without a token when one would
help, 403 when the token's role cannot, 404 where existence must not be confirmed).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.caller import Caller, Role
from server.errors import Forbidden, NotFound, Unauthorized, msg
from server.models import Competition, Submission

__all__ = [
    "Gate", "MANAGE", "SUBMIT", "READ_SUBMISSIONS", "READ_FINAL",
    "can_manage", "can_submit", "can_choose_finals", "can_list_submissions",
    "can_see_private_scores", "can_see_public_scores", "can_read_award", "can_read_audit",
    "can_read_submission", "can_download_submission_file",
    "check_gate", "check_list_submissions", "check_award", "check_audit", "check_private_board", "check_submission",
    "check_submission_file", "own_team",
    "can_verify", "can_read_action_log", "is_read_only", "check_may_change_state", "check_verify",
    "check_action_log",
    "can_sign_in_to_pages", "can_sign_in_to_console", "can_use_console", "can_use_judge_area", "check_snapshot",
]


@dataclass(frozen=True)
class Gate:
    """A route-level rule: the roles that may call a route at all (per-object rules come after)."""

    name: str
    roles: frozenset[Role]

    def admits(self, caller: Caller) -> bool:
        return caller.role in self.roles

    def describe(self) -> str:
        return " or ".join(r.value for r in Role if r in self.roles)


MANAGE = Gate("manage", frozenset({Role.ORGANIZER}))
SUBMIT = Gate("submit", frozenset({Role.TEAM}))
READ_SUBMISSIONS = Gate("read submissions", frozenset({Role.TEAM, Role.ORGANIZER, Role.JUDGE}))
# Award standings and audits; each also needs can_read_award / can_read_audit for its competition.
READ_FINAL = Gate("read final results", frozenset({Role.ORGANIZER, Role.JUDGE}))


def _frozen(comp: Competition) -> bool:
    return comp.frozen_at is not None


def _published(comp: Competition) -> bool:
    return comp.published_at is not None


# --- decisions -------------------------------------------------------------------------------

def can_manage(caller: Caller) -> bool:
    """Teams, tokens, freeze, publish, verification, eligibility, rescore."""
    return MANAGE.admits(caller)


def can_submit(caller: Caller) -> bool:
    """Uploads: a team token (which always names its team)."""
    return SUBMIT.admits(caller) and caller.team_id is not None


def can_choose_finals(caller: Caller) -> bool:
    """Reading and changing the final selection: the team itself."""
    return can_submit(caller)


def can_list_submissions(caller: Caller) -> bool:
    """Listing a competition's submissions (a team sees only its own: check_list_submissions)."""
    return READ_SUBMISSIONS.admits(caller) and (caller.role is not Role.TEAM or caller.team_id is not None)


def can_see_private_scores(caller: Caller, comp: Competition) -> bool:
    """Private scores: everyone once published; judges once frozen; organizers always."""
    if _published(comp) or caller.role is Role.ORGANIZER:
        return True
    return caller.role is Role.JUDGE and _frozen(comp)


def can_see_public_scores(caller: Caller, comp: Competition) -> bool:
    """Each submission's own public score. In `ladder` mode teams and the public see only the
    Ladder value (a raw score per submission is what probing needs) until publication."""
    if caller.role in (Role.ORGANIZER, Role.JUDGE) or _published(comp):
        return True
    return comp.public_feedback != "ladder"


def can_read_award(caller: Caller, comp: Competition) -> bool:
    """Award standings (with disqualification reasons): organizers; judges once frozen. Never the
    public or teams, even after publish: the reasons are for the committee."""
    return caller.role is Role.ORGANIZER or (caller.role is Role.JUDGE and _frozen(comp))


def can_read_audit(caller: Caller, comp: Competition) -> bool:
    """The judges' audit (every submission, hashes, full-precision scores, the action log)."""
    return caller.role is Role.ORGANIZER or (caller.role is Role.JUDGE and _frozen(comp))


def can_verify(caller: Caller, comp: Competition) -> bool:
    """Start a verify run (re-hash and re-score everything) and read its reports: organizers;
    judges once frozen (a report names scores, private ones included)."""
    return caller.role is Role.ORGANIZER or (caller.role is Role.JUDGE and _frozen(comp))


def can_read_action_log(caller: Caller, comp: Competition) -> bool:
    """One competition's action-log entries with the chain check: as the audit."""
    return can_read_audit(caller, comp)


def is_read_only(caller: Caller) -> bool:
    """Judges check and never change: every state-changing request of theirs is refused."""
    return caller.role is Role.JUDGE


def can_read_submission(caller: Caller, sub: Submission) -> bool:
    """One submission's object: its team, organizers and judges."""
    if caller.role in (Role.ORGANIZER, Role.JUDGE):
        return True
    return caller.role is Role.TEAM and caller.team_id is not None and sub.team_id == caller.team_id


def can_download_submission_file(caller: Caller, sub: Submission) -> bool:
    """The uploaded bytes: whoever may read the submission (judges re-score them)."""
    return can_read_submission(caller, sub)


def can_sign_in_to_pages(caller: Caller) -> bool:
    """A browser session may stand for a team, an organizer or a judge (each sees its own pages)."""
    return can_submit(caller) or can_sign_in_to_console(caller)


def can_sign_in_to_console(caller: Caller) -> bool:
    """The console's sign-in form admits organizer and judge tokens (teams use /signin)."""
    return READ_FINAL.admits(caller)


def can_use_console(caller: Caller) -> bool:
    """The organizer console (/console/...): every page and form of it, read or write."""
    return can_manage(caller)


def can_use_judge_area(caller: Caller) -> bool:
    """The judges' read-only area (/judge/...): judges, and organizers checking what judges see."""
    return READ_FINAL.admits(caller)


# --- the errors a denial becomes ------------------------------------------------------------

def _denied(caller: Caller, gate: Gate) -> Unauthorized | Forbidden:
    if caller.role is Role.PUBLIC:
        return Unauthorized(msg("this needs a token: send 'Authorization: Bearer <token>' (role %(roles)s)",
                                roles=gate.describe()))
    return Forbidden(msg("a %(role)s token cannot do this; it needs role %(roles)s", role=caller.role.value,
                         roles=gate.describe()))


def check_gate(caller: Caller, gate: Gate) -> None:
    """Raise 401 (no token) or 403 (a token of another role) unless the gate admits the caller."""
    if not gate.admits(caller):
        raise _denied(caller, gate)


def own_team(caller: Caller) -> int:
    """The caller's own team (uploads, final selection), or raise 401/403."""
    if not can_submit(caller):
        check_gate(caller, SUBMIT)
        raise Forbidden(msg("this token belongs to no team"))  # a team token always has one; a broken row
    assert caller.team_id is not None
    return caller.team_id


def check_list_submissions(caller: Caller) -> int | None:
    """The team whose submissions (and final picks) the caller's listing shows; None: every team's."""
    if caller.role is Role.TEAM:
        return own_team(caller)
    check_gate(caller, READ_SUBMISSIONS)
    return None


def check_private_board(caller: Caller, comp: Competition) -> None:
    if not can_see_private_scores(caller, comp):
        raise Forbidden(msg("the private leaderboard is hidden until the organizers publish the final standings"))


def check_award(caller: Caller, comp: Competition) -> None:
    if can_read_award(caller, comp):
        return
    check_gate(caller, READ_FINAL)
    raise Forbidden(msg("judges see the award standings of '%(slug)s' once it is frozen", slug=comp.slug))


def check_audit(caller: Caller, comp: Competition) -> None:
    if can_read_audit(caller, comp):
        return
    if caller.role is Role.JUDGE:
        raise Forbidden(msg("judges can download the audit of '%(slug)s' once it is frozen", slug=comp.slug))
    check_gate(caller, READ_FINAL)
    raise Forbidden(msg("the audit is for organizers and judges"))


def check_may_change_state(caller: Caller) -> None:
    """Refuse a state-changing request (POST, PUT, PATCH, DELETE) from a read-only caller."""
    if is_read_only(caller):
        raise Forbidden("a judge token is read-only: it cannot change anything on the server "
                        "(it can start a verification, which only reads)")


def check_verify(caller: Caller, comp: Competition) -> None:
    if can_verify(caller, comp):
        return
    if caller.role is Role.JUDGE:
        raise Forbidden(f"judges can verify '{comp.slug}' once it is frozen")
    check_gate(caller, READ_FINAL)
    raise Forbidden("verification is for organizers and judges")


def check_action_log(caller: Caller, comp: Competition | None) -> None:
    """The whole log (comp None): organizers; one competition's entries: as the audit."""
    if comp is not None and can_read_action_log(caller, comp):
        return
    if comp is None and caller.role is Role.ORGANIZER:
        return
    check_gate(caller, READ_FINAL)
    if comp is None:
        raise Forbidden("judges read the action log of one competition: add ?competition=<slug>")
    raise Forbidden(f"judges can read the action log of '{comp.slug}' once it is frozen")

def check_snapshot(caller: Caller, comp: Competition) -> None:
    """The snapshot's canonical JSON holds every private score: the audit's readers, same rule."""
    check_audit(caller, comp)


def check_submission(caller: Caller, sub: Submission | None, submission_id: str) -> Submission:
    """Return the submission if the caller may read it; otherwise 404 (never 403), so that an id
    that exists reads the same as one that does not."""
    if sub is None or not can_read_submission(caller, sub):
        raise NotFound(msg("no submission '%(id)s'", id=submission_id[:64]))
    return sub


def check_submission_file(caller: Caller, sub: Submission | None, submission_id: str) -> Submission:
    if sub is None or not can_download_submission_file(caller, sub):
        raise NotFound(msg("no submission '%(id)s'", id=submission_id[:64]))
    return sub
