"""Settings for Medicen Portal, all read from the environment here (see .env.example)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from medicen_portal.environment import (
    env_bool,
    env_database,
    env_decimal,
    env_email,
    env_int,
    env_list,
    env_redis_url,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (set DEBUG=true for development).")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105  # nosec B105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
DEMO_PASSWORD = env_str("DEMO_PASSWORD")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "medicen_portal.apps.PortalAdminConfig",  # django.contrib.admin with the portal's admin site (2FA)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # the built-in widget templates, for FORM_RENDERER below
    "bootstrap",  # Bootstrap 5 CSS/JS as static files (django-bootstrap-static), no CDN
    "crispy_forms",
    "crispy_bootstrap5",
    "medicen_portal.apps.LoginThrottlingConfig",  # axes, named in the reader's language
    "django_otp",
    "medicen_portal.apps.TwoFactorConfig",  # django_otp.plugins.otp_totp, likewise
    "medicen_portal.apps.AuditLogConfig",  # auditlog, likewise (and medicen_portal/admin_fr.py)
    "medicen_portal.apps.BackupCodesConfig",  # django_otp.plugins.otp_static: backup codes, likewise
    "outbox",
    "members",
    "das",
    "meetings",
    "calls",
    "projects",
    "committees",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "medicen_portal.security.RequestSizeLimitMiddleware",  # 413 from Content-Length, before a byte is read
    "medicen_portal.security.RefuseNulBytesMiddleware",  # before anything that queries with a parameter
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # With ADMIN_REQUIRE_2FA, staff without a verified second factor are not staff (security.py).
    "medicen_portal.security.StaffSecondFactorMiddleware",
    # A GET whose database connection drops is run once more, else the 503 page (errors.py).
    "medicen_portal.errors.DatabaseRestartMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "common.audit.AuditlogMiddleware",  # auditlog's, reading the client address through TRUSTED_PROXIES
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

AUTHENTICATION_BACKENDS = [
    "medicen_portal.security.RequestAxesBackend",  # login throttling first, as django-axes requires
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "medicen_portal.urls"
WSGI_APPLICATION = "medicen_portal.wsgi.application"
AUTH_USER_MODEL = "members.User"
# The strategic areas a member organisation declares: defined by das, which comes after members;
# members names this model only through the setting (members.models.strategic_areas).
MEMBERS_AREA_MODEL = "das.StrategicArea"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
            "builtins": ["common.pagination"],  # {{ page|elided_pages }} in templates/_pagination.html
        },
    },
]

# --- Database -----------------------------------------------------------------
# PostgreSQL through psycopg 3 with persistent connections and health checks rather
# than a pool: gunicorn's sync workers and Celery's prefork children each serve one
# request or task at a time, so one kept-alive connection per process *is* the pool,
# with no extra moving part to size; CONN_HEALTH_CHECKS makes a process reconnect by
# itself after PostgreSQL restarts instead of failing its next request.
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # A file, also for the test database, so a separate worker process can share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}

# --- Redis: Celery broker and cache ----------------------------------------------
REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "common.redis_cache.RedisCache",  # Django's, reusing its clients (see there)
            "LOCATION": REDIS_URL,
            # A cache that cannot answer quickly is skipped (pages compute without it), not waited for.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery (medicen_portal/celery.py reads every CELERY_* setting) ------------------
CELERY_QUEUE_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
        "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
    }
    # Unacknowledged tasks come back after this long; every retry cap stays below it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60),
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
    }
else:
    # Embedded broker: kombu's filesystem transport needs no server and still lets a
    # separate worker and beat process exchange messages through files under var/.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_QUEUE_DIR / 'results'}"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# A web request that enqueues while the broker is down gives up quickly (see PortalTask).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "Europe/Paris"
# Every periodic task of the portal, in one place.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}

# --- E-mail -------------------------------------------------------------------------
_email = env_email("EMAIL_URL")
if _email:
    globals().update(_email)
elif env_str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    # Newcomers can read every message the portal sent in var/mail/.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Medicen Portal <portal@medicen.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation -------------------------------------------------------------
# Widgets render with the project's templates, so templates/ may override one (the admin's
# password summary puts a narrow no-break space before its colons in French).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["medicen_portal.formats"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# Message levels as Bootstrap's alert classes (base.html renders `alert-{{ level_tag }}`):
# Django's own tag for ERROR is "error", which Bootstrap does not style.
MESSAGE_TAGS = {40: "danger"}  # messages.ERROR

# --- Static and media files ----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security: production tightens these through variables, not a separate file ------
# HTTPS=true when the portal is served over TLS (behind a proxy that sets
# X-Forwarded-Proto): it turns on the redirect, HSTS, secure cookies and the admin's
# second factor together.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True  # no script reads it
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
# Request bodies: refused above REQUEST_MAX_BYTES from their Content-Length, before any byte is
# read (the largest legitimate body is a 10 MB attachment or import plus the form around it);
# files above FILE_UPLOAD_MAX_MEMORY_SIZE are streamed to a temporary file, not held in memory;
# form fields other than files may hold DATA_UPLOAD_MAX_MEMORY_SIZE. The proxy in front should
# cap bodies at the same figure (nginx: client_max_body_size 11m), see the README.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 11 * 1024 * 1024, minimum=1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Password reset: one e-mail per address per PASSWORD_RESET_EMAIL_INTERVAL_SECONDS, and at most
# PASSWORD_RESET_PER_CLIENT_PER_HOUR requests from one client address (then HTTP 429).
PASSWORD_RESET_EMAIL_INTERVAL_SECONDS = env_int("PASSWORD_RESET_EMAIL_INTERVAL_SECONDS", 300, minimum=1)
PASSWORD_RESET_PER_CLIENT_PER_HOUR = env_int("PASSWORD_RESET_PER_CLIENT_PER_HOUR", 10, minimum=1)
# Applications to join (/join/): at most JOIN_APPLICATIONS_PER_CLIENT_PER_HOUR from one client address.
JOIN_APPLICATIONS_PER_CLIENT_PER_HOUR = env_int("JOIN_APPLICATIONS_PER_CLIENT_PER_HOUR", 5, minimum=1)
CSRF_FAILURE_VIEW = "medicen_portal.errors.csrf_failure"  # the portal's 403 page, saying the form expired
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response (django-csp): no inline script or style, no
# third-party origin. JavaScript and CSS live in static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Second factor (TOTP, django-otp) for the admin: staff can always enrol a device at
# /accounts/two-factor/; with ADMIN_REQUIRE_2FA (on by default in production) the admin
# refuses staff who have not verified one.
ADMIN_REQUIRE_2FA = env_bool("ADMIN_REQUIRE_2FA", HTTPS)
# The admin's sidebar (every model the user may see, on every admin page) is kept this long
# per user, language and section of the admin (medicen_portal.security.PortalAdminSite): a
# permission granted or withdrawn shows in the sidebar within it; pages check permissions anyway.
ADMIN_NAV_SIDEBAR_SECONDS = env_int("ADMIN_NAV_SIDEBAR_SECONDS", 60, minimum=0)
OTP_TOTP_ISSUER = "Medicen Portal"

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one account from
# one client address, that pair is refused for AXES_COOLOFF_MINUTES. The client address is
# REMOTE_ADDR, or with TRUSTED_PROXIES=N the N-th address from the right of
# X-Forwarded-For, so a forged header neither bypasses the lock nor locks out others.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0, minimum=0)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the login forms post the e-mail address as "username"
AXES_USERNAME_CALLABLE = "medicen_portal.security.normalised_username"  # e-mails are case-insensitive
AXES_CLIENT_IP_CALLABLE = "medicen_portal.security.client_ip"
AXES_LOCKOUT_CALLABLE = "medicen_portal.security.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Audit trail (django-auditlog) of changes to the records staff look after; see the admin.
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    "members.Organisation",
    "members.Person",
    "members.MembershipYear",
    "members.FeeRate",
    "members.MembershipApplication",
    # Logins: a staff or superuser grant above all; the password hash and the last login never.
    {
        "model": "members.User",
        "exclude_fields": ["password", "last_login"],
        "m2m_fields": ["groups", "user_permissions"],
    },
    "members.BillingProfile",
    "members.Invoice",
    "members.Payment",
    "members.FeeCall",
    "das.StrategicArea",
    "das.Mandate",
    "meetings.Meeting",
    "projects.Project",
    "projects.FundingDecision",
    "projects.Review",
    "projects.AidRateCeiling",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint and factur-x narrate every step of every invoice PDF at INFO.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools", "factur-x")},
}

for _folder in (
    VAR_DIR,
    STATIC_ROOT,
    CELERY_QUEUE_DIR / "queue",
    CELERY_QUEUE_DIR / "control",
    CELERY_QUEUE_DIR / "results",
):
    os.makedirs(_folder, exist_ok=True)

# --- members: membership lifecycle, renewal reminders, invitations ---------------------
from celery.schedules import crontab  # noqa: E402

MEMBERS_RENEWAL_REMINDER_DAYS = env_int("MEMBERS_RENEWAL_REMINDER_DAYS", 45, minimum=1)  # before 31 December
MEMBERS_GRACE_DAYS = env_int("MEMBERS_GRACE_DAYS", 90, minimum=1)  # unpaid after 1 January: member until then
MEMBERS_INVITATION_DAYS = env_int("MEMBERS_INVITATION_DAYS", 7, minimum=1)  # set-password links expire
# Pages of the public directory are cached this long; any change to what it shows drops them at once.
MEMBERS_DIRECTORY_CACHE_SECONDS = env_int("MEMBERS_DIRECTORY_CACHE_SECONDS", 300, minimum=0)
MEMBERS_IMPORT_MAX_BYTES = env_int("MEMBERS_IMPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# Larger admin uploads are imported by a worker, with a progress page (about 1,000 rows per 200 KB).
MEMBERS_IMPORT_ASYNC_BYTES = env_int("MEMBERS_IMPORT_ASYNC_BYTES", 200 * 1024, minimum=0)
CELERY_BEAT_SCHEDULE["members-statuses-daily"] = {
    "task": "members.membership_statuses_daily",
    "schedule": crontab(hour=2, minute=15),
}
CELERY_BEAT_SCHEDULE["members-renewal-reminders"] = {
    "task": "members.renewal_reminders_scan",
    "schedule": crontab(hour=9, minute=30),
}
# Personal data (members/privacy.py): each app's export selector and anonymisation service.
# Listed here, the wiring, because members may not import the apps after it.
PERSONAL_DATA_SELECTORS = [
    "members.selectors.personal_data",
    "das.selectors.personal_data",
    "meetings.selectors.personal_data",
    "calls.selectors.personal_data",
    "projects.selectors.personal_data",
]
# In order, in one transaction: das's refuses while the person holds a current mandate.
PERSONAL_DATA_ERASERS = [
    "das.services.personal_data_erase",
    "meetings.services.personal_data_erase",
    "projects.services.personal_data_erase",
]
# Run once the person is scrubbed: each later app renames the audit entries of its rows named after them.
PERSONAL_DATA_AUDIT_SCRUBBERS = ["das.services.personal_data_audit_scrub"]
# Sections later apps add to each DAS page (das never imports them): see das.selectors.area_sections.
DAS_AREA_SECTIONS = [
    "projects.area_section.area_projects_section",
    "meetings.selectors.area_meetings_section",
]

# --- projects -----------------------------------------------------------------------------
# Drafts never submitted are deleted, with their attachments, after this many days untouched.
# The impact dashboard's figures are cached this long; transitions, decisions, products and admin edits drop them.
# Demo data of apps after projects, added by seed_demo once its logins exist (projects does not import them).
SEED_DEMO_LATER = ["committees.demo.seed_committees_demo"]
# Tables later apps add to the impact dashboard (projects never imports them): see projects.selectors.outcome_tables.
IMPACT_OUTCOME_TABLES = ["committees.selectors.impact_sessions"]
PROJECTS_IMPACT_CACHE_SECONDS = env_int("PROJECTS_IMPACT_CACHE_SECONDS", 300, minimum=0)
PROJECTS_DRAFT_RETENTION_DAYS = env_int("PROJECTS_DRAFT_RETENTION_DAYS", 365, minimum=1)
CELERY_BEAT_SCHEDULE["projects-purge-stale-drafts"] = {
    "task": "projects.purge_stale_drafts",
    "schedule": crontab(hour=3, minute=40),
}
# Retention of personal data (members/privacy.py; the table in the README), applied daily.
# Contacts of an organisation that left (lapsed or resigned) are anonymised this long after
# the end of its last membership year; login attempts and audit entries are deleted.
MEMBERS_LAPSED_CONTACT_RETENTION_DAYS = env_int("MEMBERS_LAPSED_CONTACT_RETENTION_DAYS", 3 * 365, minimum=1)
LOGIN_ATTEMPT_RETENTION_DAYS = env_int("LOGIN_ATTEMPT_RETENTION_DAYS", 90, minimum=1)
# Applications to join that staff declined are deleted this long after the decision.
MEMBERS_DECLINED_APPLICATION_RETENTION_DAYS = env_int("MEMBERS_DECLINED_APPLICATION_RETENTION_DAYS", 365, minimum=1)
AUDIT_LOG_RETENTION_DAYS = env_int("AUDIT_LOG_RETENTION_DAYS", 5 * 365, minimum=30)
# E-mails that ended (sent, failed, cancelled) keep their addresses and bodies this long.
OUTBOX_RETENTION_DAYS = env_int("OUTBOX_RETENTION_DAYS", 365, minimum=30)
CELERY_BEAT_SCHEDULE["members-purge-expired-personal-data"] = {
    "task": "members.purge_expired_personal_data",
    "schedule": crontab(hour=3, minute=50),
}

# --- outbox: every e-mail the portal sends (outbox/services.py) ----------------------------
# One scan a minute: releases rows abandoned before the SMTP hand-over, flags uncertain ones,
# and hands every due e-mail to the workers in batches.
CELERY_BEAT_SCHEDULE["outbox-scan"] = {"task": "outbox.scan", "schedule": 60.0}
# Transient errors (SMTP 4xx, a dropped server, a lost database): retried by later scans with
# exponential backoff capped here (seconds), at most OUTBOX_MAX_ATTEMPTS tries in all.
OUTBOX_RETRY_BACKOFF_CAP = env_int("OUTBOX_RETRY_BACKOFF_CAP", 900, minimum=60)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 7, minimum=1)
# A row claimed (or enqueued) this long ago and still not handed over is taken as abandoned.
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 600, minimum=30)
# The sender's per-message writes (hand-over mark, "sent") on PostgreSQL: committed without
# waiting for the disk flush by default. The hand-over mark must be committed before the
# end-of-data mark goes out; a worker killed in between leaves the e-mail uncertain, so the
# shorter that wait, the rarer such an e-mail. The cost: if PostgreSQL itself crashes (not a
# restart) within a fraction of a second of a commit, that mark is lost and the e-mail may go
# out twice. True waits for the flush (about 2 ms a message here, and a wider window).
OUTBOX_SYNCHRONOUS_COMMIT = env_bool("OUTBOX_SYNCHRONOUS_COMMIT", False)
# Kinds of e-mail whose bodies carry a link that signs the recipient in: the outbox admin does not
# show their bodies to staff (the kinds are the enqueuing apps' own names).
OUTBOX_CONFIDENTIAL_KINDS = ["accounts.password-reset", "members.invitation"]
if REDIS_URL and CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= OUTBOX_RETRY_BACKOFF_CAP:
    raise ImproperlyConfigured("OUTBOX_RETRY_BACKOFF_CAP must stay below CELERY_VISIBILITY_TIMEOUT.")

# --- calls: deadline reminders (calls/services.py) ---------------------------------------
# Days before a call's internal deadline at which interested members and draft holders are
# reminded, each once; a reminder is not sent later than CALLS_REMINDER_WINDOW_HOURS after its moment.
_reminder_days = env_list("CALLS_REMINDER_DAYS", ["30", "7"])
if not all(days.isdigit() and int(days) >= 1 for days in _reminder_days):
    raise ImproperlyConfigured(
        f"CALLS_REMINDER_DAYS={','.join(_reminder_days)!r}: list whole numbers of days, at least 1."
    )
CALLS_REMINDER_DAYS = sorted({int(days) for days in _reminder_days}, reverse=True)
CALLS_REMINDER_WINDOW_HOURS = env_int("CALLS_REMINDER_WINDOW_HOURS", 24, minimum=1)
CELERY_BEAT_SCHEDULE["calls-reminders-scan"] = {"task": "calls.reminders_scan", "schedule": crontab(minute=5)}

# A reviewer who has not submitted this many days after the assignment gets one reminder.
PROJECTS_REVIEW_REMINDER_DAYS = env_int("PROJECTS_REVIEW_REMINDER_DAYS", 14, minimum=1)
CELERY_BEAT_SCHEDULE["projects-review-reminders"] = {"task": "projects.review_reminders_scan", "schedule": 3600.0}

# --- meetings: KOL committee meetings, invitations and reminder e-mails -------------------
# One scan a minute skips or hands to the outbox every due meeting e-mail (meetings/tasks.py);
# the outbox sends them (its own scan, lease, retries and backoff: OUTBOX_* above).
CELERY_BEAT_SCHEDULE["meetings-scan-due-deliveries"] = {"task": "meetings.scan_due_deliveries", "schedule": 60.0}
# Retention: the addresses copied into a meeting's invitations and e-mails go this long after it ended.
MEETINGS_ADDRESS_RETENTION_DAYS = env_int("MEETINGS_ADDRESS_RETENTION_DAYS", 365, minimum=1)
CELERY_BEAT_SCHEDULE["meetings-forget-addresses"] = {
    "task": "meetings.forget_addresses",
    "schedule": crontab(hour=3, minute=55),
}
if not REDIS_URL:
    # The embedded broker polls its folder; at the default 1 s a worker takes one task per
    # second per process, far too slow to fan out a scan's batch.
    CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] = 0.05
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take SQLite's lock when their transaction begins, so concurrent claims wait
    # for each other (busy timeout) instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"

# --- members: invoices, credit notes and payments (members/billing.py) --------------------
# The cluster's legal details printed on every invoice (and copied into it at issue).
MEMBERS_INVOICE_SELLER = {
    "name": env_str("INVOICE_SELLER_NAME", "Medicen Paris Region"),
    "legal_form": env_str("INVOICE_SELLER_LEGAL_FORM", "Association loi 1901"),
    "address": env_str("INVOICE_SELLER_ADDRESS", "27 rue du Faubourg Saint-Jacques"),
    "postcode": env_str("INVOICE_SELLER_POSTCODE", "75014"),
    "city": env_str("INVOICE_SELLER_CITY", "Paris"),
    "country": "FR",
    "siren": env_str("INVOICE_SELLER_SIREN", "800123457"),
    "siret": env_str("INVOICE_SELLER_SIRET", "80012345700015"),
    "vat_number": env_str("INVOICE_SELLER_VAT_NUMBER", ""),
    "email": env_str("INVOICE_SELLER_EMAIL", "adhesions@medicen.example"),
    "iban": env_str("INVOICE_SELLER_IBAN", "FR7630006000011234567890189"),
    "bic": env_str("INVOICE_SELLER_BIC", "AGRIFRPP"),
    "bank": env_str("INVOICE_SELLER_BANK", "Crédit Agricole Île-de-France"),
}
# VAT on membership fees: a rate in %, or 0 with the exemption mention printed instead.
MEMBERS_INVOICE_VAT_RATE = env_decimal("INVOICE_VAT_RATE", "0", minimum="0", maximum="100")
MEMBERS_INVOICE_VAT_EXEMPTION = env_str(
    "INVOICE_VAT_EXEMPTION", "Exonération de TVA, article 261, 7-1° du Code général des impôts"
)
if MEMBERS_INVOICE_VAT_RATE == 0 and not MEMBERS_INVOICE_VAT_EXEMPTION:
    raise ImproperlyConfigured("INVOICE_VAT_RATE=0 needs INVOICE_VAT_EXEMPTION (the mention printed on invoices).")
if MEMBERS_INVOICE_VAT_RATE > 0 and not MEMBERS_INVOICE_SELLER["vat_number"]:
    raise ImproperlyConfigured("INVOICE_VAT_RATE above 0 needs INVOICE_SELLER_VAT_NUMBER.")
MEMBERS_INVOICE_PAYMENT_DAYS = env_int("INVOICE_PAYMENT_DAYS", 30, minimum=0)  # due date = issue date + this
# The late-payment penalty rate printed on invoices (Code de commerce L441-10): at least three times
# the legal interest rate; the fixed 40 € recovery indemnity is always printed.
# Reminders of an unpaid invoice, this many days after its due date (each sent once).
try:
    MEMBERS_INVOICE_REMINDER_DAYS = [int(days) for days in env_list("INVOICE_REMINDER_DAYS", ["15", "45"])]
except ValueError:
    raise ImproperlyConfigured("INVOICE_REMINDER_DAYS must be whole numbers of days, comma-separated.") from None
if any(days < 1 for days in MEMBERS_INVOICE_REMINDER_DAYS):
    raise ImproperlyConfigured("INVOICE_REMINDER_DAYS must be at least 1 day after the due date.")
CELERY_BEAT_SCHEDULE["members-invoice-emails"] = {
    "task": "members.invoice_emails_daily",
    "schedule": crontab(hour=9, minute=45),
}
MEMBERS_INVOICE_LATE_PENALTY = env_str("INVOICE_LATE_PENALTY", "trois fois le taux d'intérêt légal")
