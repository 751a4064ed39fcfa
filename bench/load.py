"""Load generator, run as its own process (`python -m bench.load JOB.json OUT.json`) so that it does
not share the server's interpreter. Bounded: a fixed number of requests, a fixed thread count."""

import http.client
import json
import re
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# The token's field name differs between frameworks (Flask-WTF: csrf_token, Django: csrfmiddlewaretoken).
CSRF_FIELDS = {"csrf_token": CSRF, "csrfmiddlewaretoken": re.compile(r'name="csrfmiddlewaretoken"[^>]*value="([^"]+)"')}


def _call(base, method, path, body=None, cookie=None, content_type="application/x-www-form-urlencoded"):
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = content_type
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read().decode()
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        new_cookie = "; ".join(f"{key}={morsel.value}" for key, morsel in jar.items()) or cookie
        return response.status, payload, new_cookie
    finally:
        connection.close()


def _prepare_customer(base, token):
    """Open the link and load the form, as the customer's phone would, before the timed submit."""
    status, _html, cookie = _call(base, "GET", f"/s/{token}")
    if status != 303:
        raise RuntimeError(f"opening a link answered {status}")
    return _prepare_form(base, "/s/answer", cookie)


def _prepare_form(base, path, cookie=None, csrf_field="csrf_token"):
    """Load a form (for its session cookie and CSRF token) before the timed submit."""
    status, html, cookie = _call(base, "GET", path, cookie=cookie)
    if status != 200:
        raise RuntimeError(f"loading {path} answered {status}")
    return cookie, CSRF_FIELDS[csrf_field].search(html).group(1)


def _prepare_link(base, token):
    """Open a customer link (its session cookie) before the timed loads of the form."""
    status, _html, cookie = _call(base, "GET", f"/s/{token}")
    if status != 303:
        raise RuntimeError(f"opening a link answered {status}")
    return cookie


def run(job):
    """Kinds: "submit" (customer links: open each, load the form, then the timed POSTs), "form"
    (GET `path` for a session and CSRF token `count` times, then the timed POSTs of `form` to it;
    `csrf_field` names the token's field), "get" (timed GETs of `path`, `count` times, or once per
    customer link in `tokens`, opened first), "baseline" (`count` timed POSTs to `path`)."""
    base, concurrency = job["base"], job["concurrency"]
    csrf_field = job.get("csrf_field", "csrf_token")
    if job["kind"] in ("submit", "form"):
        with ThreadPoolExecutor(concurrency) as pool:
            if job["kind"] == "submit":
                sessions = list(pool.map(lambda token: _prepare_customer(base, token), job["tokens"]))
            else:
                sessions = list(pool.map(lambda _: _prepare_form(base, job["path"], csrf_field=csrf_field),
                                         range(job["count"])))
        path = "/s/answer" if job["kind"] == "submit" else job["path"]
        requests = [("POST", path, urllib.parse.urlencode(job["form"] | {csrf_field: csrf}), cookie)
                    for cookie, csrf in sessions]
    elif job["kind"] == "get":
        cookies = [None] * job.get("count", 0)
        if job.get("tokens"):
            with ThreadPoolExecutor(concurrency) as pool:
                cookies = list(pool.map(lambda token: _prepare_link(base, token), job["tokens"]))
        requests = [("GET", job["path"], None, cookie) for cookie in cookies]
    else:
        requests = [("POST", job["path"], "score=4", None)] * job["count"]

    def timed(request):
        method, path, body, cookie = request
        start = time.perf_counter()
        status, _payload, _cookie = _call(base, method, path, body, cookie)
        return status, time.perf_counter() - start

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        outcomes = list(pool.map(timed, requests))
    elapsed = time.perf_counter() - started
    return {"elapsed_s": elapsed, "statuses": [status for status, _ in outcomes],
            "latencies_s": [latency for _, latency in outcomes]}


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        job = json.load(handle)
    with open(sys.argv[2], "w") as handle:
        json.dump(run(job), handle)
