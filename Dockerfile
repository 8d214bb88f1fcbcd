# syntax=docker/dockerfile:1
# leadrelay: multi-stage build on a slim Python base, installing the same locked versions as the Makefile.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/leadrelay
COPY requirements.lock ./
RUN /opt/leadrelay/bin/pip install --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY connector ./connector
COPY adapters ./adapters
RUN /opt/leadrelay/bin/pip install --no-deps .

FROM python:3.11-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="leadrelay" \
      org.opencontainers.image.description="Open-source lead-routing daemon for HubSpot and Salesforce" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 leadrelay \
    && useradd --system --uid 10001 --gid leadrelay --home-dir /data --shell /usr/sbin/nologin leadrelay \
    && mkdir -p /data /etc/leadrelay \
    && chown leadrelay:leadrelay /data
COPY --from=build /opt/leadrelay /opt/leadrelay
COPY config/ /etc/leadrelay/
COPY docs/openapi.yaml /opt/leadrelay/share/leadrelay/openapi.yaml
ENV PATH="/opt/leadrelay/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    LEADRELAY_LOG_FORMAT=json
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["leadrelay"]
CMD ["run", "--config", "/etc/leadrelay/leadrelay.yaml"]
