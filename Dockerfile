# syntax=docker/dockerfile:1
# The API with its database built in: `docker build -t newsfacts . && docker run -p 8000:8000 newsfacts`.

FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
# A C compiler for mypyc, which compiles the request path (setup.py); only this stage has it.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/prod.txt requirements/prod.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --quiet --require-hashes --no-deps -r requirements/prod.txt
COPY alembic.ini pyproject.toml setup.py ./
COPY app app
COPY migrations migrations
COPY seeds seeds
# Compiled as the Makefile compiles it; the compiler (mypy) is removed once it has run, but not
# mypy-extensions, whose `mypyc_attr` app/dataset.py imports. The database is built from seeds/ now, so
# the image serves the moment it starts.
RUN NEWSFACTS_COMPILE=1 /opt/venv/bin/pip install --quiet --no-deps --no-build-isolation -e . \
 && rm -rf build .mypy_cache \
 && /opt/venv/bin/python -c "import app; assert app.COMPILED, 'nothing was compiled'" \
 && /opt/venv/bin/pip uninstall --quiet --yes mypy librt ast-serialize pathspec \
 && /opt/venv/bin/python -m app load --quiet \
 && /opt/venv/bin/python -m compileall -q app migrations /opt/venv/lib

FROM python:3.12-slim
LABEL org.opencontainers.image.title="newsfacts" \
      org.opencontainers.image.description="The facts of news articles, each traceable to its source."
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin newsfacts
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=root:root /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 PORT=8000 WORKERS=1 LOG_FORMAT=json
USER newsfacts
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health\", timeout=4).status != 200)"]
# --no-load: the image's database was built with it; a PostgreSQL DATABASE_URL is loaded by a separate
# `python -m app load` job, never by each replica.
CMD ["python", "-m", "app", "serve", "--no-load"]
