"""Django settings for OpenGGZY.

Everything that differs between a laptop and production comes from the environment:
``DATABASE_URL`` selects PostgreSQL (default: embedded SQLite under ``GGZY_VAR``),
``GGZY_SECRET_KEY`` and ``GGZY_DEBUG`` the usual, ``GGZY_LEDGER_HASH`` the ledger hash (sm3).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("GGZY_VAR", BASE_DIR.parent / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Secret from the environment, else a per-installation key kept in var/ (never in the repo)."""
    if key := os.environ.get("GGZY_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("GGZY_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("GGZY_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "ggzy.core",
    "ggzy.ledger",
    "ggzy.accounts",
    "ggzy.registry",
    "ggzy.trust",
    "ggzy.catalog",
    "ggzy.tendering",
    "ggzy.fairness",
    "ggzy.bidding",
    "ggzy.experts",
    "ggzy.evaluation",
    "ggzy.venues",
    "ggzy.award",
    "ggzy.disclosure",
    "ggzy.exchange",
    "ggzy.supervision",
    "ggzy.complaints",
    "ggzy.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ggzy.web.middleware.ApiErrorShapeMiddleware",
    "ggzy.web.middleware.RefuseNulPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ggzy.web.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ggzy.ledger.context.ClientAddressMiddleware",
]

ROOT_URLCONF = "ggzy.urls"
WSGI_APPLICATION = "ggzy.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_sqlite_path = VAR_DIR / "ggzy.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{_sqlite_path}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
        # BEGIN so two writers never deadlock upgrading a read lock.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["ggzy.accounts.backends.LockoutAwareBackend"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from the finders; the folder only has to exist
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("GGZY_MAX_BODY", 1024 * 1024))

# --- OpenGGZY ---------------------------------------------------------------------------
GGZY_LEDGER_HASH = os.environ.get("GGZY_LEDGER_HASH", "sm3")  # sm3 | sha256, fixed at genesis
# inline: chain in the writer's transaction (SQLite, one writer at a time anyway); deferred: write a
# pending row in the writer's transaction and chain right after commit (PostgreSQL, many writers).
GGZY_LEDGER_MODE = os.environ.get(
    "GGZY_LEDGER_MODE",
    "deferred" if DATABASES["default"]["ENGINE"].endswith("postgresql") else "inline",
)
# Deferred mode: who chains pending events — "writers" (each after its commit) or "process" (a
# `ggzy ledger chainer` process; highest throughput, must be running).
GGZY_LEDGER_CHAINER = os.environ.get("GGZY_LEDGER_CHAINER", "writers")
GGZY_LEDGER_HEAD_INTERVAL = int(os.environ.get("GGZY_LEDGER_HEAD_INTERVAL", "10"))  # seconds
GGZY_LEDGER_KEY = Path(os.environ.get("GGZY_LEDGER_KEY", VAR_DIR / "keys" / "ledger-signing.pem"))
GGZY_LOGIN_MAX_FAILURES = 5
GGZY_LOGIN_LOCKOUT_MINUTES = 15
GGZY_PLATFORM_REGION = os.environ.get("GGZY_PLATFORM_REGION", "320000")
GGZY_PLATFORM_ID = os.environ.get("GGZY_PLATFORM_ID", "openggzy:" + GGZY_PLATFORM_REGION)
GGZY_CHALLENGE_SECONDS = 300  # certificate login / binding nonce lifetime
GGZY_SIGNING_REQUEST_SECONDS = 600  # QR signing request default lifetime
GGZY_ENVELOPE_MAX_BYTES = int(os.environ.get("GGZY_ENVELOPE_MAX_BYTES", 2 * 1024**3))
GGZY_ENVELOPE_DIR = Path(os.environ.get("GGZY_ENVELOPE_DIR", VAR_DIR / "envelopes"))
GGZY_DOCUMENT_DIR = Path(os.environ.get("GGZY_DOCUMENT_DIR", VAR_DIR / "documents"))
GGZY_DOCUMENT_MAX_BYTES = int(os.environ.get("GGZY_DOCUMENT_MAX_BYTES", 200 * 1024**2))
# the opening waits this long after a deadline for uploads completed in time whose verification
# is still running (see ggzy/bidding/bids.py, "the deadline rule")
GGZY_OPENING_SETTLE_SECONDS = int(os.environ.get("GGZY_OPENING_SETTLE_SECONDS", "60"))
GGZY_WEB_UPLOAD_MAX_BYTES = int(os.environ.get("GGZY_WEB_UPLOAD_MAX_BYTES", 2 * 1024**3))
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "ggzy.web.uploads.CappedTemporaryFileUploadHandler",
]
GGZY_BID_REGISTER_KEY = Path(
    os.environ.get("GGZY_BID_REGISTER_KEY", VAR_DIR / "keys" / "bid-register.key")
)
GGZY_PLATFORM_NAME = os.environ.get("GGZY_PLATFORM_NAME", "OpenGGZY 公共资源交易平台")
# award (docs/domains/award.md, "Warnings"): warn this many days before a due date; escalate
# this many days after it
GGZY_AWARD_WARN_BEFORE_DAYS = int(os.environ.get("GGZY_AWARD_WARN_BEFORE_DAYS", "3"))
GGZY_AWARD_WARN_AFTER_DAYS = int(os.environ.get("GGZY_AWARD_WARN_AFTER_DAYS", "3"))
# the expert draw (专家抽取): drawn identities and the draw's inputs are sealed under this key, a
# file outside the database like the bid-register key (docs/domains/experts.md, "Draw")
GGZY_DRAW_KEY = Path(os.environ.get("GGZY_DRAW_KEY", VAR_DIR / "keys" / "expert-draw.key"))
GGZY_DRAW_ANSWER_MINUTES = int(os.environ.get("GGZY_DRAW_ANSWER_MINUTES", "30"))  # to confirm
GGZY_DRAW_AVOID_DAYS = int(os.environ.get("GGZY_DRAW_AVOID_DAYS", "180"))  # served the tenderer
# expert ratings (专家动态管理, ggzy.experts.rating_rules): a score at or below LOW_RATING is low;
# low ratings from LOW_RATINGS_TO_SUSPEND sessions within WINDOW_DAYS suspend the expert from
# draws for SUSPEND_DAYS; a misconduct rating suspends at once for MISCONDUCT_SUSPEND_DAYS
GGZY_EXPERT_LOW_RATING = int(os.environ.get("GGZY_EXPERT_LOW_RATING", "2"))
GGZY_EXPERT_LOW_RATINGS_TO_SUSPEND = int(os.environ.get("GGZY_EXPERT_LOW_RATINGS_TO_SUSPEND", "3"))
GGZY_EXPERT_RATING_WINDOW_DAYS = int(os.environ.get("GGZY_EXPERT_RATING_WINDOW_DAYS", "365"))
GGZY_EXPERT_SUSPEND_DAYS = int(os.environ.get("GGZY_EXPERT_SUSPEND_DAYS", "180"))
GGZY_EXPERT_MISCONDUCT_SUSPEND_DAYS = int(
    os.environ.get("GGZY_EXPERT_MISCONDUCT_SUSPEND_DAYS", "365")
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GGZY_LOG_LEVEL", "WARNING")},
}

# public disclosure and data exchange (ggzy.disclosure, ggzy.exchange)
# the change feed serves a change once it is this old (a guard; positions commit in order)
GGZY_FEED_DELAY_SECONDS = float(os.environ.get("GGZY_FEED_DELAY_SECONDS", "1"))
# the portal's rendered lists and timelines are kept this long per feed position (0: off); a
# new public record changes the position, so only catalog and region names can be this stale
GGZY_PORTAL_CACHE_SECONDS = int(os.environ.get("GGZY_PORTAL_CACHE_SECONDS", "60"))
# each worker's own cache (the portal's kept pages: 9–16 KiB each, so ≤ 80 MiB per worker at
# 5,000); Django's default of 300 entries evicts a busy portal's project pages before reuse
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("GGZY_CACHE_ENTRIES", "5000"))},
    }
}
# the registered OCDS prefix of this platform's ocids (https://standard.open-contracting.org)
GGZY_OCDS_PREFIX = os.environ.get("GGZY_OCDS_PREFIX", "ocds-ggzy00")
# a JSON file overriding the national exchange's dataset fields (lengths, required …)
GGZY_EXCHANGE_FIELDS = os.environ.get("GGZY_EXCHANGE_FIELDS") or None

# smart supervision (ggzy.supervision): imported historical data and its report, as Parquet
GGZY_SUPERVISION_DIR = Path(os.environ.get("GGZY_SUPERVISION_DIR", VAR_DIR / "supervision"))
# the largest historical data file taken in one upload (CSV or OCDS JSON Lines)
GGZY_SUPERVISION_MAX_BYTES = int(os.environ.get("GGZY_SUPERVISION_MAX_BYTES", str(512 << 20)))

# complaints (ggzy.complaints): evidence files and their size cap; the acceptance review of a
# government-procurement complaint (财政部94号令: 5 working days); the first handling department
GGZY_COMPLAINTS_DIR = Path(os.environ.get("GGZY_COMPLAINTS_DIR", VAR_DIR / "complaints"))
GGZY_COMPLAINT_EVIDENCE_MAX_BYTES = int(
    os.environ.get("GGZY_COMPLAINT_EVIDENCE_MAX_BYTES", str(50 << 20))
)
GGZY_COMPLAINT_PROCUREMENT_ACCEPTANCE_WD = int(
    os.environ.get("GGZY_COMPLAINT_PROCUREMENT_ACCEPTANCE_WD", "5")
)
GGZY_COMPLAINTS_DEPARTMENT = os.environ.get("GGZY_COMPLAINTS_DEPARTMENT", "行政监督部门")
