# syntax=docker/dockerfile:1
# MedBook's image: `docker build -t medbook .` (README, "Containers and Kubernetes").
# One image runs every role; the command picks it: gunicorn (the default), a Celery worker,
# Celery beat, or `python manage.py migrate` (the migrate Job / compose's migrate service).

# -- build: the pinned requirements as wheels, installed into a virtualenv ---------------------
FROM python:3.11.14-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY requirements.txt .
RUN python -m venv /opt/venv \
    && pip wheel --wheel-dir /wheels -r requirements.txt \
    && /opt/venv/bin/pip install --no-index --find-links /wheels -r requirements.txt

COPY . .
# Static files are collected once, here, with the manifest storage production uses. The
# throw-away secrets the embedded settings generate for this step stay in this stage.
RUN DJANGO_DEBUG=false STATIC_MANIFEST=true MEDBOOK_DEV_SECRETS=true \
    MEDBOOK_VAR_DIR=/tmp/collectstatic STATIC_ROOT=/src/staticfiles \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/collectstatic

# -- runtime: Python, the virtualenv, the code and the collected static files; no compilers ----
FROM python:3.11.14-slim-bookworm AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=medbook.settings \
    STATIC_ROOT=/app/staticfiles \
    MEDBOOK_VAR_DIR=/tmp/medbook \
    MEDBOOK_EXPORT_DIR=/exports \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    GUNICORN_BIND=0.0.0.0:8000 \
    LOG_FORMAT=json

RUN groupadd --system --gid 10001 medbook \
    && useradd --system --uid 10001 --gid medbook --home-dir /app --shell /usr/sbin/nologin medbook \
    && install -d -o medbook -g medbook /tmp/medbook /tmp/prometheus /exports

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=root:root /src /app
COPY --chmod=0755 deploy/entrypoint.sh /usr/local/bin/medbook-entrypoint

USER 10001:10001
EXPOSE 8000

# Liveness only: /healthz asks no dependency (README, "Running in production").
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys,urllib.request;sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz',timeout=2).status!=200)"]

ENTRYPOINT ["/usr/local/bin/medbook-entrypoint"]
CMD ["gunicorn", "-c", "python:medbook.gunicorn_conf", "medbook.wsgi"]
