"""Registering and removing webhook endpoints (the admin page and `flask webhooks`).

An endpoint must be `https://`; a loopback address over plain http (`http://127.0.0.1:PORT/...`) is
accepted outside production, so tests and a local receiver work (DESIGN section 3). A URL with a
user name or password is refused (it would be shown on the page). In production a host must resolve
to public addresses only (`checked_addresses`): an admin or a stolen admin session cannot point
deliveries at the machine itself, the private network or a cloud metadata service; the worker checks
again at every send and connects to the addresses it checked (DNS rebinding). The signing secret is
derived here from a random nonce under SECRET_KEY (`signing_secret`), returned once to show, and
neither stored nor logged; the audit line names the host only, since a chat channel's
incoming-webhook URL is itself a secret."""

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

from perception.core.audit import record
from perception.core.errors import FieldError
from perception.core.extensions import db
from perception.core.models import WEBHOOK_EVENTS, WebhookEndpoint
from perception.core.tokens import derive_token, new_nonce

URL_MAX = 2000
HTTPS_RULE = ("Endpoints must use https:// (http:// is accepted only for a loopback address such as "
              "http://127.0.0.1:8080/hook, and not in production).")


class WebhookError(FieldError):
    """An endpoint is refused; `field` names the input at fault."""


def is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PrivateAddress(OSError):
    """A host resolves to an address that is not on the public internet."""


# IPv6 prefixes that carry an IPv4 address to a translator (RFC 6052, RFC 8215): Python counts the
# well-known one as global, so 64:ff9b::a00:1 (10.0.0.1) passed (a robustness review). The IPv4 address
# in the well-known prefix is judged instead; the local-use prefix is a private network's by definition.
# The only IPv6 addresses the internet routes to hosts (RFC 4291 section 2.4; ipaddress's is_global
# let ::/96 and fec0::/10 pass on Python 3.11: an attacker's read).
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")


def is_public(address):
    """Whether an IP address (text, maybe with an IPv6 zone) is globally routable unicast; an IPv6
    address that carries an IPv4 one (mapped, 6to4, NAT64) is judged by that IPv4 address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        if ip in NAT64_LOCAL_USE:
            return False
        if ip in NAT64_WELL_KNOWN:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif ip.ipv4_mapped is not None or ip.sixtofour is not None:
            ip = ip.ipv4_mapped or ip.sixtofour
        elif ip not in GLOBAL_UNICAST:  # IPv4-compatible ::a.b.c.d, site-local fec0::/10 passed is_global
            return False
    return ip.is_global and not ip.is_multicast


def checked_addresses(host, port, production):
    """[(family, socket address)] `host` resolves to for TCP; in production every one must be public
    (else PrivateAddress). Raises socket.gaierror when the host is not found."""
    found = [(family, sockaddr) for family, _type, _proto, _name, sockaddr
             in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    if production and not all(is_public(sockaddr[0]) for _family, sockaddr in found):
        raise PrivateAddress(f"{host} resolves to an address that is not public")
    return found


def default_port(parts):
    return parts.port or (443 if parts.scheme == "https" else 80)


def address_problem(parts):
    """Why the host of a production endpoint cannot be used, or None (resolves it)."""
    try:
        checked_addresses(parts.hostname, default_port(parts), production=True)
    except PrivateAddress:
        return ("Endpoints must be on the public internet: that host is this machine or on a private or "
                "link-local network.")
    except (OSError, UnicodeError):
        return "We could not find that host. Please check the URL (or try again if its DNS was just set up)."
    return None


def url_problem(url, production, resolve=True):
    """Why `url` cannot be an endpoint, or None. In production with `resolve` its host is looked up
    and must be public (the worker does its own check at each send, so it passes resolve=False)."""
    if not url:
        return "Please enter the URL that receives the events."
    if len(url) > URL_MAX or any(char.isspace() for char in url):
        return f"Please enter one URL of at most {URL_MAX} characters, without spaces."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        return "That is not a URL we can send to."
    if not parts.hostname:
        return "The URL needs a host name, e.g. https://crm.example.com/hooks/perception."
    if parts.username or parts.password:
        return "Please leave the user name and password out of the URL."
    if not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname) and not production)):
        return HTTPS_RULE
    return address_problem(parts) if production and resolve else None


def is_production():
    return current_app.config["PERCEPTION_ENV"] == "production"


def add_endpoint(url, events, actor=None):
    """Register an endpoint for `events`; returns (endpoint, secret). The secret is shown once."""
    url = (url or "").strip()
    problem = url_problem(url, is_production())
    if problem:
        raise WebhookError(problem, "url")
    chosen = [event for event in WEBHOOK_EVENTS if event in set(events or ())]
    unknown = sorted(set(events or ()) - set(WEBHOOK_EVENTS))
    if unknown:
        raise WebhookError(f"Unknown event {unknown[0]!r}; choose from {', '.join(WEBHOOK_EVENTS)}.", "events")
    if not chosen:
        raise WebhookError("Please choose at least one event.", "events")
    endpoint = WebhookEndpoint(url=url, events=f" {' '.join(chosen)} ", secret_nonce=new_nonce(), active=True,
                               created_by_id=getattr(actor, "id", None))
    db.session.add(endpoint)
    db.session.flush()
    record("webhook.added", actor=actor, target=endpoint, host=urlsplit(url).hostname, events=chosen)
    db.session.commit()
    return endpoint, signing_secret(endpoint)


def signing_secret(endpoint):
    """The key that signs the endpoint's deliveries: derived from its nonce under SECRET_KEY (the
    database holds no key), or, for an endpoint added before migration 0020, the key stored then.
    Changing SECRET_KEY changes the derived keys, as it changes every customer link."""
    if endpoint.secret is not None:
        return endpoint.secret
    return "whsec_" + derive_token(endpoint.secret_nonce, purpose="webhook")


def remove_endpoint(endpoint_id, actor=None):
    """Remove an endpoint with its delivery log; returns False when there is none with that id."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        return False
    record("webhook.removed", actor=actor, target=endpoint, host=urlsplit(endpoint.url).hostname,
           events=endpoint.event_list)
    db.session.delete(endpoint)
    db.session.commit()
    return True
