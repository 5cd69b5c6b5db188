"""A planted private score appears nowhere a team or the public can look."""

from __future__ import annotations

from tests.server.conftest import Env, tiny_predictions

PLANTED = 0.7777  # the private RMSE of the planted file; public is 0.125


def _crawl(env: Env, token: str | None, sub_id: str) -> dict[str, bytes]:
    paths = [
        "/", "/competitions/tiny", "/healthz",
        "/api/v1/competitions", "/api/v1/competitions/tiny",
        "/api/v1/competitions/tiny/leaderboard", "/api/v1/competitions/tiny/leaderboard?split=public",
        "/api/v1/competitions/tiny/leaderboard?split=private",
        "/api/v1/competitions/tiny/submissions", "/api/v1/competitions/tiny/selection",
        f"/api/v1/submissions/{sub_id}", f"/api/v1/submissions/{sub_id}/file",
        "/api/v1/competitions/tiny/audit?format=csv", "/api/v1/competitions/tiny/audit?format=json",
        "/api/v1/competitions/tiny/award", "/api/v1/nowhere",
    ]
    seen = {}
    for path in paths:
        response = env.get(path, token)
        seen[path] = response.data
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    seen["PUT selection"] = env.client.put("/api/v1/competitions/tiny/selection",
                                           json={"submission_ids": [sub_id]}, headers=headers).data
    seen["POST upload"] = env.client.post("/api/v1/competitions/tiny/submissions", data=tiny_predictions(),
                                          headers={**headers, "Content-Type": "text/csv"}).data
    return seen


def test_private_score_is_invisible_to_teams_and_public(env: Env) -> None:
    env.competition(daily_limit=10)
    alpha = env.team("Alpha")
    sub_id = env.upload(alpha, tiny_predictions(0.125, private_offset=PLANTED)).json["id"]
    env.work()
    organizer_view = env.get(f"/api/v1/submissions/{sub_id}", env.organizer).json
    assert organizer_view["private_score"] == PLANTED  # planted and recorded ...
    for who, token in (("team", alpha), ("public", None)):
        for path, body in _crawl(env, token, sub_id).items():
            text = body.decode("utf-8", "replace")
            assert "0.7777" not in text and "0.777" not in text, f"{who} sees the private score at {path}"
            assert "private_score" not in text, f"{who} sees a private_score field at {path}"
    env.work()  # the crawl's own upload


def test_team_sees_its_private_score_only_after_publish(env: Env) -> None:
    """Visibility is one function: checked here through the submission object."""
    from server.auth import Caller
    from server.services.competitions import get_competition
    from server.services.visibility import can_see_private

    env.competition()
    with env.rt.session() as session:
        comp = get_competition(session, "tiny")
    team, judge, org = Caller("team", "A", 1), Caller("judge", "J"), Caller("organizer", "O")
    assert not can_see_private(team, comp) and not can_see_private(judge, comp) and can_see_private(org, comp)
    comp.frozen_at = env.now
    assert not can_see_private(team, comp) and can_see_private(judge, comp)
    comp.published_at = env.now
    assert can_see_private(team, comp)
