# One image for the api, worker and migrate services of docker-compose.yml.
# Debian 13 (trixie): its postgresql-client-17 can dump and restore the PostgreSQL 16 server of
# docker-compose.yml (pg_dump refuses servers newer than itself; bookworm's client is 15).
FROM python:3.11-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    MEDIA_DIR=/data/media HOST=0.0.0.0 PORT=8000

# pg_dump / pg_restore for `funrun backup` and `funrun restore` (docs/OPERATIONS.md).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-17 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 funrun && mkdir -p /data/media && chown -R funrun /data

# The code is installed as a wheel (templates, static files, fonts and texts are package data);
# the build directory is removed so nothing shadows the installed packages.
WORKDIR /tmp/build
COPY pyproject.toml README.md ./
COPY app ./app
COPY core ./core
COPY channels ./channels
COPY webhooks ./webhooks
COPY flows ./flows
COPY admin ./admin
COPY workers ./workers
RUN pip install --upgrade pip && pip install . && rm -rf /tmp/build

# The working directory holds only the migration scripts: `funrun migrate` looks for alembic.ini
# and alembic/ in the working directory first (tests/foundation/test_wheel.py runs it like this).
WORKDIR /srv/funrun
COPY alembic.ini ./
COPY alembic ./alembic

USER funrun
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1
CMD ["funrun", "serve"]
