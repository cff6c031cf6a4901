"""Kizuna's settings: every value comes from a KIZUNA_* environment variable.

This is the only module that reads the environment.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def get_bool_from_env(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def get_list_from_env(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("KIZUNA_DATA_DIR", Path.cwd() / "kizuna-data")).resolve()


def _secret_key() -> str:
    if key := os.environ.get("KIZUNA_SECRET_KEY"):
        return key
    # The embedded default keeps a generated key in the data dir, so that
    # sessions survive a restart without any setup.
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = get_bool_from_env("KIZUNA_DEBUG")
ALLOWED_HOSTS = get_list_from_env("KIZUNA_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = get_list_from_env("KIZUNA_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # Serves the Swagger UI of /api/v1/docs from our static files, not a CDN.
    "ninja",
    "template_partials",
    "kizuna.core",
    "kizuna.iam",
    "kizuna.customers",
    "kizuna.activities",
    "kizuna.sales",
    "kizuna.automation",
    "kizuna.dedup",
    "kizuna.imports",
    "kizuna.mail",
    "kizuna.analytics",
    "kizuna.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kizuna.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kizuna.core.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "kizuna.urls"
WSGI_APPLICATION = "kizuna.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "kizuna.core.context_processors.ui",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

DATABASE_URL = os.environ.get("KIZUNA_DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["TEST"] = {"NAME": os.environ.get("KIZUNA_TEST_DATABASE_NAME")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "kizuna.sqlite3"),
            # Keep connections per server thread; opening one runs the PRAGMAs.
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # WAL lets readers work while one writer writes; IMMEDIATE takes
                # the write lock at BEGIN so that two writers queue on
                # busy_timeout instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-64000;"
                    "PRAGMA mmap_size=268435456;"
                    "PRAGMA temp_store=MEMORY;"
                ),
            },
            "TEST": {"NAME": os.environ.get("KIZUNA_TEST_DATABASE_NAME") or None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "iam.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "iam:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "iam:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = get_bool_from_env("KIZUNA_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = os.environ.get("KIZUNA_LANGUAGE", "ja")
LANGUAGES = [("ja", "日本語"), ("ko", "한국어"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("KIZUNA_TIME_ZONE", "Asia/Tokyo")
KIZUNA_DEFAULT_REGION = os.environ.get("KIZUNA_DEFAULT_REGION", "JP")

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"

# Background jobs (huey). The embedded default keeps the queue in a SQLite
# file in the data dir and `kizuna serve` runs consumer threads; with
# KIZUNA_REDIS_URL the queue lives in Redis and `kizuna worker` consumes it.
REDIS_URL = os.environ.get("KIZUNA_REDIS_URL", "")
KIZUNA_JOBS_WORKERS = int(os.environ.get("KIZUNA_JOBS_WORKERS", "2"))
# Whether `kizuna serve` runs consumer threads; by default only without Redis.
KIZUNA_JOBS_IN_SERVE = get_bool_from_env("KIZUNA_JOBS_IN_SERVE", default=not REDIS_URL)
HUEY = {
    "name": "kizuna",
    "huey_class": "huey.RedisHuey" if REDIS_URL else "kizuna.automation.queue.DataDirSqliteHuey",
    # Run tasks at once, in the calling thread (tests, debugging).
    "immediate": get_bool_from_env("KIZUNA_JOBS_IMMEDIATE"),
    # Outcomes are kept in JobRun rows, not in huey's result store.
    "results": False,
    # Periodic schedules (crontab) are read in TIME_ZONE, not UTC.
    "utc": False,
    "connection": (
        {"url": REDIS_URL} if REDIS_URL else {"filename": str(DATA_DIR / "jobs.sqlite3")}
    ),
    "consumer": {"workers": KIZUNA_JOBS_WORKERS, "worker_type": "thread"},
}

# Webhooks: seconds to wait for an endpoint, and consecutive failed attempts
# after which a subscription is disabled and the admins are told.
KIZUNA_WEBHOOK_TIMEOUT = float(os.environ.get("KIZUNA_WEBHOOK_TIMEOUT", "10"))
KIZUNA_WEBHOOK_MAX_FAILURES = int(os.environ.get("KIZUNA_WEBHOOK_MAX_FAILURES", "10"))

# E-mail: SMTP once KIZUNA_SMTP_HOST is set, the console until then.
EMAIL_HOST = os.environ.get("KIZUNA_SMTP_HOST", "")
EMAIL_PORT = int(os.environ.get("KIZUNA_SMTP_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("KIZUNA_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KIZUNA_SMTP_PASSWORD", "")
EMAIL_USE_TLS = get_bool_from_env("KIZUNA_SMTP_STARTTLS", default=EMAIL_PORT == 587)
EMAIL_USE_SSL = get_bool_from_env("KIZUNA_SMTP_SSL", default=EMAIL_PORT == 465)
EMAIL_TIMEOUT = float(os.environ.get("KIZUNA_SMTP_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("KIZUNA_EMAIL_FROM", "kizuna@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Incoming mail: an IMAP mailbox read every few minutes, and a forwarding
# address (POST /mail/inbound/<token>/) for mail relays.
KIZUNA_IMAP_HOST = os.environ.get("KIZUNA_IMAP_HOST", "")
KIZUNA_IMAP_PORT = int(os.environ.get("KIZUNA_IMAP_PORT", "993"))
KIZUNA_IMAP_SSL = get_bool_from_env("KIZUNA_IMAP_SSL", default=KIZUNA_IMAP_PORT == 993)
KIZUNA_IMAP_USER = os.environ.get("KIZUNA_IMAP_USER", "")
KIZUNA_IMAP_PASSWORD = os.environ.get("KIZUNA_IMAP_PASSWORD", "")
KIZUNA_IMAP_FOLDER = os.environ.get("KIZUNA_IMAP_FOLDER", "INBOX")
KIZUNA_IMAP_TIMEOUT = float(os.environ.get("KIZUNA_IMAP_TIMEOUT", "30"))
KIZUNA_MAIL_INBOUND_TOKEN = os.environ.get("KIZUNA_MAIL_INBOUND_TOKEN", "")
# Links in e-mails (the daily digest) start with this address.
KIZUNA_BASE_URL = os.environ.get("KIZUNA_BASE_URL", "http://localhost:8000").rstrip("/")
# SMTP connections the daily digest sends over side by side.
KIZUNA_DIGEST_SMTP_CONNECTIONS = int(os.environ.get("KIZUNA_DIGEST_SMTP_CONNECTIONS", "4"))
# 名寄せ: whether the full scan merges near-certain pairs by itself (the merge
# band) instead of queueing them for review. Off: a person decides.
KIZUNA_DEDUP_AUTO_MERGE = get_bool_from_env("KIZUNA_DEDUP_AUTO_MERGE")

EMAIL_BACKEND = os.environ.get(
    "KIZUNA_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KIZUNA_LOG_LEVEL", "WARNING")},
}

KIZUNA_PAGE_SIZE = 50
KIZUNA_TIMELINE_PAGE_SIZE = 25
KIZUNA_API_MAX_PAGE_SIZE = 200
