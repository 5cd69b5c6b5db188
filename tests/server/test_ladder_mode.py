"""public_feedback = ladder through the API with a real worker: what a team sees, what the board shows."""

from __future__ import annotations

import json

from tests.server.conftest import N_ROWS, Env, tiny_predictions


def _one_row_better() -> bytes:
    """Off by 1 everywhere except the public row T000: an improvement of a single row."""
    lines = tiny_predictions(1.0).decode().splitlines()
    lines[1] = "T000,0.0"
    return ("\n".join(lines) + "\n").encode()


def _subs(env: Env, token: str) -> list[dict]:
    return env.get("/api/v1/competitions/tiny/submissions", token).get_json()["submissions"]


def test_ladder_mode_shows_only_the_ladder_value(env: Env) -> None:
    env.competition(public_feedback="ladder", daily_limit=20)
    token = env.team("래더")
    for data in (tiny_predictions(2.0), tiny_predictions(1.0), _one_row_better(), tiny_predictions(1.0)):
        assert env.upload(token, data).status_code == 202
        env.work()
        env.advance(minutes=1)
    subs = _subs(env, token)
    assert [s["ladder"] for s in subs] == ["improved", "improved", "not_significant", "not_significant"]
    assert [s["ladder_score"] for s in subs] == [2.0, 1.0, 1.0, 1.0]
    assert all(s["public_score"] is None for s in subs)
    for sub in subs:
        assert env.get(f"/api/v1/submissions/{sub['id']}", token).get_json()["public_score"] is None
    board = env.get("/api/v1/competitions/tiny/leaderboard").get_json()
    assert [(e["score"], e["submission_id"]) for e in board["entries"]] == [(1.0, subs[1]["id"])]
    assert env.get("/api/v1/competitions/tiny").get_json()["public_feedback"] == "ladder"
    page = env.get("/competitions/tiny/rules").get_data(as_text=True)  # the rules tab names the mode
    assert "Ladder" in page and "0.9487" not in page
    assert "0.9487" not in env.get("/competitions/tiny/leaderboard").get_data(as_text=True)
    # Organizers and judges still see every public score.
    org = env.get("/api/v1/competitions/tiny/submissions", env.organizer).get_json()["submissions"]
    assert [s["public_score"] for s in org] == [2.0, 1.0, 0.9487, 1.0]
    # After the freeze, the public board a team reads is still the Ladder board.
    env.advance(days=8)
    assert env.client.post("/api/v1/competitions/tiny/freeze",
                           headers={"Authorization": f"Bearer {env.organizer}"}).status_code == 200
    board = env.get("/api/v1/competitions/tiny/leaderboard", token).get_json()
    assert [e["score"] for e in board["entries"]] == [1.0]
    text = json.dumps(_subs(env, token))
    assert "0.9487" not in text


def test_probe_signs_flag_a_few_row_prober(env: Env) -> None:
    env.competition(daily_limit=20)
    prober, honest = env.team("prober"), env.team("honest")
    base = tiny_predictions(1.0).decode().splitlines()
    for k in range(4):
        lines = list(base)
        row = 1 + k
        ident, value = lines[row].split(",")
        lines[row] = f"{ident},{float(value) + 0.5}"
        env.upload(prober, ("\n".join(lines) + "\n").encode())
        env.advance(minutes=1)
    for offset in (1.0, 0.5):
        env.upload(honest, tiny_predictions(offset))
        env.advance(minutes=1)
    env.work()
    constant = "id,y\n" + "".join(f"T{i:03d},3.0\n" for i in range(N_ROWS))
    env.upload(honest, constant.encode())
    env.work()
    assert env.get("/api/v1/competitions/tiny/probes", env.judge).status_code == 403
    assert env.get("/api/v1/competitions/tiny/probes", honest).status_code == 403
    report = env.get("/api/v1/competitions/tiny/probes", env.organizer).get_json()
    teams = {t["team"]: t for t in report["teams"]}
    assert teams["prober"]["flagged"] and teams["prober"]["few_row_changes"] == 3
    assert teams["prober"]["min_changed_rows"] == 2  # each probe reverts the last row and changes the next
    assert not teams["honest"]["flagged"] and teams["honest"]["near_constant"] == 1


def test_switching_to_ladder_mode_shows_ladder_values_from_the_next_submission(env: Env) -> None:
    from server.services.competitions import CompetitionSettings, update_competition

    env.competition(daily_limit=20)
    token = env.team("switcher")
    env.upload(token, tiny_predictions(1.0))
    env.work()
    env.advance(minutes=1)
    update_competition(env.rt, "tiny", CompetitionSettings(public_feedback="ladder"), actor="test")
    assert _subs(env, token)[0]["public_score"] is None  # hidden at once, also for the earlier submission
    env.upload(token, _one_row_better())
    env.work()
    subs = _subs(env, token)
    assert [s["ladder"] for s in subs] == [None, "improved"]  # the first judged submission has nothing to beat
    update_competition(env.rt, "tiny", CompetitionSettings(public_feedback="exact"), actor="test")
    board = env.get("/api/v1/competitions/tiny/leaderboard").get_json()["entries"]
    assert board[0]["score"] == 0.9487  # exact again: the best public score, refreshed at the switch
