"""Prodbug settings: one file, driven by the environment.

Embedded default (nothing set): SQLite and Celery's filesystem broker under `var/`.
Production: DATABASE_URL (PostgreSQL) and REDIS_URL.
"""

import secrets
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from prodbug_site.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PRODBUG_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/."""
    configured = env_str("SECRET_KEY")
    if configured:
        return configured
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "prodbug_site",
    "accounts",
    "services",
    "sessions.apps.SessionsConfig",
    "flags",
    "profiling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "prodbug_site.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "prodbug_site.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "prodbug_site.urls"
WSGI_APPLICATION = "prodbug_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "prodbug_site.context_processors.roles",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "prodbug.sqlite3",
            "OPTIONS": {
                # Web, worker and beat share the file: WAL lets readers run beside a writer,
                # IMMEDIATE takes the write lock up front so no transaction dies mid-way.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory, so a Celery worker started by the tests sees the test data.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "sessions:list"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# --- I18N / time --------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "/static/"
# Built into the code tree (also in images), independent of where runtime data lives.
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security -----------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy, cookies become Secure and the scheme is trusted.
HTTPS = env_bool("PRODBUG_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("PRODBUG_HSTS_SECONDS", 3600, minimum=0)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep our structlog handlers; Celery would otherwise replace the root logger.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "heartbeat": {"task": "prodbug_site.tasks.heartbeat", "schedule": 30.0},
}

# --- Prodbug ------------------------------------------------------------------------------
PRODBUG_POLL_INTERVAL_S = env_int("PRODBUG_POLL_INTERVAL_S", 2, minimum=1)
PRODBUG_HEALTH_INTERVAL_S = env_int("PRODBUG_HEALTH_INTERVAL_S", 60, minimum=5)
# Global trace links when no link template is defined in the admin.
PRODBUG_GRAFANA_URL = env_str("PRODBUG_GRAFANA_URL")
PRODBUG_GRAFANA_LOKI_UID = env_str("PRODBUG_GRAFANA_LOKI_UID")
PRODBUG_GRAFANA_TEMPO_UID = env_str("PRODBUG_GRAFANA_TEMPO_UID")
PRODBUG_JAEGER_URL = env_str("PRODBUG_JAEGER_URL")
CELERY_BEAT_SCHEDULE["flag-expiries"] = {
    "task": "flags.tasks.record_expired_overrides",
    "schedule": 5.0,
}
PRODBUG_REVERT_SWEEP_S = env_int("PRODBUG_REVERT_SWEEP_S", 5, minimum=1)
CELERY_BEAT_SCHEDULE["log-level-reverts"] = {
    "task": "flags.tasks.revert_due_log_levels",
    "schedule": float(PRODBUG_REVERT_SWEEP_S),
    # A late sweep is useless once the next one is due.
    "options": {"expires": float(PRODBUG_REVERT_SWEEP_S)},
}
CELERY_BEAT_SCHEDULE["health-recheck"] = {
    "task": "sessions.tasks.health_recheck_open_sessions",
    "schedule": float(PRODBUG_HEALTH_INTERVAL_S),
}
# Profiling: each run goes to the queue of the agent on its target's host (`profiling.<agent>`,
# chosen per run); this route only catches a bare .delay() so it never lands on the default queue.
CELERY_TASK_ROUTES = {"profiling.tasks.profile_run": {"queue": "profiling.local"}}
PRODBUG_PROFILE_MAX_CONCURRENT = env_int("PRODBUG_PROFILE_MAX_CONCURRENT", 2, minimum=1)
# A run no agent has picked up by then fails with a hint (is the profiler worker running?).
PRODBUG_PROFILE_QUEUE_TIMEOUT_S = env_int("PRODBUG_PROFILE_QUEUE_TIMEOUT_S", 120, minimum=10)
# The py-spy executable; empty: the one installed beside Python, else on PATH.
PRODBUG_PYSPY = env_str("PRODBUG_PYSPY")
CELERY_BEAT_SCHEDULE["profiling-stale"] = {
    "task": "profiling.tasks.profile_fail_stale",
    "schedule": 15.0,
}

# --- Logging ------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("PRODBUG_LOG_FORMAT", "auto")  # auto | json | console
LOGGING_CONFIG = None
from prodbug_site.logging import configure_logging  # noqa: E402

configure_logging(level=LOG_LEVEL, fmt=LOG_FORMAT)
