# syntax=docker/dockerfile:1
# Prodbug image: web (default CMD), worker and beat all run from it; see docker-compose.yml.

# --- Vendor assets (the slim Python image has no Node) --------------------------------------
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
 && mkdir -p static/vendor \
 && cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js \
 && cp -r node_modules/speedscope/dist/release static/vendor/speedscope

# --- Application ----------------------------------------------------------------------------
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    PRODBUG_VAR_DIR=/data

RUN useradd --system --create-home --home-dir /home/prodbug --uid 10001 --user-group prodbug \
 && mkdir -p /data \
 && chown prodbug:prodbug /data

WORKDIR /app

# Runtime dependencies straight from pyproject.toml (the project itself ships no packages:
# it runs from /app via PYTHONPATH). Own layer, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY . .
COPY --from=assets /src/static/vendor/ static/vendor/

# Static files go to /app/var/staticfiles (STATIC_ROOT is in the code tree; WhiteNoise serves
# them). A throwaway SECRET_KEY keeps settings from writing a key file into the image, and
# REDIS_URL keeps them from creating filesystem-broker folders; neither is contacted.
RUN SECRET_KEY=collectstatic-only REDIS_URL=redis://unused:6379/0 \
    python manage.py collectstatic --noinput -v 0

USER prodbug
EXPOSE 8000
CMD ["gunicorn", "prodbug_site.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
