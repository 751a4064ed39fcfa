"""plotly.js, served by the app from the installed plotly package: no CDN, nothing committed.

The URL carries the plotly.js version, so browsers may cache it for a year; the ETag answers
revalidations with 304. Clients that accept gzip get a compressed copy (about a third of the
4.8 MB), made once per process. Only pages with charts load it (see templates/reports/).
"""

import gzip
import re
import threading
from functools import cache
from pathlib import Path

import plotly
from flask import Blueprint, Response, abort, request, url_for

bp = Blueprint("assets", __name__, url_prefix="/assets")
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
ONE_YEAR = 365 * 24 * 3600
_lock = threading.Lock()


@cache
def plotly_js_version():
    with PLOTLY_JS.open("rb") as handle:
        match = re.search(rb"plotly\.js v(\d+\.\d+\.\d+)", handle.read(200))
    if match is None:
        raise RuntimeError(f"cannot read the plotly.js version from {PLOTLY_JS}")
    return match.group(1).decode()


@cache
def _bodies():
    """(plain, gzipped) bytes of plotly.min.js, read and compressed once per process."""
    with _lock:
        plain = PLOTLY_JS.read_bytes()
        return plain, gzip.compress(plain, compresslevel=6, mtime=0)


@bp.app_template_global()
def plotly_js_url():
    return url_for("assets.plotly_js", version=plotly_js_version())


@bp.get("/plotly-<version>.min.js")
def plotly_js(version):
    if version != plotly_js_version():
        abort(404)
    plain, compressed = _bodies()
    zipped = "gzip" in request.accept_encodings
    response = Response(compressed if zipped else plain, mimetype="text/javascript")
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(f"plotly-{version}{'-gz' if zipped else ''}")
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR
    response.cache_control.immutable = True
    return response.make_conditional(request)
