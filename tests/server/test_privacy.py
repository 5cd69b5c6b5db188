"""Planted private scores appear nowhere a team or the public can look, until they are published.

The routes (every method: reads, and writes with a plausible body) come from the app's URL map,
so a route added later is crawled too: the crawl fails when a route has a path parameter it cannot
fill; a route is left out only with a reason. It runs as the public, as a team (with its own ids
and the other team's) and, before the freeze, as a judge; in the open, frozen and published states.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, jsonify

from server.models import Team
from tests.server.conftest import Env, tiny_predictions

# Each team's private RMSE (shown to 4 decimals) is a value found nowhere else; the public RMSEs
# are 0.125 and 0.25.
PLANTED = {"Alpha": "0.7777", "Beta": "0.5555"}

# Routes the crawl does not visit, each with its reason. Keep it short.
NOT_CRAWLED = {
    "web.static": "the pages' stylesheet and JavaScript modules (server/web/static): files of the repository",
    "static": "Flask's built-in static files (server/static): files of the repository, no database content",
}

# Query strings visited besides the bare path (their endpoints must exist).
QUERIES = {
    "public.leaderboard": ["?split=public", "?split=private"],
    "final.get_audit": ["?format=csv", "?format=json", "?format=csv&table=log"],
}

# Request bodies for write routes (default: an empty JSON object). kwargs of the test client.
BODIES: dict[str, Callable[[World], dict[str, Any]]] = {
    "teams.upload": lambda w: {"data": tiny_predictions(), "content_type": "text/csv"},
    "teams.put_selection": lambda w: {"json": {"submission_ids": [w.subs["Alpha"]]}},
}

# Paths no route serves, visited all the same (error pages must not leak either).
EXTRA_PATHS = ["/api/v1/nowhere", "/nowhere"]


@dataclass
class World:
    """Two teams, each with one scored submission whose private score is planted."""

    env: Env
    slug: str
    tokens: dict[str, str]
    subs: dict[str, str]
    team_ids: dict[str, int]

    def fill(self) -> dict[str, list[Any]]:
        """Values for each path parameter: the crawling team's own ids and the other team's."""
        return {"slug": [self.slug], "submission_id": [self.subs["Alpha"], self.subs["Beta"]],
                "team_id": [self.team_ids["Alpha"], self.team_ids["Beta"]],
                # Data files are public; the crawl still checks that no download carries a private score.
                "name": ["sample_submission.csv", "labels.csv"],
                # Verify runs: a judge sees them once frozen, a team never (the crawl makes none; 1 is unknown).
                "verification_id": [1]}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    endpoint: str


def crawl_plan(app: Flask, fill: dict[str, list[Any]]) -> tuple[list[Request], list[str]]:
    """Every request the crawl makes, from the URL map, and the routes it cannot fill."""
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    stale = (set(NOT_CRAWLED) | set(QUERIES) | set(BODIES)) - endpoints
    problems = [f"NOT_CRAWLED, QUERIES or BODIES name an endpoint that no longer exists: {e}" for e in sorted(stale)]
    plan: list[Request] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_CRAWLED:
            continue
        missing = sorted(set(rule.arguments) - set(fill))
        if missing:
            problems.append(f"route {rule.rule} ({rule.endpoint}) has path parameter(s) {', '.join(missing)} "
                            "that the privacy crawl cannot fill: add values to World.fill, or list the route "
                            "in NOT_CRAWLED with a reason")
            continue
        names = sorted(rule.arguments)
        for combo in itertools.product(*(fill[n] for n in names)):
            built = rule.build(dict(zip(names, combo, strict=False)), append_unknown=False)
            assert built is not None, rule.rule
            path = built[1]
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                for query in ["", *(QUERIES.get(rule.endpoint, []) if method == "GET" else [])]:
                    plan.append(Request(method, path + query, rule.endpoint))
    plan += [Request("GET", path, "(none)") for path in EXTRA_PATHS]
    return plan, problems


@dataclass(frozen=True)
class Seen:
    request: Request
    status: int
    text: str  # headers and body


def full_plan(world: World) -> list[Request]:
    plan, problems = crawl_plan(world.env.app, world.fill())
    assert not problems, "\n".join(problems)
    return plan


def crawl(world: World, token: str | None, plan: list[Request] | None = None) -> Iterator[Seen]:
    for req in full_plan(world) if plan is None else plan:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs = BODIES[req.endpoint](world) if req.endpoint in BODIES else \
            ({} if req.method == "GET" else {"json": {}})
        response = world.env.client.open(req.path, method=req.method, headers=headers, **kwargs)
        body = response.get_data()
        response.close()
        head = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        yield Seen(req, response.status_code, head + "\n\n" + body.decode("utf-8", "replace"))


FIELD_NAMES_ALLOWED = {"/api/v1/openapi.json"}
# Prometheus metrics (numbers about the service, for operators).
TELEMETRY = {"/metrics"}


def leaks(world: World, who: str, token: str | None, plan: list[Request] | None = None) -> list[str]:
    """Where a planted private score (or a private_score field) shows to this caller."""
    found = []
    for seen in crawl(world, token, plan):
        if seen.request.path in TELEMETRY:
            # Operators' counters and durations, never a score: a duration may read 0.5553 s, so
            # here the check is that no series is about scores at all.
            if re.search(r"^\w*score\w*[{ ]", seen.text, re.MULTILINE):
                found.append(f"{who} sees a score series at {seen.request.method} {seen.request.path}")
            continue
        for team, value in PLANTED.items():
            if value[:5] in seen.text:  # "0.777": also unrounded or truncated
                found.append(f"{who} sees {team}'s private score at {seen.request.method} {seen.request.path}")
        # The API's own description names every field (values are checked above all the same).
        describes_fields = seen.request.path in FIELD_NAMES_ALLOWED
        if "private_score" in seen.text and not describes_fields:
            found.append(f"{who} sees a private_score field at {seen.request.method} {seen.request.path}")
    return found


def _make_world(env: Env) -> World:
    env.competition(daily_limit=10)
    tokens = {"Alpha": env.team("Alpha"), "Beta": env.team("Beta")}
    subs = {"Alpha": env.upload(tokens["Alpha"], tiny_predictions(0.125, private_offset=0.7777)).json["id"],
            "Beta": env.upload(tokens["Beta"], tiny_predictions(0.25, private_offset=0.5555)).json["id"]}
    env.work()
    with env.rt.session() as session:
        team_ids = {name: id_ for name, id_ in session.execute(sa.select(Team.name, Team.id)).all()}
    world = World(env, "tiny", tokens, subs, team_ids)
    for team, value in PLANTED.items():  # planted and recorded
        assert env.get(f"/api/v1/submissions/{subs[team]}", env.organizer).json["private_score"] == float(value)
    return world


def _responses(world: World, token: str | None) -> dict[str, Seen]:
    return {f"{s.request.method} {s.request.path}": s for s in crawl(world, token)}


def test_private_scores_stay_hidden_until_publish_and_then_show_where_allowed(env: Env) -> None:
    world = _make_world(env)
    alpha = world.tokens["Alpha"]
    a_sub, b_sub = world.subs["Alpha"], world.subs["Beta"]
    # Open: the public, a team (its own and the other team's ids) and a judge see no private score.
    found = leaks(world, "public", None) + leaks(world, "team", alpha) + leaks(world, "judge", env.judge)
    # Frozen: judges may now; the public and teams still may not.
    env.work()  # the crawl's own upload
    env.advance(days=8)
    assert env.client.post("/api/v1/competitions/tiny/freeze", json={},
                           headers={"Authorization": f"Bearer {env.organizer}"}).status_code == 200
    found += leaks(world, "public (frozen)", None) + leaks(world, "team (frozen)", alpha)
    assert not found, "\n".join(found)

    # The crawl reached real content, not only refusals.
    as_team = _responses(world, alpha)
    assert as_team[f"GET /api/v1/submissions/{a_sub}"].status == 200
    assert "0.125" in as_team[f"GET /api/v1/submissions/{a_sub}"].text
    assert as_team[f"GET /api/v1/submissions/{a_sub}/file"].status == 200
    for path in (f"/api/v1/submissions/{b_sub}", f"/api/v1/submissions/{b_sub}/file"):
        assert as_team[f"GET {path}"].status == 404, path  # another team's id reads as unknown

    # Published: everyone sees the private board; a team its own private scores; still not the
    # award or the audit, nor another team's submission.
    assert env.client.post("/api/v1/competitions/tiny/publish", json={},
                           headers={"Authorization": f"Bearer {env.organizer}"}).status_code == 200
    public, as_team = _responses(world, None), _responses(world, alpha)
    for seen in (public, as_team):
        for path in ("GET /api/v1/competitions/tiny/leaderboard?split=private", "GET /competitions/tiny/leaderboard"):
            assert seen[path].status == 200 and all(v in seen[path].text for v in PLANTED.values()), path
    for path in (f"GET /api/v1/submissions/{a_sub}", "GET /api/v1/competitions/tiny/submissions"):
        assert PLANTED["Alpha"] in as_team[path].text and '"private_score"' in as_team[path].text, path
        assert PLANTED["Beta"] not in as_team[path].text, path
    for path in ("GET /api/v1/competitions/tiny/award", "GET /api/v1/competitions/tiny/audit?format=json",
                 f"GET /api/v1/submissions/{b_sub}"):
        assert as_team[path].status in (403, 404) and PLANTED["Beta"] not in as_team[path].text, path
        assert public[path].status == 401, path


def test_a_new_route_cannot_escape_the_crawl(make_env: Callable[..., Env]) -> None:
    """A route added without telling the crawl fails it; one it can fill is crawled and caught."""
    env = make_env()

    def leak(slug: str) -> Any:  # a careless new route: every submission with its private score
        from server.models import Submission

        with env.rt.session() as session:
            return jsonify([{"private_score": s.private_score} for s in session.scalars(sa.select(Submission))])

    env.app.add_url_rule("/api/v1/competitions/<slug>/everything", "careless.leak", leak)
    env.app.add_url_rule("/api/v1/competitions/<slug>/widgets/<widget>", "careless.widget", lambda slug, widget: "")
    world = _make_world(env)
    plan, problems = crawl_plan(env.app, world.fill())
    assert len(problems) == 1 and "/widgets/<widget> (careless.widget)" in problems[0], problems
    found = leaks(world, "public", None, plan)
    where = "GET /api/v1/competitions/tiny/everything"
    assert found == [f"public sees {team}'s private score at {where}" for team in PLANTED] + \
        [f"public sees a private_score field at {where}"]


@pytest.mark.parametrize("endpoint", sorted(NOT_CRAWLED))
def test_every_route_left_out_has_a_reason(endpoint: str) -> None:
    assert len(NOT_CRAWLED[endpoint]) > 20
