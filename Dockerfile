# The competition server: one image for `hackathon serve` (web) and `hackathon worker`.
# Built FROM debian:bookworm-slim (the base the build tool here can make without a registry).
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-pip ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*

ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HACKATHON_HOME=/data
RUN python3 -m venv $VIRTUAL_ENV

WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY scoring ./scoring
COPY datasets ./datasets
RUN pip install --no-cache-dir . && useradd --system --home /data hackathon && mkdir -p /data && chown hackathon /data

USER hackathon
VOLUME /data
EXPOSE 8000
# `serve` runs the web server under gunicorn; with REDIS_URL set it leaves scoring to workers.
CMD ["hackathon", "serve", "--host", "0.0.0.0", "--port", "8000"]
