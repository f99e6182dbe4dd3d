"""MedBook settings: one module, every value from the environment (12-factor).

Two modes:

* embedded default (``DATABASE_URL`` unset or a ``sqlite://`` URL): SQLite under ``var/``,
  local-memory cache unless ``REDIS_URL`` is set, Celery on a filesystem transport, and a
  development secret plus encryption keys generated once under ``var/secrets.json``;
* production (``DATABASE_URL`` points at PostgreSQL): ``DJANGO_SECRET_KEY``,
  ``FIELD_ENCRYPTION_KEYS`` and ``BLIND_INDEX_KEY`` must be given, otherwise start-up stops with
  ``ImproperlyConfigured`` naming what is missing.

Any variable ``NAME`` can also be given as ``NAME_FILE`` pointing at a file holding the value
(Kubernetes/Docker secrets).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """Return ``$NAME``, else the contents of the file named by ``$NAME_FILE``, else default."""
    if name in os.environ:
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


VAR_DIR = Path(env("MEDBOOK_VAR_DIR", str(BASE_DIR / "var")))
DATABASE_URL = env("DATABASE_URL", "") or ""
EMBEDDED = DATABASE_URL == "" or DATABASE_URL.startswith("sqlite")

# ---------------------------------------------------------------------------------------------
# Secrets. The embedded default generates its own once; production must be given them.
# ---------------------------------------------------------------------------------------------
DEV_SECRETS = env_bool("MEDBOOK_DEV_SECRETS", EMBEDDED)


def _dev_secrets() -> dict[str, str]:
    path = VAR_DIR / "secrets.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    generated = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(generated, fh, indent=2)
    return generated


def _secret(name: str) -> str:
    value = env(name)
    if value:
        return value
    if DEV_SECRETS:
        return _dev_secrets()[name]
    raise ImproperlyConfigured(
        f"{name} is not set. Production needs DJANGO_SECRET_KEY, FIELD_ENCRYPTION_KEYS and "
        f"BLIND_INDEX_KEY in the environment (or as NAME_FILE); see README, section Configuration."
    )


SECRET_KEY = _secret("DJANGO_SECRET_KEY")
# "id:base64key,id:base64key": the first key encrypts, every listed key decrypts (rotation).
FIELD_ENCRYPTION_KEYS = _secret("FIELD_ENCRYPTION_KEYS")
# HMAC key of the blind indexes; separate from the encryption keys and from SECRET_KEY.
BLIND_INDEX_KEY = _secret("BLIND_INDEX_KEY")

DEBUG = env_bool("DJANGO_DEBUG", EMBEDDED and DEV_SECRETS)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "medbook.error_pages.csrf_failure"

# ---------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "django_celery_beat",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "medbook",
    "members",
    "appointments",
    "billing",
    "records",
    "reports",
    "privacy",
    "identity",
    "triage",
    "interop",
    "demo",
]

MIDDLEWARE = [
    # /healthz and /readyz for load balancers and Kubernetes, before the host check, the HTTPS
    # redirect and the session (medbook/health.py).
    "medbook.health.HealthProbeMiddleware",
    # Each request's time and database statements by route, for /metrics (medbook/metrics.py).
    "medbook.metrics.RequestMetricsMiddleware",
    # A request id in every log line of the request, in X-Request-ID and on the 500 page.
    "medbook.error_pages.RequestIdMiddleware",
    # Which reads of the request may go to the replica; read-your-writes pinning (db_router.py).
    "medbook.db_router.ReadRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "medbook.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HEAD wherever GET (uptime checks): answered as GET without the body.
    "medbook.middleware.HeadAsGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "medbook.middleware.ClinicLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: no-store, private on every response to a logged-in user.
    "medbook.middleware.NoStoreMiddleware",
    # A 405 with an empty body (require_GET …) gets the error page.
    "medbook.error_pages.MethodNotAllowedPageMiddleware",
    # A control character (NUL …) in the address or a posted field: 400, before any view.
    "medbook.middleware.InputPolicyMiddleware",
    # A booking attempt that cannot win is answered from the session and Redis (the release
    # gate), before anything below loads the login, the member or touches the database.
    "billing.middleware.ReleaseGateMiddleware",
    # Every page needs a login unless its view is marked @login_not_required (public pages).
    "medbook.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "medbook.middleware.SessionPolicyMiddleware",
    "medbook.middleware.StaffMfaMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # allauth's rate limits raised deep in its flows answer 429 with a page, never 500.
    "members.middleware.RateLimitedMiddleware",
    # A member with a new version of the terms or privacy policy to accept: the consent page.
    "members.middleware.ConsentMiddleware",
    # Switching the language also sets a member's language for texts and e-mails.
    "members.middleware.LanguagePreferenceMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # A service's refusal (medbook.errors.DomainError) no view caught: a page saying why, 4xx.
    "medbook.refusals.RefusalMiddleware",
]

ROOT_URLCONF = "medbook.urls"
WSGI_APPLICATION = "medbook.wsgi.application"
AUTH_USER_MODEL = "members.User"

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
                "members.context_processors.member_header",
                "medbook.clinic.context",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database: SQLite under var/ by default, PostgreSQL (psycopg 3 + pool) when DATABASE_URL says so.
# ---------------------------------------------------------------------------------------------
if EMBEDDED:
    sqlite_path = DATABASE_URL.removeprefix("sqlite:///") if DATABASE_URL else ""
    if not sqlite_path:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        sqlite_path = str(VAR_DIR / "medbook.sqlite3")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers never deadlock on upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": env("SQLITE_TEST_NAME", "") or None},
        }
    }
else:
    default_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
    if default_db["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:/// URL.")
    if env_bool("DATABASE_POOL", True):
        # While PostgreSQL is unreachable a request waits at most DATABASE_POOL_TIMEOUT seconds
        # for a connection and is answered 503 (medbook/failures.py), so web workers don't pile
        # up; a pooled connection is checked before use, and the pool reconnects every half
        # second (medbook/apps.py), so service resumes within a second of PostgreSQL's return.
        default_db["OPTIONS"] = {
            "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 2),
            "pool": {
                "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
                "max_size": env_int("DATABASE_POOL_MAX_SIZE", 20),
                "timeout": env_int("DATABASE_POOL_TIMEOUT", 2),
            },
        }
        default_db["CONN_HEALTH_CHECKS"] = True  # with a pool: checked when taken from it
    else:
        default_db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
        default_db["CONN_HEALTH_CHECKS"] = True
        default_db["OPTIONS"] = {"connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 2)}
    # Django's backend plus a circuit breaker for outages (medbook/postgresql/base.py).
    default_db["ENGINE"] = "medbook.postgresql"
    DATABASES = {"default": default_db}
    # A streaming replica for reads that may be a moment stale (medbook/db_router.py). Django's
    # plain backend with persistent connections, no pool and no breaker: a replica that is down
    # must cost a refused connect and a primary read, never a 503 of the primary's breaker.
    DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", "") or ""
    if DATABASE_REPLICA_URL:
        replica_db = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60)
        if replica_db["ENGINE"] != "django.db.backends.postgresql":
            raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a postgres:// URL.")
        # Checked once per request by the router itself (medbook/db_router.py).
        replica_db["CONN_HEALTH_CHECKS"] = False
        replica_db["OPTIONS"] = {"connect_timeout": env_int("DATABASE_REPLICA_CONNECT_TIMEOUT", 1)}
        # Tests use the primary's test database through this alias (no second test database).
        replica_db["TEST"] = {"MIRROR": "default"}
        DATABASES["replica"] = replica_db

# Reads that may be stale go to the replica when there is one; see medbook/db_router.py.
DATABASE_ROUTERS = ["medbook.db_router.PrimaryReplicaRouter"]
# After a browser wrote, its requests read the primary for this long (read-your-writes).
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 5)
# Above this replay lag (seconds), or when the replica does not answer, reads go to the primary.
REPLICA_MAX_LAG_SECONDS = float(env("REPLICA_MAX_LAG_SECONDS", "2") or 2)
# How often a process looks up the replica's lag, and how long it leaves a failed replica alone.
REPLICA_LAG_CHECK_SECONDS = float(env("REPLICA_LAG_CHECK_SECONDS", "3") or 3)
REPLICA_RETRY_SECONDS = float(env("REPLICA_RETRY_SECONDS", "5") or 5)
# The pages (URL names) whose GET may read the replica: pages that show, never pages that decide
# (no staff page, no booking or payment step, no API).
REPLICA_READ_VIEWS = frozenset(
    {
        "appointments:home",
        "appointments:doctor_detail",
        "billing:appointments",
        # Not the appointment page: a member comes back to it from the cashier, and its status
        # changes by the gateway's notice (not the member's own POST, so no pin): a lagging
        # replica would show a paid visit as unpaid.
        "members:messages",
        "members:membership",
    }
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------------
# Cache: Redis when REDIS_URL is set (shared by every process), local memory otherwise.
# With Redis, a circuit breaker sends the cache to a database table while Redis is unreachable
# (medbook/cache.py): limits and logins keep working, and a hung Redis costs one short timeout
# per process every BREAKER_SECONDS, not one per call.
# ---------------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", "") or ""
# After a failure, how long a process leaves Redis alone before trying it again.
REDIS_BREAKER_SECONDS = float(env("REDIS_BREAKER_SECONDS", "10") or 10)
if REDIS_URL:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    _cache_prefix = env("CACHE_KEY_PREFIX", "medbook")
    _redis_timeout = float(env("REDIS_SOCKET_TIMEOUT", "0.5") or 0.5)
    CACHES = {
        "default": {
            "BACKEND": "medbook.cache.FailoverCache",
            "OPTIONS": {"PRIMARY": "redis", "FALLBACK": "database"},
        },
        "redis": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _cache_prefix,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": _redis_timeout,
                "SOCKET_TIMEOUT": _redis_timeout,
                # No retries inside the client: the breaker decides when to try again.
                "CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), 0)},
            },
        },
        "database": {"BACKEND": "medbook.cache.DatabaseCache", "KEY_PREFIX": _cache_prefix},
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# ---------------------------------------------------------------------------------------------
# Celery: RabbitMQ or Redis from CELERY_BROKER_URL; the embedded default uses a filesystem queue
# under var/celery so jobs run with no external broker: kombu's filesystem transport made safe for
# concurrent writers (medbook/transport.py: every file written under a temp name, then renamed).
# ---------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    for _folder in (_queue_dir, _processed_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT = "medbook.transport:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# Deployments (or test runs) sharing one broker keep their jobs apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "celery") or "celery"
# RabbitMQ in production: "quorum" declares the jobs' queue as a quorum queue (replicated by
# Raft across the broker's nodes: a job survives a node's loss). Celery recognises one only when
# it declares it itself, and delays jobs (countdown, e.g. a webhook's retry) through RabbitMQ's
# native delayed delivery, which needs a topic exchange. "classic" (default): Celery's default.
CELERY_QUEUE_TYPE = env("CELERY_QUEUE_TYPE", "classic")
if CELERY_QUEUE_TYPE not in {"classic", "quorum"}:
    raise ImproperlyConfigured("CELERY_QUEUE_TYPE must be classic or quorum")
if CELERY_QUEUE_TYPE == "quorum":
    from kombu import Exchange, Queue

    CELERY_TASK_DEFAULT_EXCHANGE = CELERY_TASK_DEFAULT_QUEUE
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    CELERY_TASK_DEFAULT_ROUTING_KEY = CELERY_TASK_DEFAULT_QUEUE
    CELERY_TASK_QUEUES = [
        Queue(
            CELERY_TASK_DEFAULT_QUEUE,
            Exchange(CELERY_TASK_DEFAULT_QUEUE, type="topic"),
            routing_key=CELERY_TASK_DEFAULT_QUEUE,
            queue_arguments={"x-queue-type": "quorum"},
        )
    ]
    CELERY_BROKER_NATIVE_DELAYED_DELIVERY_QUEUE_TYPE = "quorum"
# A request that enqueues a job while the broker is down waits at most about a second.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.3,
    "interval_max": 0.5,
}
# A job is acknowledged only when it has finished, and a job whose worker process was killed
# is handed out again instead of being acknowledged as lost: every job is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 2)
# Promised jobs (medbook.outbox): after a broker failure a process leaves the hand-over to the
# relay job for this many seconds instead of making each request wait for the broker.
OUTBOX_BROKER_PAUSE = env_int("OUTBOX_BROKER_PAUSE", 10)
# Publishing tries the broker once and gives up fast (the outbox keeps the job); the worker's
# own connection keeps retrying for ever, as Celery does by default.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **globals().get("CELERY_BROKER_TRANSPORT_OPTIONS", {}),
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The periodic jobs live in the database (django-celery-beat); medbook/jobs.py seeds them.
CELERY_BEAT_SCHEDULE: dict = {}

# ---------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "appointments:home"
AUTHENTICATION_BACKENDS = [
    # allauth's and Django's backends, with the session's user read from Redis (medbook.backends).
    # allauth's first: it knows members' numbers and staff usernames, so a good login hashes the
    # password once; Django's then hashes an unknown username, so that a wrong password costs the
    # same hashing whether or not the number is registered.
    "medbook.backends.CachedAuthenticationBackend",  # members: phone + password; staff too
    "medbook.backends.CachedModelBackend",  # staff: username + password
]
PASSWORD_HASHERS = [
    "medbook.hashers.ClinicArgon2PasswordHasher",  # why these parameters: medbook/hashers.py
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # hashes made before, upgraded on login
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

# Members sign up and log in with their mobile number (django-allauth); the number is verified
# by a one-time code sent through MEDBOOK_SMS_BACKEND.
ACCOUNT_ADAPTER = "members.adapter.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "members.forms.SignupDetailsForm"
# Sign-up answers alike (and as fast) whether or not the number is registered.
ACCOUNT_FORMS = {"signup": "members.signup.SignupForm"}
# Members log in with their number, staff with their username (and a TOTP code: allauth.mfa).
ACCOUNT_LOGIN_METHODS = {"phone", "username"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "password1*", "password2*"]
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 10 * 60
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 5
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_CHANGE = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_REAUTHENTICATION_TIMEOUT = 10 * 60
ACCOUNT_RATE_LIMITS = {
    # Failed logins per account: members.adapter (a shared counter per account, 429 after).
    "login": "30/m/ip",
    "signup": "20/h/ip",
    "verify_phone": "1/30s/key,10/h/key,30/h/ip",  # codes texted to one number
    "reset_password": "1/30s/key,10/h/key,30/h/ip",  # password-reset codes, the same
    "change_phone": "3/h/user",
    "reauthenticate": "10/m/user",
    "change_password": "5/m/user",
}
# Addresses of the reverse proxies in front of MedBook whose X-Forwarded-For is believed when
# the operation log records where a request came from (none by default: the socket's address).
MEDBOOK_TRUSTED_PROXIES = env_list("MEDBOOK_TRUSTED_PROXIES", "")
# Two-factor authentication (TOTP) is required for every staff login (console and admin).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", "MedBook") or "MedBook"
MEDBOOK_STAFF_MFA_REQUIRED = env_bool("MEDBOOK_STAFF_MFA_REQUIRED", True)
# After this many failed logins of one account within the window, a member needs the password
# and a code texted to the account's number; a staff login is still checked (with the TOTP
# code after it) but only after MEDBOOK_STAFF_LOCKOUT_DELAY seconds per attempt.
MEDBOOK_LOGIN_FAILURES = env_int("MEDBOOK_LOGIN_FAILURES", 5)
MEDBOOK_LOGIN_FAILURE_WINDOW = env_int("MEDBOOK_LOGIN_FAILURE_WINDOW", 30 * 60)  # seconds
MEDBOOK_STAFF_LOCKOUT_DELAY = env_int("MEDBOOK_STAFF_LOCKOUT_DELAY", 3)  # seconds
# Login codes texted to one account: at most these ("count/seconds", all must hold).
MEDBOOK_LOGIN_CODE_RATE = env("MEDBOOK_LOGIN_CODE_RATE", "1/60,10/3600") or "1/60,10/3600"
MEDBOOK_LOGIN_CODE_RATE_IP = env("MEDBOOK_LOGIN_CODE_RATE_IP", "30/3600") or "30/3600"
# Texts: "log" (the default: written to the log), "aliyun", "tencent" or a dotted path; the
# providers send the templates named in MEDBOOK_SMS_TEMPLATES (members/sms.py), signed with
# MEDBOOK_SMS_SIGNATURE (the approved 签名), and post delivery receipts to
# /sms/receipts/<provider>/?token=<MEDBOOK_SMS_RECEIPT_TOKEN>.
MEDBOOK_SMS_BACKEND = env("MEDBOOK_SMS_BACKEND", "") or "log"
MEDBOOK_SMS_SIGNATURE = env("MEDBOOK_SMS_SIGNATURE", "MedBook")
try:
    MEDBOOK_SMS_TEMPLATES = json.loads(env("MEDBOOK_SMS_TEMPLATES", "") or "{}")
except ValueError as exc:
    raise ImproperlyConfigured(f"MEDBOOK_SMS_TEMPLATES is not JSON: {exc}") from exc
if not isinstance(MEDBOOK_SMS_TEMPLATES, dict):
    raise ImproperlyConfigured("MEDBOOK_SMS_TEMPLATES must be a JSON object: text → template")
MEDBOOK_SMS_TIMEOUT_SECONDS = env_int("MEDBOOK_SMS_TIMEOUT_SECONDS", 5)
MEDBOOK_SMS_RECEIPT_TOKEN = env("MEDBOOK_SMS_RECEIPT_TOKEN", "") or ""
if MEDBOOK_SMS_RECEIPT_TOKEN and len(MEDBOOK_SMS_RECEIPT_TOKEN) < 32:
    raise ImproperlyConfigured("MEDBOOK_SMS_RECEIPT_TOKEN must be at least 32 characters")
MEDBOOK_ALIYUN_ACCESS_KEY_ID = env("MEDBOOK_ALIYUN_ACCESS_KEY_ID", "") or ""
MEDBOOK_ALIYUN_ACCESS_KEY_SECRET = env("MEDBOOK_ALIYUN_ACCESS_KEY_SECRET", "") or ""
MEDBOOK_ALIYUN_SMS_URL = env("MEDBOOK_ALIYUN_SMS_URL", "") or "https://dysmsapi.aliyuncs.com/"
MEDBOOK_TENCENT_SMS_URL = env("MEDBOOK_TENCENT_SMS_URL", "") or "https://sms.tencentcloudapi.com/"
MEDBOOK_TENCENT_SMS_APP_ID = env("MEDBOOK_TENCENT_SMS_APP_ID", "") or ""
MEDBOOK_TENCENT_SMS_REGION = env("MEDBOOK_TENCENT_SMS_REGION", "") or "ap-guangzhou"
# In-app messages also go out by text (these kinds; empty: none) and by e-mail (every kind, when
# the member's login has an address); see members/delivery.py.
MEDBOOK_TEXT_MESSAGE_KINDS = env_list(
    "MEDBOOK_TEXT_MESSAGE_KINDS",
    "suspended,reminder,cancelled,refunded,no_show,rescheduled,waitlist",
)
EMAIL_BACKEND = env("EMAIL_BACKEND", "") or "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = env("EMAIL_HOST", "") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)  # seconds; a stuck mail server must not hang a worker
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "") or "MedBook <noreply@localhost>"
# The password-reset code: valid this many seconds, this many tries.
MEDBOOK_CODE_TIMEOUT = env_int("MEDBOOK_CODE_TIMEOUT", 600)
# A self-service sign-up whose number was never confirmed by its code is deleted after this
# many minutes (members/unverified.py): it does not hold the number against its real owner.
MEDBOOK_UNVERIFIED_SIGNUP_MINUTES = env_int("MEDBOOK_UNVERIFIED_SIGNUP_MINUTES", 60)
# Data exports (privacy.export): at most this many per member per day.
MEDBOOK_DATA_EXPORTS_PER_DAY = env_int("MEDBOOK_DATA_EXPORTS_PER_DAY", 5)
MEDBOOK_CODE_MAX_ATTEMPTS = env_int("MEDBOOK_CODE_MAX_ATTEMPTS", 5)
ADMIN_URL = env("DJANGO_ADMIN_URL", "admin/") or "admin/"

# ---------------------------------------------------------------------------------------------
# The member API (/api/v1/): Django REST framework, JWT (medbook/api/tokens.py), OpenAPI 3.1.
# ---------------------------------------------------------------------------------------------
# "kid:base64key,kid:base64key" (each key 32 bytes or more): every listed key verifies, the one
# named by MEDBOOK_API_JWT_SIGNING_KID (default: the first) signs. Rotation: add the new key,
# make it the signing key, and drop the old one once its tokens have expired (refresh lifetime).
# Unset: one key derived from SECRET_KEY (kid "k0").
MEDBOOK_API_JWT_KEYS = env("MEDBOOK_API_JWT_KEYS", "") or ""
MEDBOOK_API_JWT_SIGNING_KID = env("MEDBOOK_API_JWT_SIGNING_KID", "") or ""
# The one algorithm tokens are signed and accepted with (an allow-list of one; never "none").
MEDBOOK_API_JWT_ALGORITHM = env("MEDBOOK_API_JWT_ALGORITHM", "HS256") or "HS256"
if MEDBOOK_API_JWT_ALGORITHM not in {"HS256", "HS384", "HS512"}:
    raise ImproperlyConfigured("MEDBOOK_API_JWT_ALGORITHM must be HS256, HS384 or HS512.")
MEDBOOK_API_JWT_ISSUER = env("MEDBOOK_API_JWT_ISSUER", "") or "medbook"
MEDBOOK_API_JWT_AUDIENCE = env("MEDBOOK_API_JWT_AUDIENCE", "") or "medbook-api"
MEDBOOK_API_ACCESS_MINUTES = env_int("MEDBOOK_API_ACCESS_MINUTES", 10)
MEDBOOK_API_REFRESH_DAYS = env_int("MEDBOOK_API_REFRESH_DAYS", 30)
# Requests per login and per address ("count/seconds", several comma separated), counted on
# the shared counters of medbook.throttle (Redis in production).
MEDBOOK_API_RATE_USER = env("MEDBOOK_API_RATE_USER", "120/60") or "120/60"
MEDBOOK_API_RATE_IP = env("MEDBOOK_API_RATE_IP", "600/60") or "600/60"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["medbook.api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "medbook.api.throttles.PerAddressThrottle",
        "medbook.api.throttles.PerLoginThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "medbook.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "medbook.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SIMPLE_JWT = {
    "ALGORITHM": MEDBOOK_API_JWT_ALGORITHM,
    "AUDIENCE": MEDBOOK_API_JWT_AUDIENCE,
    "ISSUER": MEDBOOK_API_JWT_ISSUER,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "AUTH_TOKEN_CLASSES": ("medbook.api.tokens.AccessToken",),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MedBook API",
    "DESCRIPTION": (
        "The member API of MedBook. Log in at /api/v1/auth/token/ for a 10-minute access token "
        "(Authorization: Bearer …) and a refresh token; every error answers "
        '{"error": {"code", "message", "fields"}} in the language of Accept-Language '
        "(zh-hans or en)."
    ),
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to an outside validator (the CSP allows none, and the schema stays here).
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "deepLinking": True},
    # Several serializers have a "status" of different choices: each set gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "appointments.choices.AppointmentStatus",
        "ScheduleStatusEnum": "appointments.choices.ScheduleStatus",
        "PatientRelationEnum": "members.models.Relation",
        "IdTypeEnum": "members.models.IdType",
    },
}

# ---------------------------------------------------------------------------------------------
# Language and time
# ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date and time format per language (medbook/formats): 24-hour times in both.
FORMAT_MODULE_PATH = ["medbook.formats"]
TIME_ZONE = env("CLINIC_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# The reports' exports (reports.Export's files): written by a worker, read by any web process, so
# in production every web process and worker must reach the same place: a shared volume
# (MEDBOOK_EXPORT_DIR on NFS, a ReadWriteMany volume) or an object store through a storage backend
# (MEDBOOK_EXPORT_STORAGE, its options as JSON in MEDBOOK_EXPORT_STORAGE_OPTIONS). Files are never
# served by URL: only the export's download view reads them, after its permission check.
MEDBOOK_EXPORT_DIR = env("MEDBOOK_EXPORT_DIR", "") or str(VAR_DIR / "exports")
MEDBOOK_EXPORT_STORAGE = (
    env("MEDBOOK_EXPORT_STORAGE", "") or "django.core.files.storage.FileSystemStorage"
)
try:
    _export_storage_options = json.loads(env("MEDBOOK_EXPORT_STORAGE_OPTIONS", "") or "{}")
except ValueError as exc:
    raise ImproperlyConfigured("MEDBOOK_EXPORT_STORAGE_OPTIONS must be a JSON object.") from exc
if not isinstance(_export_storage_options, dict):
    raise ImproperlyConfigured("MEDBOOK_EXPORT_STORAGE_OPTIONS must be a JSON object.")
if MEDBOOK_EXPORT_STORAGE == "django.core.files.storage.FileSystemStorage":
    _export_storage_options = {"location": MEDBOOK_EXPORT_DIR, **_export_storage_options}
# How long an export's file is kept (hours), and the data rows per XLSX sheet before the next
# sheet begins (Excel shows at most 1,048,576 rows a sheet, the header included).
MEDBOOK_EXPORT_KEEP_HOURS = env_int("MEDBOOK_EXPORT_KEEP_HOURS", 24)
MEDBOOK_EXPORT_SHEET_ROWS = env_int("MEDBOOK_EXPORT_SHEET_ROWS", 1_000_000)
if not 1 <= MEDBOOK_EXPORT_SHEET_ROWS <= 1_048_575:
    raise ImproperlyConfigured("MEDBOOK_EXPORT_SHEET_ROWS must lie within 1..1048575.")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "exports": {"BACKEND": MEDBOOK_EXPORT_STORAGE, "OPTIONS": _export_storage_options},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# ---------------------------------------------------------------------------------------------
# Security (production values; issue-level hardening builds on these)
# ---------------------------------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies: only over HTTPS, only for this exact host, path /.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_SERIALIZER = "medbook.sessions.EncryptedJSONSerializer"
# With Redis, a request reads its session from the cache (written through to the database, which
# keeps it across a Redis flush): no database round trip per request for the session.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content Security Policy (medbook.middleware.SecurityHeadersMiddleware): no inline script or
# style, nothing from other origins.
MEDBOOK_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Sessions: staff are logged out after 30 idle minutes and 12 hours in all; members after the
# values below (minutes).
MEDBOOK_STAFF_SESSION_IDLE_MINUTES = env_int("MEDBOOK_STAFF_SESSION_IDLE_MINUTES", 30)
MEDBOOK_STAFF_SESSION_MAX_MINUTES = env_int("MEDBOOK_STAFF_SESSION_MAX_MINUTES", 12 * 60)
MEDBOOK_MEMBER_SESSION_IDLE_MINUTES = env_int("MEDBOOK_MEMBER_SESSION_IDLE_MINUTES", 7 * 24 * 60)
MEDBOOK_MEMBER_SESSION_MAX_MINUTES = env_int("MEDBOOK_MEMBER_SESSION_MAX_MINUTES", 30 * 24 * 60)
X_FRAME_OPTIONS = "DENY"

# ---------------------------------------------------------------------------------------------
# Clinic rules (see README, "Clinic rules")
# ---------------------------------------------------------------------------------------------
# /metrics (Prometheus) answers only a scrape that sends "Authorization: Bearer <this>"; empty:
# there is no /metrics. PROMETHEUS_MULTIPROC_DIR (a folder every process shares, emptied before
# they start) makes it add up every process's counts; a worker in its own pod serves its own on
# MEDBOOK_WORKER_METRICS_PORT.
MEDBOOK_METRICS_TOKEN = env("MEDBOOK_METRICS_TOKEN", "")
MEDBOOK_WORKER_METRICS_PORT = env_int("MEDBOOK_WORKER_METRICS_PORT", 0)
MEDBOOK_CANCEL_CUTOFF_HOURS = env_int("MEDBOOK_CANCEL_CUTOFF_HOURS", 24)
# The no-show rule: still-confirmed appointments become no-shows this long after the session
# ends; this many within the window pause online booking for the ban's length.
# Anti-hoarding: one active appointment per member, department and day (staff may override),
# and booking attempts per member and per address: "attempts/seconds".
MEDBOOK_ONE_VISIT_PER_DEPARTMENT_DAY = env_bool("MEDBOOK_ONE_VISIT_PER_DEPARTMENT_DAY", True)
# Patients (就诊人) an account may hold, the holder included.
MEDBOOK_MAX_PATIENTS = env_int("MEDBOOK_MAX_PATIENTS", 5)
# Medical insurance (医保, billing.insurance): the sandbox insurer is always there (its rules
# are InsurancePlan rows in admin); the provincial mobile-payment API joins when its URL, app
# id and secret are given. A call that takes longer than the timeout (seconds) is refused.
MEDBOOK_INSURANCE_PROVINCIAL_URL = env("MEDBOOK_INSURANCE_PROVINCIAL_URL", "") or ""
MEDBOOK_INSURANCE_PROVINCIAL_APP_ID = env("MEDBOOK_INSURANCE_PROVINCIAL_APP_ID", "") or ""
MEDBOOK_INSURANCE_PROVINCIAL_SECRET = env("MEDBOOK_INSURANCE_PROVINCIAL_SECRET", "") or ""
MEDBOOK_INSURANCE_PROVINCIAL_TIMEOUT = env_int("MEDBOOK_INSURANCE_PROVINCIAL_TIMEOUT", 8)
if MEDBOOK_INSURANCE_PROVINCIAL_URL and not (
    MEDBOOK_INSURANCE_PROVINCIAL_APP_ID and MEDBOOK_INSURANCE_PROVINCIAL_SECRET
):
    raise ImproperlyConfigured(
        "MEDBOOK_INSURANCE_PROVINCIAL_URL needs MEDBOOK_INSURANCE_PROVINCIAL_APP_ID and _SECRET."
    )
MEDBOOK_BOOKING_RATE_MEMBER = env("MEDBOOK_BOOKING_RATE_MEMBER", "10/60") or "10/60"
MEDBOOK_BOOKING_RATE_IP = env("MEDBOOK_BOOKING_RATE_IP", "60/60") or "60/60"
# Payment notifications accepted per sending address (a gateway retries what is refused).
MEDBOOK_NOTIFY_RATE = env("MEDBOOK_NOTIFY_RATE", "300/60") or "300/60"
MEDBOOK_NO_SHOW_GRACE_MINUTES = env_int("MEDBOOK_NO_SHOW_GRACE_MINUTES", 30)
# The reports' periodic refresh recomputes the clinic days from this many days back up to the
# last day with sessions, at most this many days ahead (older days: the rebuild_reports command).
MEDBOOK_REPORTS_DAYS_BACK = env_int("MEDBOOK_REPORTS_DAYS_BACK", 7)
MEDBOOK_REPORTS_DAYS_AHEAD = env_int("MEDBOOK_REPORTS_DAYS_AHEAD", 60)
MEDBOOK_NO_SHOW_LIMIT = env_int("MEDBOOK_NO_SHOW_LIMIT", 3)
MEDBOOK_NO_SHOW_WINDOW_DAYS = env_int("MEDBOOK_NO_SHOW_WINDOW_DAYS", 90)
MEDBOOK_NO_SHOW_BAN_DAYS = env_int("MEDBOOK_NO_SHOW_BAN_DAYS", 30)
# The doctor's queue: a skipped number (过号) goes back after this many waiting patients (or
# last, when fewer wait); a checked-in patient may be marked a no-show (未到诊) only once called
# this many times (the call and its 重呼).
MEDBOOK_QUEUE_SKIP_BACK = env_int("MEDBOOK_QUEUE_SKIP_BACK", 3)
MEDBOOK_NO_SHOW_AFTER_CALLS = env_int("MEDBOOK_NO_SHOW_AFTER_CALLS", 2)
MEDBOOK_HOLD_MINUTES = env_int("MEDBOOK_HOLD_MINUTES", 15)
# A member's plain web booking written in four hand-built statements on PostgreSQL
# (billing.services.express) instead of the ORM's fifteen; false: always the ORM's path.
MEDBOOK_EXPRESS_BOOKING = env_bool("MEDBOOK_EXPRESS_BOOKING", True)
# Waitlist (候补): how long a freed slot is held for the member it is offered to, and how many
# open waitlist places a member may have at once.
MEDBOOK_WAITLIST_OFFER_MINUTES = env_int("MEDBOOK_WAITLIST_OFFER_MINUTES", 30)
if MEDBOOK_WAITLIST_OFFER_MINUTES < 1:
    raise ImproperlyConfigured("MEDBOOK_WAITLIST_OFFER_MINUTES must be 1 or more.")
MEDBOOK_WAITLIST_MAX_ENTRIES = env_int("MEDBOOK_WAITLIST_MAX_ENTRIES", 5)
MEDBOOK_LATE_CANCEL_REFUND_PERCENT = env_int("MEDBOOK_LATE_CANCEL_REFUND_PERCENT", 100)
if not 0 <= MEDBOOK_LATE_CANCEL_REFUND_PERCENT <= 100:
    raise ImproperlyConfigured("MEDBOOK_LATE_CANCEL_REFUND_PERCENT must lie within 0..100.")
# Rescheduling (改约): how often a member may move bookings is their level's (MemberLevel);
# here: whether to another doctor's session of the same department (else the same doctor's).
# The cutoff is the cancellation's; staff with the permission are bound by neither.
MEDBOOK_RESCHEDULE_ANY_DOCTOR = env_bool("MEDBOOK_RESCHEDULE_ANY_DOCTOR", False)
# Gateway that new orders are paid through: sandbox, alipay or wechat (configured below).
MEDBOOK_PAYMENT_GATEWAY = env("MEDBOOK_PAYMENT_GATEWAY", "sandbox") or "sandbox"
# Alipay: app id, the app's RSA private key and Alipay's public key (PEM; NAME_FILE works).
MEDBOOK_ALIPAY_APP_ID = env("MEDBOOK_ALIPAY_APP_ID", "") or ""
MEDBOOK_ALIPAY_PRIVATE_KEY = env("MEDBOOK_ALIPAY_PRIVATE_KEY", "") or ""
MEDBOOK_ALIPAY_PUBLIC_KEY = env("MEDBOOK_ALIPAY_PUBLIC_KEY", "") or ""
MEDBOOK_ALIPAY_GATEWAY_URL = (
    env("MEDBOOK_ALIPAY_GATEWAY_URL", "") or "https://openapi.alipay.com/gateway.do"
)
if MEDBOOK_ALIPAY_APP_ID and not (MEDBOOK_ALIPAY_PRIVATE_KEY and MEDBOOK_ALIPAY_PUBLIC_KEY):
    raise ImproperlyConfigured(
        "MEDBOOK_ALIPAY_APP_ID is set: MEDBOOK_ALIPAY_PRIVATE_KEY and MEDBOOK_ALIPAY_PUBLIC_KEY "
        "are needed too."
    )
# WeChat Pay API v3 in public-key mode (PEM keys; NAME_FILE works).
MEDBOOK_WECHAT_MCH_ID = env("MEDBOOK_WECHAT_MCH_ID", "") or ""
MEDBOOK_WECHAT_APP_ID = env("MEDBOOK_WECHAT_APP_ID", "") or ""
MEDBOOK_WECHAT_PRIVATE_KEY = env("MEDBOOK_WECHAT_PRIVATE_KEY", "") or ""
MEDBOOK_WECHAT_CERT_SERIAL_NO = env("MEDBOOK_WECHAT_CERT_SERIAL_NO", "") or ""
MEDBOOK_WECHAT_APIV3_KEY = env("MEDBOOK_WECHAT_APIV3_KEY", "") or ""
MEDBOOK_WECHAT_PUBLIC_KEY = env("MEDBOOK_WECHAT_PUBLIC_KEY", "") or ""
MEDBOOK_WECHAT_PUBLIC_KEY_ID = env("MEDBOOK_WECHAT_PUBLIC_KEY_ID", "") or ""
if MEDBOOK_WECHAT_MCH_ID and not all(
    (
        MEDBOOK_WECHAT_APP_ID,
        MEDBOOK_WECHAT_PRIVATE_KEY,
        MEDBOOK_WECHAT_CERT_SERIAL_NO,
        MEDBOOK_WECHAT_APIV3_KEY,
        MEDBOOK_WECHAT_PUBLIC_KEY,
        MEDBOOK_WECHAT_PUBLIC_KEY_ID,
    )
):
    raise ImproperlyConfigured(
        "MEDBOOK_WECHAT_MCH_ID is set: the app id, private key, certificate serial number, APIv3 "
        "key, WeChat Pay public key and its id are needed too (MEDBOOK_WECHAT_*)."
    )
MEDBOOK_WECHAT_GATEWAY_URL = (
    env("MEDBOOK_WECHAT_GATEWAY_URL", "") or "https://api.mch.weixin.qq.com"
)
# Daily bills of Alipay / WeChat Pay for settlement: <gateway>-YYYY-MM-DD.csv
# (formats in billing/gateways/bills.py).
MEDBOOK_BILL_DIR = env("MEDBOOK_BILL_DIR", str(VAR_DIR / "bills")) or str(VAR_DIR / "bills")
_GATEWAY_SWITCHES = {
    "sandbox": True,
    "alipay": bool(MEDBOOK_ALIPAY_APP_ID),
    "wechat": bool(MEDBOOK_WECHAT_MCH_ID),
}
if not _GATEWAY_SWITCHES.get(MEDBOOK_PAYMENT_GATEWAY):
    raise ImproperlyConfigured(
        f"MEDBOOK_PAYMENT_GATEWAY={MEDBOOK_PAYMENT_GATEWAY!r} is not a configured gateway "
        "(sandbox; alipay needs MEDBOOK_ALIPAY_*; wechat needs MEDBOOK_WECHAT_*)."
    )
# Real-name verification (identity/verifiers): sandbox (deterministic demo answers) or tencent
# (Tencent Cloud FaceID IdCardVerification, signed with the API key pair; NAME_FILE works).
MEDBOOK_REALNAME_PROVIDER = env("MEDBOOK_REALNAME_PROVIDER", "sandbox") or "sandbox"
MEDBOOK_TENCENT_SECRET_ID = env("MEDBOOK_TENCENT_SECRET_ID", "") or ""
MEDBOOK_TENCENT_SECRET_KEY = env("MEDBOOK_TENCENT_SECRET_KEY", "") or ""
MEDBOOK_TENCENT_FACEID_URL = (
    env("MEDBOOK_TENCENT_FACEID_URL", "") or "https://faceid.tencentcloudapi.com/"
)
MEDBOOK_REALNAME_TIMEOUT_SECONDS = env_int("MEDBOOK_REALNAME_TIMEOUT_SECONDS", 5)
if MEDBOOK_REALNAME_PROVIDER not in {"sandbox", "tencent"}:
    raise ImproperlyConfigured(
        f"MEDBOOK_REALNAME_PROVIDER={MEDBOOK_REALNAME_PROVIDER!r}: use sandbox or tencent."
    )
if MEDBOOK_REALNAME_PROVIDER == "tencent" and not (
    MEDBOOK_TENCENT_SECRET_ID and MEDBOOK_TENCENT_SECRET_KEY
):
    raise ImproperlyConfigured(
        "MEDBOOK_REALNAME_PROVIDER=tencent needs MEDBOOK_TENCENT_SECRET_ID and "
        "MEDBOOK_TENCENT_SECRET_KEY."
    )
# Verification attempts (attempts/seconds, several comma separated): per member login online,
# per staff login at the desk, and per ID number whoever asks.
MEDBOOK_REALNAME_RATE_USER = env("MEDBOOK_REALNAME_RATE_USER", "5/3600,10/86400") or "5/3600"
MEDBOOK_REALNAME_RATE_DESK = env("MEDBOOK_REALNAME_RATE_DESK", "120/3600") or "120/3600"
MEDBOOK_REALNAME_RATE_ID = env("MEDBOOK_REALNAME_RATE_ID", "3/3600,6/86400") or "3/3600"
# Where gateways (and the sandbox's notify job) reach this MedBook.
# The sandbox gateway answers this many milliseconds late (to show and test slow gateways).
MEDBOOK_SANDBOX_LATENCY_MS = env_int("MEDBOOK_SANDBOX_LATENCY_MS", 0)
MEDBOOK_PUBLIC_URL = env("MEDBOOK_PUBLIC_URL", "http://127.0.0.1:8000") or "http://127.0.0.1:8000"
MEDBOOK_PHONE_REGION = env("MEDBOOK_PHONE_REGION", "CN")
# Webhooks (medbook.webhooks): each POST waits this long for an answer; a failed delivery is
# retried with exponential backoff (1, 2, 4 … minutes, at most the cap) for this many hours.
MEDBOOK_WEBHOOK_TIMEOUT_SECONDS = env_int("MEDBOOK_WEBHOOK_TIMEOUT_SECONDS", 5)
MEDBOOK_WEBHOOK_RETRY_HOURS = env_int("MEDBOOK_WEBHOOK_RETRY_HOURS", 24)
MEDBOOK_WEBHOOK_BACKOFF_CAP_MINUTES = env_int("MEDBOOK_WEBHOOK_BACKOFF_CAP_MINUTES", 60)
# Events, their deliveries and attempts are kept this many days, then deleted (none still sending).
MEDBOOK_WEBHOOK_KEEP_DAYS = env_int("MEDBOOK_WEBHOOK_KEEP_DAYS", 30)
# Hosts a subscription may reach over plain http and on a private or loopback address (a
# receiver on this machine or the clinic's network); with DEBUG on, any host may.
MEDBOOK_WEBHOOK_ALLOW_HOSTS = env_list("MEDBOOK_WEBHOOK_ALLOW_HOSTS")
# The certificate authorities a webhook receiver's certificate is checked against (a PEM file);
# empty: the public ones (certifi).
MEDBOOK_WEBHOOK_CA_FILE = env("MEDBOOK_WEBHOOK_CA_FILE", "")
MEDBOOK_SOLD_OUT_CACHE_SECONDS = env_int("MEDBOOK_SOLD_OUT_CACHE_SECONDS", 60)
# The public catalogue and doctor pages cached in Redis with versioned keys, invalidated by every
# write that changes them (appointments/catalogue_cache.py); the TTL is only a safety net.
CATALOGUE_CACHE = env_bool("CATALOGUE_CACHE", True)
CATALOGUE_CACHE_SECONDS = env_int("CATALOGUE_CACHE_SECONDS", 60)

# LOG_FORMAT=json: one JSON object a line (medbook.logging.JsonFormatter) and an access line per
# request (logger medbook.access: route, status, duration, user id; never a query string).
LOG_FORMAT = env("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "medbook.logging.JsonFormatter"},
    },
    "filters": {
        "request_id": {"()": "medbook.error_pages.RequestIdFilter"},
        "mask_personal_data": {"()": "medbook.logging.MaskPersonalData"},
        "client_errors_in_one_line": {"()": "medbook.logging.ClientErrorsInOneLine"},
        "outages_in_one_line": {"()": "medbook.failures.OutagesInOneLine"},
        "queryless_request_lines": {"()": "medbook.logging.QuerylessRequestLines"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id", "mask_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # The texts sent (the log backend's): shown whatever level the worker runs at, so the
        # demo's output shows every text as it shows the sign-up code (medbook.celery).
        "medbook.sms": {"level": "INFO"},
        "django.db.backends": {"level": "INFO"},
        # Each failed reconnect of the pool (every half second) is not news: the breaker
        # (medbook.database) says once that PostgreSQL is down and once that it is back.
        "psycopg.pool": {"level": "ERROR"},
        # A 403 (or any 4xx) is one line without a traceback.
        "django.request": {"filters": ["client_errors_in_one_line", "outages_in_one_line"]},
        "django.security": {"filters": ["client_errors_in_one_line"]},
        "django.server": {"filters": ["queryless_request_lines"], "propagate": True},
        # One line per request in JSON logs (gunicorn's access log says the same in text).
        "medbook.access": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
    },
}
