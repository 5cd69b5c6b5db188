#!/bin/sh
# Smoke test of an installed server (in the image: `hackathon-smoke`): migrate, serve, a worker,
# an upload, its score, /metrics. Uses a fresh instance in a temporary folder, SQLite and the
# embedded queue, so it needs nothing else running. Exit 0 when the upload is scored.
set -eu
HACKATHON_HOME=$(mktemp -d "${TMPDIR:-/tmp}/smoke.XXXXXX")
export HACKATHON_HOME
PORT=${SMOKE_PORT:-18000}
PY=$(command -v python3)
SERVER=""
WORKER=""
cleanup() {
  [ -n "$WORKER" ] && kill "$WORKER" 2>/dev/null && wait "$WORKER" 2>/dev/null || true
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  rm -rf "$HACKATHON_HOME"
}
trap cleanup EXIT INT TERM
say() { echo "smoke: $*" >&2; }

mkdir -p "$HACKATHON_HOME/task"
cat > "$HACKATHON_HOME/task/task.toml" <<'TOML'
[task]
slug = "smoke"
title_ko = "스모크"
title_en = "Smoke"
description_ko = "점검"
description_en = "check"
id_column = "id"
[metric]
name = "root_mean_squared_error"
[[targets]]
name = "y"
kind = "number"
TOML
"$PY" - "$HACKATHON_HOME" <<'PYTHON'
import sys
home = sys.argv[1]
with open(f"{home}/task/labels.csv", "w") as f:
    f.write("id,y,Usage\n" + "".join(f"T{i},{i},{'Public' if i % 2 else 'Private'}\n" for i in range(20)))
with open(f"{home}/pred.csv", "w") as f:
    f.write("id,y\n" + "".join(f"T{i},{i + 0.5}\n" for i in range(20)))
PYTHON

say "migrate"
hackathon init
hackathon competition create --task "$HACKATHON_HOME/task" --labels "$HACKATHON_HOME/task/labels.csv" \
  --start 2020-01-01T00:00 --end 2099-01-01T00:00 >/dev/null
TOKEN=$(hackathon team create "Smoke team")
say "serve on port $PORT (embedded queue, no embedded workers)"
hackathon serve --host 127.0.0.1 --port "$PORT" --workers 0 &
SERVER=$!
"$PY" - "$PORT" <<'PYTHON'
import json, sys, time, urllib.request
deadline = time.monotonic() + 90
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as r:
            if json.load(r)["ok"]:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("smoke: the server did not become healthy in 90 s")
    time.sleep(0.5)
PYTHON
say "a worker"
hackathon worker &
WORKER=$!
say "upload and wait for the score"
RESULT=$(hackathon submit --server "http://127.0.0.1:$PORT" --token "$TOKEN" --competition smoke \
  "$HACKATHON_HOME/pred.csv" --wait --json)
echo "$RESULT"
echo "$RESULT" | "$PY" -c "import json, sys; s = json.load(sys.stdin); assert s['status'] == 'scored' and s['public_score'] == 0.5, s"
"$PY" - "$PORT" <<'PYTHON'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10).read().decode()
assert 'hackathon_submissions{competition="smoke",status="scored"} 1.0' in text, text[:2000]
assert 'hackathon_scoring_duration_seconds_count{status="scored",task="smoke"} 1.0' in text, text[:2000]
PYTHON
say "ok: migrated, served, scored by a worker, counted in /metrics"
