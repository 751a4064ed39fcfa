"""Security headers for every response, the request checks every page shares, role checks, whom a
rate limit counts (client_key), limits counted inside a view (take, give_back), and padding an
answer to a fixed minimum time (pad_to_minimum)."""

import ipaddress
import math
import time
from functools import wraps

from flask import abort, g, request
from flask_login import current_user
from limits import parse_many
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import BadRequest

from perception.core.extensions import limiter, login_manager
from perception.core.tokens import email_hash


def no_store(response):
    """Pages and answers that carry personal data stay out of every cache (browser, proxy)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def pad_to_minimum(started, minimum, clock=time.monotonic, sleep=time.sleep):
    """Wait until `minimum` seconds have passed since `started` (a value of `clock`); returns the
    seconds waited. For answers whose time must not tell which branch ran (e.g. whether an address has
    an account): every answer then takes at least `minimum`, whatever work it did."""
    remaining = started + minimum - clock()
    if remaining <= 0:
        return 0.0
    sleep(remaining)
    return remaining


def address_key(address):
    """Whom a rate limit counts for this client address: an IPv4 address as it is; an IPv6 address
    as its /64 network, because one customer line or host usually gets a whole /64 and could
    otherwise send from as many addresses as it likes (an IPv4-mapped IPv6 address counts as its
    IPv4 address). Anything that is not an address is returned unchanged."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return address or ""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def client_key():
    """The key of every rate limit that names none of its own (create_app makes it the limiter's
    default): the client's address, grouped by address_key. Behind TRUSTED_PROXIES load balancers
    the address is the one they received the request from (ProxyFix, see create_app)."""
    return address_key(request.remote_addr)


def typed_address_key(kind, typed):
    """The key of a per-address-and-client limit on an email address someone typed (a login, a forgotten
    password): its keyed hash (core.tokens.email_hash), never the text. The text had reached the limit
    storage (Redis when shared) and Flask-Limiter's "exceeded" log line, a password typed into the email
    field with it (a privacy review)."""
    typed = (typed or "").strip()[:254]
    return f"{kind}:{email_hash(typed) if typed else '-'}@{client_key()}"


def _limits_on():
    return limiter.enabled and limiter.initialized


def _items(rules):
    return [(item, key) for limits, key in rules for item in parse_many(limits)]


def take(*rules):
    """Count this request once against every limit of `rules`, pairs of limits (as Flask-Limiter writes
    them, "5 per minute;10 per hour") and the key they count for, and say whether every one still had
    room; when one had none, give them all back (a refused request counts nowhere) and say no. Each
    count is the storage's own atomic increment. A decorator with `deduct_when` instead tests every
    limit before the view and counts after it, so all the requests that arrive before the first one
    ends get through: an attacker's read stored 20 of 30 answers sent at once under a limit of 2."""
    if not _limits_on():
        return True
    counted = []
    for item, key in _items(rules):
        room = limiter.limiter.hit(item, *key)
        counted.append((item, key, limiter.storage.get_expiry(item.key_for(*key))))  # which window
        if not room:  # stop at the first with no room, so a refused request never holds a count that
            _undo(counted)  # might refuse someone else's in the meantime
            # When to try again, as Flask-Limiter's own refusals say it (set_security_headers writes it).
            g.retry_after = max(1, math.ceil(counted[-1][2] - time.time()))
            return False
    g.limits_taken = counted
    return True


def give_back():
    """Undo this request's `take` (a login that succeeded: only failures count)."""
    if _limits_on():
        _undo(g.pop("limits_taken", ()))


def _undo(counted):
    # Fixed windows (Flask-Limiter's default strategy) only: other strategies keep the count. Only in
    # the window it was counted in, known by its end: given back in a later window, the -1 gave that one
    # a try more (two reviews). A later window ends at least half a period later (Redis gives the end to
    # the second).
    if not isinstance(limiter.limiter, FixedWindowRateLimiter):
        return
    for item, key, window_end in counted:
        now_end = limiter.storage.get_expiry(item.key_for(*key))
        if limiter.storage.get(item.key_for(*key)) > 0 and abs(now_end - window_end) < item.get_expiry() / 2:
            limiter.limiter.hit(item, *key, cost=-1)


def roles_required(*roles):
    """Allow only logged-in users with one of `roles`: anonymous -> login, wrong role -> 403."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # plotly.js sets inline styles while drawing; scripts stay strict.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class NulCharacter(BadRequest):
    """A query or form value holding NUL (0x00), which PostgreSQL text cannot hold: a 400 that names
    the field (the API answers it as JSON with "field", as every other refusal of its)."""

    def __init__(self, field):
        super().__init__(f"{field} must not contain the NUL character.")
        self.field = field


def init_app(app):
    @app.before_request
    def limit_form_fields():
        # Werkzeug caps multipart parts (MAX_FORM_PARTS); URL-encoded bodies get the same cap here.
        urlencoded = request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded"
        if urlencoded and sum(1 for _ in request.form.items(multi=True)) > app.config["MAX_FORM_PARTS"]:
            abort(413)

    @app.before_request
    def refuse_nul_characters():
        # PostgreSQL text cannot hold NUL (0x00): refuse it up front (400) instead of failing in the
        # database with a 500. JSON bodies are checked field by field in perception/api/forms.py.
        # No page or slug has one. Customer links are only hashed, and answer their own friendly 404.
        if "\x00" in request.path and request.blueprint != "survey":
            abort(404)
        values = list(request.args.items(multi=True))  # repeated ones too
        if request.method == "POST" and request.mimetype in FORM_MIMETYPES:
            values.extend(request.form.items(multi=True))
        for name, value in values:
            if "\x00" in value or "\x00" in name:
                raise NulCharacter(name.replace("\x00", ""))

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["PERCEPTION_ENV"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.status_code == 429 and "retry_after" in g:
            headers.setdefault("Retry-After", str(g.retry_after))
        return response
