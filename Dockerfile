# syntax=docker/dockerfile:1
# Incident Recorder container image.
#   docker build -t incident-recorder .
#   docker run -p 9470:9470 -v recorder-data:/var/lib/recorder incident-recorder
# The default database is SQLite in the /var/lib/recorder volume; set
# RECORDER_DATABASE_URL=postgresql://... to run several replicas (deploy/kubernetes).

# --- builder: install the project exactly as the tests do (`pip install .`) into a venv
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# .dockerignore lets in only what the package build needs.
COPY . .
RUN pip install --no-cache-dir .

# --- runtime: the venv and nothing else from the build
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RECORDER_LISTEN=0.0.0.0:9470 \
    RECORDER_DATABASE_URL=sqlite:////var/lib/recorder/recorder.db

RUN groupadd --system --gid 10001 recorder \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /var/lib/recorder --shell /usr/sbin/nologin recorder \
    && mkdir -p /var/lib/recorder \
    && chown 10001:10001 /var/lib/recorder

COPY --from=builder /opt/venv /opt/venv

WORKDIR /var/lib/recorder
VOLUME ["/var/lib/recorder"]
USER 10001:10001
EXPOSE 9470

# No curl in slim images: ask /healthz with the standard library, on the port
# RECORDER_LISTEN names (the daemon may be bound to 0.0.0.0, so ask over loopback).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('RECORDER_LISTEN', '0.0.0.0:9470').rpartition(':')[2] or '9470'; urllib.request.urlopen('http://127.0.0.1:' + port + '/healthz', timeout=4)"]

ENTRYPOINT ["recorder"]
CMD ["serve"]
