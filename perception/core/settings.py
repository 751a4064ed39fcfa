"""Settings read from the environment.

`DATABASE_URL` from the environment always wins; with none, SQLite in `instance/`.
A development secret key is generated once into `instance/secret_key`; in production
(`PERCEPTION_ENV=production`) a missing or guessable `SECRET_KEY`, or a missing or plain-http
`BASE_URL`, stops start-up, and so does a `PERCEPTION_ENV` that is neither.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from perception.core.private_files import private_folder


class ConfigError(RuntimeError):
    """Start-up refused because a required setting is missing or invalid."""


def _bool(value, default=False):
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name, default):
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _count(name, default):
    value = _int(name, default)
    if value < 0:
        raise ConfigError(f"{name} must be 0 or more, got {value}")
    return value


def _float(name, default):
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{name} must be a number, got {raw!r}")
    return value


def development_secret_key(instance_path):
    """Return the instance's generated key, creating it (mode 600) on first use."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    private_folder(path.parent)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def local_url(name, value):
    """A logo or similar asset must be served by this app (a path like /static/logo.svg): pages load
    nothing from outside (CSP `img-src 'self'`), so an outside URL is refused at start-up."""
    if not value:
        return None
    value = value.strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value or ":" in value.split("?")[0]:
        raise ConfigError(f"{name} must be a path served by this app, such as /static/logo.svg; got {value!r}")
    return value


def default_base_url():
    """Without BASE_URL, links point at this machine on PORT (what `make run PORT=...` serves on), so
    the links `seed-demo` and `demo-info` print open the app that is running."""
    port = _int("PORT", 5000)
    if not 0 < port < 65536:
        raise ConfigError(f"PORT must be between 1 and 65535, got {port}")
    return f"http://127.0.0.1:{port}"


ENVIRONMENTS = ("development", "production")
SECRET_KEY_MIN = 16  # characters (and 10 different ones): a guessable key forges every session and link
MAKE_A_KEY = "make a key with: python3 -c 'import secrets; print(secrets.token_hex(32))'"


def _check_production(secret_key, base_url):
    """What production refuses to start without (an attacker's read found the last two accepted)."""
    missing = [name for name, value in (("SECRET_KEY", secret_key), ("BASE_URL", base_url)) if not value]
    if missing:
        raise ConfigError(f"PERCEPTION_ENV=production needs {' and '.join(missing)} set in the environment; "
                          + MAKE_A_KEY)
    if len(secret_key) < SECRET_KEY_MIN or len(set(secret_key)) < 10:
        raise ConfigError(
            f"SECRET_KEY must be at least {SECRET_KEY_MIN} random characters: whoever guesses it can sign in as "
            f"anyone. {MAKE_A_KEY}. A new key also re-issues the links not yet sent, makes the suppression list "
            "forget its addresses and changes every webhook's signing secret (README, Settings).")
    if not base_url.lower().startswith("https://"):
        raise ConfigError(f"BASE_URL must start with https:// in production (customers' links are mailed "
                          f"with it), got {base_url!r}")


def load_config(instance_path):
    """Build the settings mapping from the environment."""
    env = (os.environ.get("PERCEPTION_ENV") or "development").strip().lower()
    if env not in ENVIRONMENTS:  # "prod" taken for development dropped every production guard
        raise ConfigError(f"PERCEPTION_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    production = env == "production"
    secret_key = os.environ.get("SECRET_KEY")
    base_url = os.environ.get("BASE_URL")
    if production:
        _check_production(secret_key, base_url)
    if not secret_key:
        secret_key = development_secret_key(instance_path)

    database_url = os.environ.get("DATABASE_URL") or "sqlite:///" + str(Path(instance_path) / "perception.db")
    return {
        "PERCEPTION_ENV": env,
        "SECRET_KEY": secret_key,
        "BASE_URL": (base_url or default_base_url()).rstrip("/"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url, os.environ.get("DATABASE_SCHEMA")),
        "MIN_N": _int("MIN_N", 5),
        # A staff member's personal mirror is theirs alone; admins may open one only when this is on.
        "ADMIN_SEES_MIRRORS": _bool(os.environ.get("ADMIN_SEES_MIRRORS")),
        "INVITATION_TTL_DAYS": _int("INVITATION_TTL_DAYS", 14),
        "BUSINESS_NAME": os.environ.get("BUSINESS_NAME", "Perception demo"),
        "BUSINESS_LOGO_URL": local_url("BUSINESS_LOGO_URL", os.environ.get("BUSINESS_LOGO_URL")),
        # A 10 MB comment must be refused with a message, not read into memory.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 1024 * 1024),
        "MAX_FORM_PARTS": 2000,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(os.environ.get("RATELIMIT_ENABLED"), True),
        # How many proxies (load balancers) in front of the app add to X-Forwarded-For; 0: none, the
        # client is REMOTE_ADDR. create_app trusts exactly that many hops (ProxyFix), never more.
        "TRUSTED_PROXIES": _count("TRUSTED_PROXIES", 0),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        # werkzeug's scrypt, costly on purpose; not read from the environment (tests set a cheap one).
        "PASSWORD_HASH_METHOD": "scrypt",
        # "Keep me logged in" lasts 30 days, not Flask-Login's 365.
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        # How long a typed password lets an account do steps that outlive the session (accounts/recent_password.py).
        "RECENT_PASSWORD_MINUTES": _count("RECENT_PASSWORD_MINUTES", 15),
        "WTF_CSRF_TIME_LIMIT": None,
        "SMTP_HOST": os.environ.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("SMTP_USER"),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _bool(os.environ.get("SMTP_STARTTLS")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Perception <no-reply@localhost>"),
        "SMTP_TIMEOUT": _int("SMTP_TIMEOUT", 30),
        "REMINDER_AFTER_DAYS": _int("REMINDER_AFTER_DAYS", 3),
        "MAX_REMINDERS": _int("MAX_REMINDERS", 1),
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 8),
        "MAIL_RETRY_SECONDS": _int("MAIL_RETRY_SECONDS", 60),
        "MAIL_BATCH_SIZE": _int("MAIL_BATCH_SIZE", 100),
        "OPEN_LINK_RATE_LIMIT": os.environ.get("OPEN_LINK_RATE_LIMIT", "20 per hour"),
        # Responses one open (QR) link may take, from all addresses together.
        "OPEN_LINK_LINK_LIMIT": os.environ.get("OPEN_LINK_LINK_LIMIT", "200 per hour"),
        # Closing the loop (perception.followups): a customer response at or below any of these opens a follow-up.
        "ALERT_OVERALL_MAX": _float("ALERT_OVERALL_MAX", 2.5),
        "ALERT_DIMENSION_MAX": _float("ALERT_DIMENSION_MAX", 2.0),
        "ALERT_NPS_MAX": _int("ALERT_NPS_MAX", 6),
        "FOLLOWUP_DUE_HOURS": _int("FOLLOWUP_DUE_HOURS", 48),
        "RECOVERY_TTL_DAYS": _int("RECOVERY_TTL_DAYS", 14),
        # Webhooks (perception.webhooks): seconds a receiver has to answer, tries per delivery, the
        # first retry's delay (doubling each time, at most 6 h), deliveries claimed at once.
        "WEBHOOK_TIMEOUT": _float("WEBHOOK_TIMEOUT", 5.0),
        "WEBHOOK_MAX_ATTEMPTS": _int("WEBHOOK_MAX_ATTEMPTS", 10),
        "WEBHOOK_RETRY_SECONDS": _int("WEBHOOK_RETRY_SECONDS", 30),
        "WEBHOOK_BATCH_SIZE": _int("WEBHOOK_BATCH_SIZE", 20),
        # `flask worker`: seconds between ticks (perception.worker).
        "WORKER_INTERVAL": _int("WORKER_INTERVAL", 30),
    }


def engine_options(database_url, schema=None):
    # hide_parameters: a database error's log line shows the statement, never the values bound to it
    # (emails, comments, answers).
    if database_url.startswith("sqlite"):
        # A busy timeout lets concurrent writers wait instead of failing with "database is locked".
        return {"hide_parameters": True, "connect_args": {"timeout": 30}}
    if schema:
        # DATABASE_SCHEMA (PostgreSQL): work in that schema, e.g. the per-run schema of the tests.
        if not schema.replace("_", "").isalnum():
            raise ConfigError(f"DATABASE_SCHEMA must be letters, digits and _, got {schema!r}")
        return {"hide_parameters": True, "pool_pre_ping": True,
                "connect_args": {"options": f"-csearch_path={schema}"}}
    return {"hide_parameters": True, "pool_pre_ping": True}
