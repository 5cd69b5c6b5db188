"""The access policy: every decision for every role and competition state, the README table that
states it, the errors a denial becomes, and that views hold no role checks of their own."""

from __future__ import annotations

import ast
import itertools
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.caller import ANONYMOUS, Caller, Role
from server.errors import Forbidden, NotFound, Unauthorized
from server.models import ROLES, Competition, Submission
from server.services import access

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 8, 8, 3, 0, tzinfo=UTC)
OWN_TEAM, OTHER_TEAM = 1, 2

CALLERS = {
    Role.PUBLIC: ANONYMOUS,
    Role.TEAM: Caller(Role.TEAM, "Alpha", OWN_TEAM),
    Role.JUDGE: Caller(Role.JUDGE, "Committee"),
    Role.ORGANIZER: Caller(Role.ORGANIZER, "Org"),
}
STATES = ("open", "frozen", "published")  # upcoming and closed decide as open: nothing is frozen


def competition(state: str) -> Competition:
    return Competition(slug="tiny", frozen_at=T0 if state != "open" else None,
                       published_at=T0 if state == "published" else None)


def submission(team_id: int) -> Submission:
    return Submission(id="a" * 32, competition_id=1, team_id=team_id)


# (role, state) → (private scores, award, audit, own submission, other team's submission, own file,
# other team's file, list submissions, submit and choose finals, manage). README "Who sees what".
Y, N = True, False
TABLE = {
    (Role.PUBLIC, "open"):         (N, N, N, N, N, N, N, N, N, N),
    (Role.PUBLIC, "frozen"):       (N, N, N, N, N, N, N, N, N, N),
    (Role.PUBLIC, "published"):    (Y, N, N, N, N, N, N, N, N, N),
    (Role.TEAM, "open"):           (N, N, N, Y, N, Y, N, Y, Y, N),
    (Role.TEAM, "frozen"):         (N, N, N, Y, N, Y, N, Y, Y, N),
    (Role.TEAM, "published"):      (Y, N, N, Y, N, Y, N, Y, Y, N),
    (Role.JUDGE, "open"):          (N, N, N, Y, Y, Y, Y, Y, N, N),
    (Role.JUDGE, "frozen"):        (Y, Y, Y, Y, Y, Y, Y, Y, N, N),
    (Role.JUDGE, "published"):     (Y, Y, Y, Y, Y, Y, Y, Y, N, N),
    (Role.ORGANIZER, "open"):      (Y, Y, Y, Y, Y, Y, Y, Y, N, Y),
    (Role.ORGANIZER, "frozen"):    (Y, Y, Y, Y, Y, Y, Y, Y, N, Y),
    (Role.ORGANIZER, "published"): (Y, Y, Y, Y, Y, Y, Y, Y, N, Y),
}


def decisions(caller: Caller, comp: Competition) -> tuple[bool, ...]:
    own, other = submission(OWN_TEAM), submission(OTHER_TEAM)
    assert access.can_choose_finals(caller) == access.can_submit(caller)
    return (access.can_see_private_scores(caller, comp), access.can_read_award(caller, comp),
            access.can_read_audit(caller, comp), access.can_read_submission(caller, own),
            access.can_read_submission(caller, other), access.can_download_submission_file(caller, own),
            access.can_download_submission_file(caller, other), access.can_list_submissions(caller),
            access.can_submit(caller), access.can_manage(caller))


@pytest.mark.parametrize(("role", "state"), sorted(TABLE, key=lambda k: (list(Role).index(k[0]), k[1])))
def test_each_decision_for_each_role_and_state(role: Role, state: str) -> None:
    assert decisions(CALLERS[role], competition(state)) == TABLE[(role, state)]


def test_every_role_and_state_is_in_the_table() -> None:
    assert set(TABLE) == {(role, state) for role in Role for state in STATES}


def _readme_table() -> dict[str, dict[Role, str]]:
    """function name → role → cell, from the README's "Who sees what" table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Who sees what (access policy)", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`can_" in line]
    header = next(line for line in section.splitlines() if line.startswith("| Decision"))
    roles = [Role(cell.strip()) for cell in header.strip("|").split("|")[1:]]
    table: dict[str, dict[Role, str]] = {}
    for row in rows:
        first, *cells = [cell.strip() for cell in row.strip("|").split("|")]
        for name in re.findall(r"`(can_\w+)`", first):
            table[name] = dict(zip(roles, cells, strict=True))
    return table


def _readme_says(cell: str, state: str, own: bool, mode: str = "exact") -> bool:
    return {"always": True, "never": False, "frozen": state != "open", "published": state == "published",
            "own team's": own, "not ladder, or published": mode != "ladder" or state == "published"}[cell]


def test_the_readme_table_is_what_the_module_decides() -> None:
    table = _readme_table()
    public_functions = {n for n in access.__all__ if n.startswith("can_")}
    assert set(table) == public_functions, "every can_* function has a README row, and only those"
    for name, cells in table.items():
        function = getattr(access, name)
        for role, cell in cells.items():
            for state, mode in itertools.product(STATES, ("exact", "rounded", "ladder")):
                comp = competition(state)
                comp.public_feedback = mode
                for team_id in (OWN_TEAM, OTHER_TEAM):
                    if name in ("can_see_private_scores", "can_see_public_scores", "can_read_award", "can_read_audit",
                                "can_verify", "can_read_action_log"):
                        args: tuple[object, ...] = (comp,)
                    elif name in ("can_read_submission", "can_download_submission_file"):
                        args = (submission(team_id),)
                    else:
                        args = ()
                    expected = _readme_says(cell, state, team_id == OWN_TEAM, mode)
                    assert function(CALLERS[role], *args) == expected, (name, role, state, mode, team_id)


def test_a_denial_is_401_without_a_token_403_with_another_role_404_for_another_teams_submission() -> None:
    team, judge = CALLERS[Role.TEAM], CALLERS[Role.JUDGE]
    with pytest.raises(Unauthorized, match="needs a token"):
        access.check_gate(ANONYMOUS, access.MANAGE)
    with pytest.raises(Forbidden, match="a team token cannot do this; it needs role organizer"):
        access.check_gate(team, access.MANAGE)
    with pytest.raises(Forbidden, match="once it is frozen"):
        access.check_award(judge, competition("open"))
    with pytest.raises(Forbidden, match="a team token cannot do this; it needs role organizer or judge"):
        access.check_award(team, competition("published"))
    with pytest.raises(Forbidden, match="judges can download the audit of 'tiny' once it is frozen"):
        access.check_audit(judge, competition("open"))
    with pytest.raises(Forbidden, match="hidden until the organizers publish"):
        access.check_private_board(team, competition("frozen"))
    for sub in (submission(OTHER_TEAM), None):  # another team's id reads like an unknown one
        with pytest.raises(NotFound, match="no submission 'x'"):
            access.check_submission(team, sub, "x")
        with pytest.raises(NotFound, match="no submission 'x'"):
            access.check_submission_file(team, sub, "x")
    assert access.check_list_submissions(team) == OWN_TEAM
    assert access.check_list_submissions(judge) is None  # every team's
    assert access.own_team(team) == OWN_TEAM
    with pytest.raises(Forbidden, match="belongs to no team"):
        access.own_team(Caller(Role.TEAM, "broken row"))
    with pytest.raises(Forbidden, match="belongs to no team"):
        access.check_list_submissions(Caller(Role.TEAM, "broken row"))


def test_roles_are_an_enum_over_the_stored_values() -> None:
    assert ROLES == ("team", "organizer", "judge")  # what tokens.role stores, unchanged
    assert Caller("team", "A", 1).role is Role.TEAM and Caller(None).role is Role.PUBLIC
    assert ANONYMOUS.role is Role.PUBLIC and Role.ORGANIZER == "organizer"
    with pytest.raises(ValueError, match="'admin' is not a valid Role"):
        Caller("admin")


# Role checks that belong in services/access.py, not in a view.
ROLE_LOGIC = re.compile(r"\.role\b|\bRole\.|\bis_(organizer|judge|team|public)\b|"
                        r"\b(frozen_at|published_at)\s+is\b|@require\(\s*[\"']")


def test_views_hold_no_role_checks() -> None:
    views = sorted([*(ROOT / "server" / "api").rglob("*.py"), *(ROOT / "server" / "web").rglob("*.py")])
    assert views
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for path in views
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if ROLE_LOGIC.search(line)]
    assert not found, "ask server/services/access.py instead:\n" + "\n".join(found)


def _imports(module: str) -> set[str]:
    path = ROOT / (module.replace(".", "/") + ".py")
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_caller_and_policy_need_no_flask() -> None:
    """Services, the CLI and tests build a Caller and ask the policy without a request."""
    seen: set[str] = set()
    todo = ["server.caller", "server.services.access"]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for name in _imports(module):
            assert name.split(".")[0] not in ("flask", "werkzeug"), f"{module} imports {name}"
            if name.startswith("server.") and (ROOT / (name.replace(".", "/") + ".py")).exists():
                todo.append(name)
    assert {"server.caller", "server.services.access", "server.models"} <= seen
