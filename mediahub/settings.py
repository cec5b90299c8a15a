"""Settings, all from the environment (CONTRACT.md section 2 and the README's table), parsed by django-environ.

Importing settings starts nothing and writes nothing: with DATABASE_URL /
REDIS_URL unset they point at the embedded Postgres and Redis of
MEDIAHUB_DATA_DIR, which `manage.py` (mediahub.launch) and the test session
attach to explicitly.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import unquote

import environ

from mediahub import embedded
from mediahub.storage_url import storage_from_url

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DATA_DIR = Path(env.str("MEDIAHUB_DATA_DIR", default="") or BASE_DIR / "var").resolve()


def _secret_key() -> str:
    """MEDIAHUB_SECRET_KEY, else the data dir's key (made by `manage.py`), else one for this process only."""
    key_file = DATA_DIR / "secret_key"
    if env.str("MEDIAHUB_SECRET_KEY", default=""):
        return env.str("MEDIAHUB_SECRET_KEY")
    return key_file.read_text().strip() if key_file.exists() else secrets.token_urlsafe(50)


def database_from_url(url: str) -> dict:
    """A Django DATABASES entry from postgresql://user:pass@host:port/name?options (host may be a socket dir)."""
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise environ.ImproperlyConfigured("DATABASE_URL must start with postgresql://")
    options = config.setdefault("OPTIONS", {})
    config["HOST"] = options.pop("host", None) or unquote(str(config.get("HOST") or ""))
    config.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    return config


SECRET_KEY = _secret_key()
DEBUG = env.bool("MEDIAHUB_DEBUG", default=False)
ALLOWED_HOSTS = env.list("MEDIAHUB_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("MEDIAHUB_CSRF_TRUSTED_ORIGINS", default=[])

DATABASE_URL = env.str("DATABASE_URL", default="") or embedded.postgres_url(DATA_DIR)
REDIS_URL = env.str("REDIS_URL", default="") or embedded.redis_url(DATA_DIR)

DATABASES = {"default": database_from_url(DATABASE_URL)}
# django-prometheus's wrapper of Django's PostgreSQL backend counts queries and their time for /metrics.
DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mediahub.core",
    "mediahub.assets",
    "mediahub.search",
    "mediahub.people",
    "mediahub.copies",
    "mediahub.shots",
    "mediahub.briefs",
    "mediahub.ops",
    "django_prometheus",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "mediahub.core.middleware.PageLanguageMiddleware",  # Django's LocaleMiddleware for the pages; the API in English
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mediahub.core.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "mediahub.urls"
WSGI_APPLICATION = "mediahub.wsgi.application"
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
                "django.template.context_processors.i18n",
                "mediahub.core.context_processors.demo_model",
                "mediahub.core.context_processors.interface_text",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the upload page's JS reads it for XHR uploads
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Behind a TLS-terminating proxy (MEDIAHUB_HTTPS=1): secure cookies, HSTS, and the
# proxy's X-Forwarded-Proto trusted; `manage.py check --deploy` is clean in this mode.
HTTPS = env.bool("MEDIAHUB_HTTPS", default=False)
if HTTPS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^api/health$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = env.int("MEDIAHUB_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("MEDIAHUB_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("MEDIAHUB_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a promise to browser vendors that only the site's owner can make.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# The interface in English and Simplified Chinese (README, "Languages and screens"); English without
# an Accept-Language header.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "mediahub" / "static"]
MEDIA_ROOT = Path(env.str("MEDIAHUB_MEDIA_ROOT", default="") or DATA_DIR / "media")
# Media (originals, proxies, frames, face crops): files under MEDIA_ROOT, or an S3-compatible bucket
# named by MEDIAHUB_STORAGE_URL (README, "Object storage"). Workers fetch an original from a bucket into
# SCRATCH_DIR only while a step works on it.
STORAGE_URL = env.str("MEDIAHUB_STORAGE_URL", default="")
SCRATCH_DIR = Path(env.str("MEDIAHUB_SCRATCH_DIR", default="") or DATA_DIR / "scratch")
STORAGES = {
    "default": storage_from_url(STORAGE_URL),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve static files without a collectstatic step
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = env.int("MEDIAHUB_MAX_UPLOAD_BYTES", default=20 * 1024**3)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mediahub.core.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "mediahub.core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "mediahub.core.schema.AutoSchema",  # adds the error answers per operation
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mediahub API",
    "DESCRIPTION": "Media asset management for newsrooms: upload, understand and search footage.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The docs pages (/api/docs/, /api/redoc/) load Swagger UI and Redoc from our static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {"AssetKindEnum": "mediahub.assets.models.Asset.Kind",
                            "AssetStatusEnum": "mediahub.assets.models.Asset.Status",
                            "HealthStatusEnum": ["ok", "error"]},
}

# Celery: read by workers/celery.py with namespace "CELERY".
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message whose worker died unacknowledged is redelivered after this long
    # (a crashed pool process is handled at once by reject_on_worker_lost).
    "visibility_timeout": env.int("MEDIAHUB_BROKER_VISIBILITY_TIMEOUT", default=7200),
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that loses the broker keeps trying to reconnect, however long it is gone (README, "Faults").
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Task events for Flower and `celery events`: started/succeeded/failed from workers, sent from publishers.
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
# A pipeline step that runs longer than this is stopped and the asset fails with a sentence saying so.
TASK_TIME_LIMIT_SECONDS = env.int("MEDIAHUB_TASK_TIME_LIMIT", default=6 * 3600)
# Faults (README): an unfinished asset whose run nothing carries on any more (its message lost with a broker
# restart, its worker killed) and that has not moved for STALLED_AFTER seconds is started again; one worker
# of the cluster looks for them every STALLED_SWEEP seconds.
STALLED_AFTER_SECONDS = env.int("MEDIAHUB_STALLED_AFTER", default=120)
STALLED_SWEEP_SECONDS = env.int("MEDIAHUB_STALLED_SWEEP", default=60)

# Housekeeping (Celery beat): stored searches without feedback are kept this long;
# unfinished upload files this long.
SEARCH_RETENTION_DAYS = env.int("MEDIAHUB_SEARCH_RETENTION_DAYS", default=90)
STAGING_RETENTION_HOURS = env.int("MEDIAHUB_STAGING_RETENTION_HOURS", default=24)

# Media understanding.
# The default real model reads English and Chinese (README, "The default model").
DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED = "xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k"
CLIP_MODEL = env.str("MEDIAHUB_CLIP_MODEL", default="") or DEFAULT_CLIP_MODEL
CLIP_PRETRAINED = env.str("MEDIAHUB_CLIP_PRETRAINED", default="") or (
    DEFAULT_CLIP_PRETRAINED if CLIP_MODEL == DEFAULT_CLIP_MODEL else "laion2b_s34b_b79k")
DEVICE = env.str("MEDIAHUB_DEVICE", default="") or "auto"
MODEL_CACHE_DIR = DATA_DIR / "models"
# Hugging Face files (the multilingual text tower's tokenizer and config) are cached in the data dir too.
os.environ.setdefault("HF_HOME", str(MODEL_CACHE_DIR / "huggingface"))
FRAME_INTERVAL_SECONDS = env.float("MEDIAHUB_FRAME_INTERVAL", default=1.0)
EMBED_BATCH_SIZE = env.int("MEDIAHUB_EMBED_BATCH", default=32)
# Torch threads in each worker pool process; 0: the CPU cores divided by the worker's concurrency.
TORCH_THREADS = env.int("MEDIAHUB_TORCH_THREADS", default=0)
# Faces (README, "Faces"): MEDIAHUB_FACES=off stores no face data at all. The frames step looks for faces
# in pictures of its decode with this short side (a 40 px face in a 1080p picture is found with one
# upsampling); they are never stored.
FACES_ENABLED = env.bool("MEDIAHUB_FACES", default=True)
FACE_SHORT_SIDE = env.int("MEDIAHUB_FACE_SHORT_SIDE", default=1080)
# Faces: two dlib descriptors closer than this (Euclidean) are taken for the same person (README, "People").
FACE_SAME_PERSON_DISTANCE = env.float("MEDIAHUB_FACE_DISTANCE", default=0.55)  # = faces.SAME_PERSON_DISTANCE

# Logs (README, "Logs"): one JSON object per line (time, level, logger, message and the request, asset
# and run ids when known) by default, as log collectors read them; `plain` for people (`make run`).
LOG_FORMAT = env.str("MEDIAHUB_LOG_FORMAT", default="json").lower()
LOG_FORMATTERS = {
    "json": {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": "{levelname}{name}{message}", "style": "{",
             "rename_fields": {"levelname": "level", "name": "logger"}, "timestamp": "time"},  # ISO 8601, UTC
    "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
}
if LOG_FORMAT not in LOG_FORMATTERS:
    raise environ.ImproperlyConfigured(f"MEDIAHUB_LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {LOG_FORMAT: LOG_FORMATTERS[LOG_FORMAT]},
    "filters": {"log_ids": {"()": "mediahub.core.logs.LogIdsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["log_ids"]}},
    "root": {"handlers": ["console"], "level": env.str("MEDIAHUB_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # billiard's (a Celery pool process killed...): ours, or Celery gives it a text handler of its own.
        "multiprocessing": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# Each request gets an id for its log lines and X-Request-ID (outermost, so every line of it has it);
# under /api/ every error is JSON {"detail"}, whatever produced it (next, so it sees all the rest).
MIDDLEWARE = ["mediahub.core.middleware.RequestIdMiddleware", "mediahub.core.middleware.ApiJsonErrorsMiddleware",
              *MIDDLEWARE]
# django-prometheus times each request by view (README, "Operations"): first and last, around everything else.
MIDDLEWARE = ["django_prometheus.middleware.PrometheusBeforeMiddleware", *MIDDLEWARE,
              "django_prometheus.middleware.PrometheusAfterMiddleware"]
# /metrics answers `Authorization: Bearer <this>`; unset, /metrics is not there (404).
METRICS_TOKEN = env.str("MEDIAHUB_METRICS_TOKEN", default="")
# gunicorn's web workers each count their own requests; prometheus_client's multiprocess mode sums them
# from files here (mediahub.gunicorn_config sets PROMETHEUS_MULTIPROC_DIR to it and empties it at start).
PROMETHEUS_MULTIPROC_DIR = DATA_DIR / "run" / "prometheus"
INSTALLED_APPS += ["django_filters"]

# Media playback. With MEDIAHUB_SENDFILE=nginx the media and frame views answer with an empty
# response carrying X-Accel-Redirect (django-sendfile2) and the front server sends the bytes
# (README, "Serving media behind nginx"); unset, Django answers ranges of at most
# MEDIAHUB_RANGE_CHUNK_MIB, a 206 the player continues from.
SENDFILE = env.str("MEDIAHUB_SENDFILE", default="").lower()
SENDFILE_BACKENDS = {"nginx": "django_sendfile.backends.nginx"}
if SENDFILE and SENDFILE not in SENDFILE_BACKENDS:
    raise environ.ImproperlyConfigured(
        f"MEDIAHUB_SENDFILE must be one of {', '.join(SENDFILE_BACKENDS)} or unset, not {SENDFILE!r}.")
SENDFILE_BACKEND = SENDFILE_BACKENDS.get(SENDFILE)
SENDFILE_ROOT = str(Path(MEDIA_ROOT).resolve())  # the same base FileSystemStorage.path() uses
SENDFILE_URL = env.str("MEDIAHUB_SENDFILE_URL", default="/protected-media")
RANGE_CHUNK_BYTES = int(env.float("MEDIAHUB_RANGE_CHUNK_MIB", default=8) * 1024 * 1024)

# Per-user throttles (DRF scoped throttles), counted in Redis so every web worker shares them.
THROTTLE_RATES = {
    "search": env.str("MEDIAHUB_SEARCH_RATE", default="120/minute"),
    "upload": env.str("MEDIAHUB_UPLOAD_RATE", default="600/hour"),
    "copy_check": env.str("MEDIAHUB_COPY_CHECK_RATE", default="60/hour"),
    "brief": env.str("MEDIAHUB_BRIEF_RATE", default="30/minute"),  # a brief is a search per beat
}
# Where edit suites see the originals (a shared drive, e.g. /Volumes/newsroom/mediahub/media): brief
# exports then point each clip at its file there, so the editing application links it at once.
# Unset, exports point at the original's download URL and the editor relinks by file name.
EDIT_MEDIA_ROOT = env.str("MEDIAHUB_EDIT_MEDIA_ROOT", default="")
# Copy checks (POST /api/copies/check) decode the clip in the web process: keep them short.
COPY_CHECK_MAX_BYTES = int(env.float("MEDIAHUB_COPY_CHECK_MAX_MIB", default=500) * 1024 * 1024)
COPY_CHECK_MAX_SECONDS = env.float("MEDIAHUB_COPY_CHECK_MAX_SECONDS", default=600)
# redis-py spells kombu's unix-socket URL (redis+socket://PATH) as unix://PATH.
THROTTLE_REDIS_URL = ("unix://" + REDIS_URL.removeprefix("redis+socket://") if REDIS_URL.startswith("redis+socket://")
                      else REDIS_URL)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": THROTTLE_REDIS_URL,
                 "KEY_PREFIX": "mediahub-throttle"},
}
