"""Django settings, all derived from config.loader (environment + config.conf)."""

from pathlib import Path

from config import database, loader, logs, mail, queue, security, storage

BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG = loader.load()

DATA_DIR = Path(CONFIG["data_dir"]).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# secret_key; without one, a key kept in the data folder (embedded) or a refusal (a cluster).
SECRET_KEY = security.secret_key(CONFIG, DATA_DIR)
DEBUG = loader.as_bool(CONFIG, "debug")
WEB_URL = loader.web_url(CONFIG)
WEB_PORT = loader.as_int(CONFIG, "web_port")

_web_host = WEB_URL.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
if CONFIG["allowed_hosts"]:
    ALLOWED_HOSTS = [host.strip() for host in CONFIG["allowed_hosts"].split(",") if host.strip()]
else:
    ALLOWED_HOSTS = [_web_host, "localhost", "127.0.0.1", "[::1]"]

# HTTPS, when web_url says so: the load balancer ends TLS and tells the scheme in
# X-Forwarded-Proto, believed only from forwarded_allow_ips (see config/security.py).
HTTPS = security.is_https(WEB_URL)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SECURE_SSL_HOST = security.host(WEB_URL) if HTTPS else None  # to the public address, whatever Host
SECURE_REDIRECT_EXEMPT = [r"^health$"]  # the load balancer checks instances over plain HTTP
SECURE_HSTS_SECONDS = loader.as_int(CONFIG, "hsts_seconds") if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = loader.as_bool(CONFIG, "hsts_include_subdomains")
SECURE_HSTS_PRELOAD = loader.as_bool(CONFIG, "hsts_preload")
SILENCED_SYSTEM_CHECKS = security.silenced_checks(
    include_subdomains=SECURE_HSTS_INCLUDE_SUBDOMAINS, preload=SECURE_HSTS_PRELOAD
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = LANGUAGE_COOKIE_HTTPONLY = True  # site.js reads no cookie
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = LANGUAGE_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = [security.origin(WEB_URL)]
CSRF_FAILURE_VIEW = "api.errors.csrf_failure"  # a page that says the form expired (JSON in /api/)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {"DIRECTIVES": security.CSP_DIRECTIVES}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "accounts",
    "contests",
    "videos",
    "api",
]

MIDDLEWARE = [
    "config.health.HealthMiddleware",  # first: the load balancer's check skips host checks
    "config.security.ForwardedProtoMiddleware",  # the scheme as the web server believed it
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the language: switch, else the browser's
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = database.databases(CONFIG, DATA_DIR)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"
# API tokens expire; failed log-ins and reset requests are limited per account and per client
# network (api/throttles.py, counted in the cache). See docs/SECURITY.md.
TOKEN_LIFETIME_HOURS = loader.as_int(CONFIG, "token_lifetime_hours")
LOGIN_FAILURES_PER_ACCOUNT = loader.as_int(CONFIG, "login_failures_per_account")
LOGIN_FAILURES_PER_ADDRESS = loader.as_int(CONFIG, "login_failures_per_address")
LOGIN_WINDOW_SECONDS = loader.as_int(CONFIG, "login_window_minutes") * 60
PASSWORD_RESETS_PER_ACCOUNT_HOUR = loader.as_int(CONFIG, "password_resets_per_account_hour")
PASSWORD_RESETS_PER_ADDRESS_HOUR = loader.as_int(CONFIG, "password_resets_per_address_hour")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Files. Every stored file goes through these storages, so S3 replaces them by configuration:
# "default" holds what the public may see (banners, converted videos, posters),
# "originals" holds the uploads as received, shown only to the contest's organizer.
MEDIA_URL = "/media/"
STORAGES = storage.storages(CONFIG, DATA_DIR)
SERVE_MEDIA = storage.serves_media(CONFIG)
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files browsers ask for at the site's root (/favicon.ico), served by WhiteNoise as they are.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# Uploads stream to a temporary file on disk, never into memory; a form's file is written there
# once, as it arrives (config/uploads.py).
FILE_UPLOAD_HANDLERS = ["config.uploads.FileUploadHandler"]
FILE_UPLOAD_TEMP_DIR = DATA_DIR / "tmp"
FILE_UPLOAD_TEMP_DIR.mkdir(exist_ok=True)
MAX_UPLOAD_BYTES = loader.as_int(CONFIG, "max_upload_mb") * 1024 * 1024
# Resumable uploads (videos/resumable.py): the pieces received so far, on this disk, kept for a
# day after the last piece. Beside the upload folder, so the finished file is moved, not copied.
PARTIAL_UPLOAD_DIR = DATA_DIR / "partial"
PARTIAL_UPLOAD_DIR.mkdir(exist_ok=True)
PARTIAL_UPLOAD_HOURS = 24

# Conversion
FFMPEG = CONFIG["ffmpeg"]
FFMPEG_ARGS = CONFIG["ffmpeg_args"].split()
FFMPEG_THREADS = loader.ffmpeg_threads(CONFIG)  # x264's, per conversion (bench/batch.py)
CONVERT_TIMEOUT = loader.as_int(CONFIG, "convert_timeout")
CONVERT_MAX_ATTEMPTS = loader.as_int(CONFIG, "convert_max_attempts")
SCRATCH_DIR = DATA_DIR / "scratch"

# Limits on what an upload may declare (checked from its headers, before anything is queued)
# and on what reading and converting it may spend. See docs/SECURITY.md.
MAX_DURATION_SECONDS = loader.as_int(CONFIG, "max_duration_seconds")
MAX_VIDEO_SIDE = loader.as_int(CONFIG, "max_video_side")
MAX_VIDEO_PIXELS = loader.as_int(CONFIG, "max_video_pixels")
MAX_STREAMS = loader.as_int(CONFIG, "max_streams")
MAX_FRAME_RATE = loader.as_int(CONFIG, "max_frame_rate")
MAX_BANNER_BYTES = loader.as_int(CONFIG, "max_banner_mb") * 1024 * 1024
MAX_BANNER_PIXELS = loader.as_int(CONFIG, "max_banner_pixels")
BANNER_SIDE = loader.as_int(CONFIG, "banner_side")  # stored banners are re-encoded to fit
PROBE_MEMORY_BYTES = loader.as_int(CONFIG, "probe_memory_mb") * 1024 * 1024
PROBE_SECONDS = loader.as_int(CONFIG, "probe_seconds")
CONVERT_MEMORY_BYTES = loader.as_int(CONFIG, "convert_memory_mb") * 1024 * 1024
MAX_OUTPUT_BYTES = loader.as_int(CONFIG, "max_output_mb") * 1024 * 1024
CONVERT_TIMEOUT_BASE = loader.as_int(CONFIG, "convert_timeout_base")
CONVERT_TIMEOUT_PER_SECOND = loader.as_int(CONFIG, "convert_timeout_per_second")

# Rate limits and quotas. Counts over time live in the cache, shared by every web instance.
ENTRIES_PER_EMAIL = loader.as_int(CONFIG, "entries_per_email")
UPLOADS_PER_ADDRESS_HOUR = loader.as_int(CONFIG, "uploads_per_address_hour")
SIGNUPS_PER_ADDRESS_HOUR = loader.as_int(CONFIG, "signups_per_address_hour")
EMAILS_PER_RECIPIENT_DAY = loader.as_int(CONFIG, "emails_per_recipient_day")
CONTESTS_PER_ACCOUNT = loader.as_int(CONFIG, "contests_per_account")
CONTEST_STORAGE_BYTES = loader.as_int(CONFIG, "contest_storage_gb") * 1024**3
if CONFIG["cache_url"]:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CONFIG["cache_url"],
        }
    }
else:
    # The database every instance shares; its table is made by a migration.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "videoshare_cache",
            # Django's default (300) drops live counters once there are more: of 400 addresses
            # locked out, it forgot 198. Each write counts the rows, so not unbounded either;
            # Redis (cache_url) has no such limit.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

# Rendered pages of contests' public lists (videos/public_list.py), in each web process's own
# memory: their keys name the version of the list, so no process needs telling of a change.
# An entry is one page of a list: about 30 KB (up to some 120 KB with the longest messages),
# so 500 of them keep it under 60 MB a process.
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "videoshare-pages",
    "OPTIONS": {"MAX_ENTRIES": 500},
}

# Mail: one .eml file a message under <data dir>/mail/ in the embedded setup.
_mail = mail.email_settings(CONFIG, DATA_DIR)
EMAIL_BACKEND = _mail.pop("EMAIL_BACKEND")
DEFAULT_FROM_EMAIL = _mail.pop("DEFAULT_FROM_EMAIL")
globals().update(_mail)  # the chosen backend's own EMAIL_* settings

# Queue: Celery. The embedded broker is a folder (kombu's filesystem transport, each message
# written whole before it shows: config/folder_broker.py): no server.
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A job is acknowledged only when it finished, so a lost worker's job is delivered again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CONCURRENCY = loader.as_int(CONFIG, "worker_concurrency")
# The worker logs through LOGGING (JSON lines, Splunk) instead of replacing it with its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_CONSUMER = "config.celery:Consumer"  # reconnects to the broker within seconds
# Liveness, not long leases: a running conversion renews its claim every quarter of
# job_lease_seconds (a heartbeat), so the claim of a dead worker lapses within one lease and the
# upkeep sweep (every sweep_seconds, in each worker's sweeper thread, once for the cluster
# through a lock in the cache) hands the job to another worker.
JOB_LEASE_SECONDS = loader.as_int(CONFIG, "job_lease_seconds")
SWEEP_SECONDS = loader.as_int(CONFIG, "sweep_seconds")
# A queued video whose message was lost is sent again after this long; one whose message could
# not be sent at all (the broker was down) at the next sweep.
VIDEO_REQUEUE_AFTER_SECONDS = loader.as_int(CONFIG, "requeue_after_seconds")
# An email being sent is claimed this long; a worker that died while sending lets it lapse.
EMAIL_CLAIM_SECONDS = loader.as_int(CONFIG, "email_claim_seconds")
# A failure on our side (a full disk, storage or mail down) is waited out: the first pause is
# this long, the next ones grow up to an hour.
OUTAGE_PAUSE_SECONDS = loader.as_int(CONFIG, "outage_pause_seconds")
# The longest a conversion task may run (Celery's hard limit): ffmpeg's ceiling plus copying.
JOB_MAX_SECONDS = CONVERT_TIMEOUT + 240
# A ready entry's stream job (HLS and storyboard) not done after this long is sent again: its
# message was lost, its worker died, or it failed for a reason that may pass.
STREAMS_RESEND_SECONDS = JOB_MAX_SECONDS + 60
STREAMS_AT_ONCE = loader.as_int(CONFIG, "streams_at_once")
# The broker must not hand a running job to another worker: hide it for longer than a job runs.
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = queue.broker(
    CONFIG, DATA_DIR, visibility_timeout=JOB_MAX_SECONDS + 60
)
CELERY_BROKER_TRANSPORT = queue.transport(CELERY_BROKER_URL)
# RabbitMQ's counterpart: how long a worker may hold a job unacknowledged.
CELERY_TASK_QUEUES = queue.task_queues(ack_timeout=JOB_MAX_SECONDS + 60)
# A job running when the broker connection drops goes on; the claim drops its second delivery.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# No remote control: SQS gives us one queue and no room for its per-worker queues, and no
# command of ours uses it, so every broker runs the same way.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",  # drf-spectacular's, with the error answers
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "VideoShare API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Video contests: organizers, contests and entries.",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get components of their own, so an upload's file is binary (multipart).
    "COMPONENT_SPLIT_REQUEST": True,
    # The bodies documented: JSON, and multipart for files (forms are taken too, undocumented).
    "PARSER_WHITELIST": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",  # the default
        "api.schema.add_links",  # from a new contest or entry to the operations on it
    ],
}

LOGGING = logs.logging_config(CONFIG)
