"""Settings for the CCFI Portal, read from the environment (and an optional .env file).

Embedded defaults run on one machine with no services: a SQLite file and Celery in eager
mode. Production and CI set DATABASE_URL and CELERY_BROKER_URL.
"""
import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# GENERAL
# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Put it in the environment or in .env (scripts/setup.sh writes one)."
    )

# PRODUCTION GUARD
# Production is DEBUG off. scripts/serve.sh also sets DJANGO_ENV=production, where DEBUG on is refused and the
# database and broker must be named. With DEBUG off the secret must be strong (Django's own rule, check
# security.W009: 50 characters or more, not a placeholder), whatever DJANGO_ENV says: a deployment that forgets
# DJANGO_ENV still gets no weak secret. The test settings use a long test-only secret.
DJANGO_ENV = env("DJANGO_ENV", default="")
if DJANGO_ENV == "production":
    if DEBUG:
        raise ImproperlyConfigured(
            "DEBUG is on with DJANGO_ENV=production: debug pages show settings and code to anyone. "
            "Set DEBUG=false (or remove it: off is the default) in the environment and in .env."
        )
    _missing = [name for name in ("DATABASE_URL", "CELERY_BROKER_URL") if not env(name, default="")]
    if _missing:
        raise ImproperlyConfigured(
            f"{' and '.join(_missing)} not set with DJANGO_ENV=production: production runs on PostgreSQL and "
            "Celery workers over Redis (README, Production)."
        )
_PLACEHOLDER_SECRETS = {"changeme", "change-me", "change_me", "secret", "secret-key", "secret_key", "your-secret-key",
                        "your-secret-key-here", "replace-me", "insecure", "django-insecure"}
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")
                  or SECRET_KEY.strip().lower() in _PLACEHOLDER_SECRETS):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for DEBUG off: use 50 or more random characters, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))' (scripts/setup.sh writes one to .env)."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# APPS
INSTALLED_APPS = [
    "audit.admin_config.AuditedAdminConfig",  # django.contrib.admin, every change audited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from the portal (the CSP allows nothing else)
    "import_export",
    "accounts.vendor_apps.LockoutsConfig",  # django-axes, django-otp's devices: under translated names
    "django_otp",
    "accounts.vendor_apps.AuthenticatorsConfig",
    "accounts.vendor_apps.RecoveryCodesConfig",
    "django_guid",  # OBSERVABILITY (below): the request id
    "django_prometheus",  # OBSERVABILITY (below): /metrics
    "csp",  # the Content-Security-Policy header (HTTP HEADERS below)
    "django_htmx",  # request.htmx: a view answers htmx with the fragment it swaps in
    "accounts",
    "audit",
    "methodology",
    "reporting",
    "indices",
]

MIDDLEWARE = [
    # OBSERVABILITY (below): request counts and latencies from here to PrometheusAfterMiddleware; the request id
    # (an unsafe incoming X-Request-ID dropped, then django-guid's), and one log line a request.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "ccfi_portal.middleware.RequestIdMiddleware",
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ccfi_portal.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The address and user agent of the events a request records; its refusals (403, a 404 of city data).
    "audit.middleware.AuditMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.PasswordExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ccfi_portal.urls"
WSGI_APPLICATION = "ccfi_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# DATABASE
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Production keeps each process's connection for a minute (checked before reuse) rather than opening one a request:
# a new PostgreSQL connection is a new server process whose caches start cold, and under load that cost more of
# the database's CPU than the requests' queries (bench/api_bench.py, docs/benchmarks.md). Elsewhere (the demo, the
# tests) one a request, Django's default.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60 if DJANGO_ENV == "production" else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Prepared statements (psycopg's, with server-side binding): a statement run a sixth time on a connection is
    # prepared, and PostgreSQL no longer plans it at each run; planning the joins of a value save's fixed queries
    # was half of the database's time a save (bench/api_bench.py, docs/benchmarks.md). Django turns them off for
    # connection poolers in transaction mode (PgBouncer before 1.21): DB_PREPARE_THRESHOLD=0 turns them off here.
    _prepare_threshold = env.int("DB_PREPARE_THRESHOLD", default=5)
    if _prepare_threshold > 0:
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True,
                                                             prepare_threshold=_prepare_threshold)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so that a real Celery worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(DATABASES["default"]["NAME"]).with_suffix(".test.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web server and Celery worker write to one SQLite file. Write-ahead logging lets readers
    # go on while one writes; IMMEDIATE transactions take the write lock when they begin (rather than on
    # their first write, where SQLite cannot wait for it and answers "database is locked" at once); a
    # writer waits up to `timeout` seconds for another's transaction to end.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    })

# CACHE
# Published reads (rankings, city profiles, the methodology, the public API) are cached; see ccfi_portal/cache.py.
# Local memory by default (one cache per process); production: CACHE_URL=redis://127.0.0.1:6379/1.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "ccfi_portal.cache_backends.ReusedClientRedisCache"  # one client, not one a call
# How long a published read stays cached; publications invalidate at once anyway (the published generation):
# this bounds only how stale another process's local-memory cache can be.
CACHE_PUBLISHED_SECONDS = env.int("CACHE_PUBLISHED_SECONDS", default=600)

# AUTHENTICATION
AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out username before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# 等保 level 3 (limit illegal login attempts): 5 failures for one user name lock it for 30 minutes,
# whatever the address, and whether or not the account exists (the same answer for both). Locking by
# name lets someone lock a known account on purpose for half an hour: the price of stopping password
# guessing from many addresses. The security administrator unlocks it in the admin (access attempts).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
# Logins and failures are in the audit trail already (audit.signals): no second log of them.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# axes.W006 asks to lock by address too. A city finance office sits behind one NAT address, so
# colleagues' typos would lock the whole office out; the user name alone is the lock here.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# A second factor (TOTP, any authenticator app) for the system, security and audit administrators,
# reviewers and methodologists; filers log in with their password. On unless DEBUG (the demo).
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = "CCFI Portal"
# The admin never shows a device's secret or its QR code (the security administrator resets devices).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "accounts.passwords.PasswordHistoryValidator", "OPTIONS": {"remember": 5}},
]
# 等保 level 3 (credentials changed periodically): after this many days every page leads to the
# password page until the password is changed. 0 turns it off. ASVS 6.2.10 advises against it.
PASSWORD_MAX_AGE_DAYS = env.int("PASSWORD_MAX_AGE_DAYS", default=90)
# ASVS 4.0.3 3.3.2 (L2): sessions end after 12 hours at the latest, counted from the login
# (accounts.middleware.SessionLifetimeMiddleware), not from the session's last save.
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_ABSOLUTE_AGE = env.int("SESSION_ABSOLUTE_AGE", default=SESSION_COOKIE_AGE)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Served over TLS only (behind the TLS proxy of the README): browsers keep to HTTPS for a year.
# Browsers ignore the header on plain HTTP, so the demo (DEBUG) is not affected either way.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Only matters once the domain is submitted to the browsers' preload list (hstspreload.org).
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# The TLS proxy usually redirects already; the portal does too (behind the proxy it needs BEHIND_TLS_PROXY to see
# the request came over HTTPS, or it would redirect forever). A plain-HTTP test of production mode sets it false.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Probes of the load balancer come over plain HTTP from inside: the health endpoints are not redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTP HEADERS
# Django's defaults, said here: no framing by any site (X-Frame-Options, and frame-ancestors below), no MIME
# sniffing, the path and query not sent to other sites.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp 4): scripts, styles, fonts and images from the portal itself only, no inline
# script, no style attribute or <style> element, no eval. The pages keep their scripts in static/js and their data in
# json_script blocks (not executed); htmx's indicator style is in static/css (base.html turns htmx's own off).
# ECharts and htmx set styles through the CSSOM, which the policy allows. img-src takes data: for the admin's
# and ECharts' images drawn in place.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# INTERNATIONALISATION
# https://docs.djangoproject.com/en/5.2/topics/i18n/
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# STATIC AND MEDIA FILES
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Third-party front-end assets come from the npm registry (package.json, installed by scripts/setup.sh).
STATICFILES_DIRS = [BASE_DIR / "static"]
# The npm packages' files the templates use (package.json), found by ccfi_portal.staticfiles.VendorFinder.
STATIC_VENDOR_FILES = {
    "vendor/htmx/htmx.min.js": BASE_DIR / "node_modules" / "htmx.org" / "dist" / "htmx.min.js",
    "vendor/echarts/echarts.min.js": BASE_DIR / "node_modules" / "echarts" / "dist" / "echarts.min.js",
}
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "ccfi_portal.staticfiles.VendorFinder",
]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# manage.py backup writes its archives here (audit/backup.py); keep them on another machine too, encrypted.
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "backups")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Collected files carry a hash in their names: whitenoise serves them as immutable with a 10-year max-age. This is
# the max-age of the unhashed names only (e.g. a link to /static/favicon.ico): a minute, so a release shows soon.
WHITENOISE_MAX_AGE = env.int("WHITENOISE_MAX_AGE", default=0 if DEBUG else 60)

# UPLOADS (reporting: evidence files and spreadsheet imports; see reporting/uploads.py)
REPORTING_EVIDENCE_MAX_BYTES = env.int("REPORTING_EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
REPORTING_IMPORT_MAX_BYTES = env.int("REPORTING_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
REPORTING_IMPORT_MAX_ROWS = env.int("REPORTING_IMPORT_MAX_ROWS", default=20_000)
# Checked while a file is read, before anything is kept: a row with a cell beyond the last column, a longer cell,
# or more text in all (an XLSX shares repeated strings, so its text can far exceed its size) refuses the file.
REPORTING_IMPORT_MAX_COLUMNS = env.int("REPORTING_IMPORT_MAX_COLUMNS", default=50)
REPORTING_IMPORT_MAX_CELL_CHARS = env.int("REPORTING_IMPORT_MAX_CELL_CHARS", default=5000)
REPORTING_IMPORT_MAX_TEXT_CHARS = env.int("REPORTING_IMPORT_MAX_TEXT_CHARS", default=5_000_000)
# An XLSX is a zip: its parts and unpacked size are checked before it is parsed (zip bombs).
REPORTING_XLSX_MAX_PARTS = env.int("REPORTING_XLSX_MAX_PARTS", default=200)
REPORTING_XLSX_MAX_UNCOMPRESSED_BYTES = env.int("REPORTING_XLSX_MAX_UNCOMPRESSED_BYTES", default=20 * 1024 * 1024)

# EMAIL
# The demo (DEBUG on) writes each message as a file in EMAIL_FILE_PATH, where a newcomer can read the notifications
# the demo accounts receive; otherwise the console, until a deployment names its SMTP backend.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend" if DEBUG
                    else "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=BASE_DIR / "var" / "mail")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ccfi-portal@localhost")

# CELERY
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# No broker configured: run tasks in-process, so the portal works on one machine with no services.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 24 * 60 * 60
# Tasks are idempotent, so acknowledge after the run and requeue work of a worker that died.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# The outbox (indices.outbox): work is asked for by a row in the caller's transaction and handed to the
# broker after the commit, without retrying (a broker that is down must not hold up the request: the
# sweep hands the row over later). Beat runs the sweep; each worker runs it once when it starts.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
OUTBOX_SWEEP_SECONDS = env.int("OUTBOX_SWEEP_SECONDS", default=30)
OUTBOX_DISPATCH_GRACE_SECONDS = 5  # a new request is handed over by its commit hook; the sweep waits this long
# Queued this long without a worker starting it: handed over again (tasks are idempotent). Above the time a
# long queue of reports takes, below Redis's visibility timeout.
OUTBOX_REQUEUE_QUEUED_SECONDS = env.int("OUTBOX_REQUEUE_QUEUED_SECONDS", default=15 * 60)
OUTBOX_MAX_ATTEMPTS = 5  # handed over this many times to workers that died: failed, with the reason
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "indices.outbox_sweep", "schedule": float(OUTBOX_SWEEP_SECONDS)},
}

# Publishing a run enqueues the white paper in both languages; with workers (a broker) also every
# city's report. Without a broker the builds run in the publishing process, so city reports are then
# built when first downloaded instead.
REPORTS_BUILD_ON_PUBLISH = env.bool("REPORTS_BUILD_ON_PUBLISH", default=True)
REPORTS_CITY_ON_PUBLISH = env.bool("REPORTS_CITY_ON_PUBLISH", default=bool(CELERY_BROKER_URL))

# Queues
# Two queues, each with its own workers (Procfile): `recompute` (index runs, methodology checks: seconds, little
# memory) and `reports` (WeasyPrint PDFs: tens of seconds, hundreds of MB), so a batch of report builds never
# holds up a recompute. A task without a route goes to `recompute`, which every deployment consumes.
# CELERY_QUEUE_PREFIX names another pair of queues on the same Redis (the tests' workers use one each).
CELERY_QUEUE_PREFIX = env("CELERY_QUEUE_PREFIX", default="")
CELERY_TASK_DEFAULT_QUEUE = f"{CELERY_QUEUE_PREFIX}recompute"
CELERY_TASK_ROUTES = {
    "indices.recompute_index": {"queue": f"{CELERY_QUEUE_PREFIX}recompute"},
    "indices.methodology_check": {"queue": f"{CELERY_QUEUE_PREFIX}recompute"},
    "indices.outbox_sweep": {"queue": f"{CELERY_QUEUE_PREFIX}recompute"},
    "indices.build_report": {"queue": f"{CELERY_QUEUE_PREFIX}reports"},
}
# Time limits, redelivery and worker recycling, which only work together:
# - A task is killed after 10 minutes (hard limit); at 9 minutes it gets SoftTimeLimitExceeded to clean up.
#   The longest task, the CJK white paper, takes well under a minute on one core.
# - Tasks are acknowledged after they run (acks_late above). Redis hands an unacknowledged task to another worker
#   once the visibility timeout passes, so a worker that died (kill -9, OOM, a machine lost) or was stopped
#   mid-task has its work picked up by a restarted or another worker within 15 minutes. The timeout must stay
#   above the hard time limit, or a task still running is delivered a second time (the tasks are idempotent, but
#   that is wasted work); and no countdown or ETA may exceed it (the retries wait at most 5 minutes).
# - The report worker (Procfile) replaces its child process after 20 builds (--max-tasks-per-child, as
#   WeasyPrint's maintainers advise) or when it passes 1 GB (--max-memory-per-child), so its memory stays bounded.
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 9 * 60
# Publishing retries the connection briefly (under a second), then gives up: the outbox keeps the request.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 15 * 60, "max_retries": 1, "interval_start": 0,
                                   "interval_step": 0.2, "interval_max": 0.5}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": 15 * 60}

# REST FRAMEWORK
# https://www.django-rest-framework.org/api-guide/settings/
# API throttling: per client address when anonymous, per account when authenticated (a session or a token).
API_THROTTLE_ANON = env("API_THROTTLE_ANON", default="60/min")
API_THROTTLE_USER = env("API_THROTTLE_USER", default="600/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",  # personal API tokens (accounts.tokens); first: 401s
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "ccfi_portal.throttling.ClientRateThrottle", "ccfi_portal.throttling.SignedInUserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_ANON, "user": API_THROTTLE_USER},
    # RFC 9457 problem details for every error (ccfi_portal.api_errors).
    "EXCEPTION_HANDLER": "ccfi_portal.api_errors.problem_exception_handler",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Declares the problem answers every operation may give (ccfi_portal.api_errors.ProblemAutoSchema).
    "DEFAULT_SCHEMA_CLASS": "ccfi_portal.api_errors.ProblemAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CCFI Portal API",
    "DESCRIPTION": "China Consumer Finance Index portal: cities, methodology versions, returns and index runs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from the portal's own static files (drf-spectacular-sidecar): the CSP allows no other.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# LOGGING
# Text for the demo (DEBUG); in production (DEBUG off) or with LOG_FORMAT=json one JSON object a line (README,
# Production, Observability). Every record carries the request id (ccfi_portal.observability.ContextFilter).
LOG_FORMAT = env("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "ccfi_portal.observability.ContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "ccfi_portal.observability.JsonLogFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"],
                             "formatter": "json" if LOG_FORMAT == "json" else "text"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every layout step of every page at INFO; its warnings (e.g. a missing glyph) stay.
    # django-guid logs each id it reads or makes at INFO: the request's own line carries the id.
    # The request line (ccfi_portal.request) replaces runserver's and gunicorn's access logs.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"},
                "django_guid": {"level": "WARNING"}, "django.server": {"level": "WARNING"}},
}

# OBSERVABILITY
# The request id: django-guid, on the header X-Request-ID (an incoming one is kept if it is a short token of safe
# characters: ccfi_portal.middleware.RequestIdMiddleware checks, so django-guid's UUID-only check is off), returned
# in the response and passed to the tasks the request enqueues (ccfi_portal.observability).
DJANGO_GUID = {"GUID_HEADER_NAME": "X-Request-ID", "VALIDATE_GUID": False, "RETURN_HEADER": True,
               "EXPOSE_HEADER": False}
# /metrics answers only direct requests from these addresses (or networks), or a bearer of METRICS_TOKEN.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Database metrics (queries, errors, connections): django-prometheus's wrappers of the two backends used here.
_PROMETHEUS_DB_ENGINES = {"django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
                          "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3"}
DATABASES["default"]["ENGINE"] = _PROMETHEUS_DB_ENGINES.get(DATABASES["default"]["ENGINE"],
                                                            DATABASES["default"]["ENGINE"])
