"""plotly.js comes from the app itself (no CDN), cached for long, and only on pages with charts."""

import gzip
import re

from perception.web.assets import PLOTLY_JS, plotly_js_version
from tests.helpers import login, make_survey, make_user


def _url():
    return f"/assets/plotly-{plotly_js_version()}.min.js"


def test_plotly_js_is_served_from_the_installed_package(client):
    response = client.get(_url(), headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.data == PLOTLY_JS.read_bytes()
    assert response.data.startswith(b"/**\n* plotly.js v")
    cache = response.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache
    etag = response.headers["ETag"]
    assert etag
    again = client.get(_url(), headers={"Accept-Encoding": "identity", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_plotly_js_is_gzipped_for_clients_that_accept_it(client):
    response = client.get(_url(), headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert gzip.decompress(response.data) == PLOTLY_JS.read_bytes()
    assert len(response.data) < len(PLOTLY_JS.read_bytes()) / 2
    plain = client.get(_url(), headers={"Accept-Encoding": "identity"})
    assert plain.headers["ETag"] != response.headers["ETag"]


def test_other_versions_are_not_found(client):
    assert client.get("/assets/plotly-0.0.1.min.js").status_code == 404


def test_pages_point_only_to_this_server(client, db):
    survey = make_survey()
    login(client, make_user("leader"))
    html = client.get(f"/leaders/surveys/{survey.slug}/dashboard").get_data(as_text=True)
    sources = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert _url() in sources
    assert all(source.startswith("/") and not source.startswith("//") for source in sources)
    assert "cdn" not in html.lower()
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    assert inline == []  # the CSP forbids inline scripts: figures travel as JSON data blocks


def test_leaders_index_has_no_plotly(client, db):
    make_survey()
    login(client, make_user("leader"))
    assert "plotly" not in client.get("/leaders/").get_data(as_text=True)
