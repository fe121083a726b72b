# The floe SLA monitor: `floe sla monitor`, serving /healthz, /readyz, /status, /metrics and
# the SLA report (/) on port 9464. Built from the repository root:
#
#   docker build -t floe-monitor .
#   docker run -p 9464:9464 -v "$PWD/manifest.yaml:/etc/floe/manifest.yaml:ro" \
#     -e FLOE_STATE_URL=postgresql://floe:...@db/floe floe-monitor
#
# Kubernetes manifests: deploy/kubernetes/ (kubectl apply -k deploy/kubernetes).

ARG PYTHON_VERSION=3.11

# Build stage: floe-core and the alert channels into a virtualenv, as the Makefile's `install`
# does (without -e), plus the optional C decoder when it builds (a compiler lives only here).
FROM python:${PYTHON_VERSION}-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY packages/ packages/
RUN python -m venv /opt/floe \
 && /opt/floe/bin/pip install \
      packages/floe-core \
      packages/floe-alert-webhook \
      packages/floe-alert-slack \
      packages/floe-alert-email \
      packages/floe-alert-pagerduty \
      packages/floe-alert-alertmanager \
 && { /opt/floe/bin/pip install packages/floe-speedups \
      || echo "floe-speedups did not build: floe runs without it, more slowly" >&2; }

# Runtime stage: the virtualenv only, run by an unprivileged user.
FROM python:${PYTHON_VERSION}-slim
COPY --from=build /opt/floe /opt/floe
# HOME and the working directory are floe's own: the embedded defaults (./.floe/) and DuckDB
# write there. The numeric UID lets Kubernetes' runAsNonRoot verify it.
RUN groupadd --system --gid 10001 floe \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/floe --create-home floe
ENV PATH=/opt/floe/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /var/lib/floe
USER 10001:10001
EXPOSE 9464
# For `docker run` and Compose; Kubernetes ignores it and uses the Deployment's probes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
# floe runs as PID 1 (exec form, no shell): it receives SIGTERM itself and shuts down.
ENTRYPOINT ["floe", "sla", "monitor"]
CMD ["--manifest", "/etc/floe/manifest.yaml", "--host", "0.0.0.0", "--port", "9464"]
