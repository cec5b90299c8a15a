"""Settings, all from the environment (CONTRACT.md section 2 and the README's table).

With DATABASE_URL / REDIS_URL unset, the embedded Postgres and Redis of
MEDIAHUB_DATA_DIR are attached (started if needed) when settings load.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from mediahub import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, str(default)).lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(env("MEDIAHUB_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if env("MEDIAHUB_SECRET_KEY"):
        return env("MEDIAHUB_SECRET_KEY")
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


def database_from_url(url: str) -> dict:
    """A Django DATABASES entry from postgresql://user:pass@host:port/name?options."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL must start with postgresql://, not {parts.scheme}://")
    options = dict(parse_qsl(parts.query))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "mediahub",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": options.pop("host", parts.hostname or ""),
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"NAME": options.pop("test_name", None)},
    }


SECRET_KEY = _secret_key()
DEBUG = env_bool("MEDIAHUB_DEBUG")
ALLOWED_HOSTS = env("MEDIAHUB_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in env("MEDIAHUB_CSRF_TRUSTED_ORIGINS").split(",") if o]

DATABASE_URL = env("DATABASE_URL")
REDIS_URL = env("REDIS_URL")
if not (DATABASE_URL and REDIS_URL):
    _services = embedded.ensure_services(DATA_DIR, postgres=not DATABASE_URL, redis=not REDIS_URL)
    DATABASE_URL = DATABASE_URL or _services.postgres.url
    REDIS_URL = REDIS_URL or _services.redis.url

DATABASES = {"default": database_from_url(DATABASE_URL)}
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
    "mediahub.core",
    "mediahub.assets",
    "mediahub.search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "mediahub" / "static"]
MEDIA_ROOT = Path(env("MEDIAHUB_MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    # Pipeline re-runs overwrite their frame files in place (same names).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"allow_overwrite": True}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve static files without a collectstatic step
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = int(env("MEDIAHUB_MAX_UPLOAD_BYTES", str(20 * 1024**3)))

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
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mediahub API",
    "DESCRIPTION": "Media asset management for newsrooms: upload, understand and search footage.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# Celery: read by workers/celery.py with namespace "CELERY".
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message whose worker died unacknowledged is redelivered after this long
    # (a crashed pool process is handled at once by reject_on_worker_lost).
    "visibility_timeout": int(env("MEDIAHUB_BROKER_VISIBILITY_TIMEOUT", "7200")),
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
CELERY_WORKER_SEND_TASK_EVENTS = False

# Media understanding.
# The default real model reads English and Chinese (README, "The default model").
DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED = "xlm-roberta-base-ViT-B-32", "laion5b_s13b_b90k"
CLIP_MODEL = env("MEDIAHUB_CLIP_MODEL", DEFAULT_CLIP_MODEL)
CLIP_PRETRAINED = env("MEDIAHUB_CLIP_PRETRAINED",
                      DEFAULT_CLIP_PRETRAINED if CLIP_MODEL == DEFAULT_CLIP_MODEL else "laion2b_s34b_b79k")
DEVICE = env("MEDIAHUB_DEVICE", "auto")
MODEL_CACHE_DIR = DATA_DIR / "models"
# Hugging Face files (the multilingual text tower's tokenizer and config) are cached in the data dir too.
os.environ.setdefault("HF_HOME", str(MODEL_CACHE_DIR / "huggingface"))
FRAME_INTERVAL_SECONDS = float(env("MEDIAHUB_FRAME_INTERVAL", "1.0"))
EMBED_BATCH_SIZE = int(env("MEDIAHUB_EMBED_BATCH", "32"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("MEDIAHUB_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
