# The competition server: one image for `hackathon serve` (web) and `hackathon worker`.
# Multi-stage: the build stage has pip and compiles the virtual environment; the runtime stage
# copies only that environment (same Debian, same /usr/bin/python3) and runs as a non-root user.
# Built FROM debian:bookworm-slim (the base ../shared/tools/build-image makes here without a registry).
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-pip ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
COPY scoring ./scoring
COPY datasets ./datasets
COPY codecomp ./codecomp
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check .

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates tzdata bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /home/hackathon --uid 10001 hackathon \
 && mkdir -p /data && chown hackathon /data
COPY --from=build /opt/venv /opt/venv
COPY scripts/smoke.sh /usr/local/bin/hackathon-smoke
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HACKATHON_HOME=/data HACKATHON_HOST=0.0.0.0 HACKATHON_PORT=8000
USER hackathon
WORKDIR /data
EXPOSE 8000
# The web server's health (database and queue reachable); compose gives workers their own check.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HACKATHON_PORT', '8000'), timeout=4)"]
# `serve` runs the web server under gunicorn; with REDIS_URL set it leaves scoring to the workers.
CMD ["hackathon", "serve"]
