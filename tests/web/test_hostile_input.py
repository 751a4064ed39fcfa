"""Hostile and malformed input never reaches a 500 and never writes anything partial."""

import re

import pytest
from sqlalchemy import func, select

from perception.core.models import Response
from tests.helpers import answers_for, csrf_token, make_invitation, make_survey


def _customer_on_form(client, survey):
    _invitation, token = make_invitation(survey)
    assert client.get(f"/s/{token}").status_code == 303
    return csrf_token(client, "/s/answer")


def _count(db):
    return db.session.execute(select(func.count()).select_from(Response)).scalar()


def test_malformed_utf8_in_a_form_is_answered_without_error(client, db):
    survey = make_survey()
    token = _customer_on_form(client, survey)
    body = "&".join(f"{key}={value}" for key, value in answers_for(survey.items).items())
    body = body.encode() + b"&comment=%FF%FE%C3%28bad&csrf_token=" + token.encode()
    response = client.post("/s/answer", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (303, 400)
    assert "Traceback" not in response.get_data(as_text=True)


def test_malformed_utf8_in_a_link_is_a_404(client, db):
    assert client.get("/s/%FF%FE%C3%28").status_code == 404


def test_ten_thousand_fields_are_refused_with_413(client, db):
    survey = make_survey()
    token = _customer_on_form(client, survey)
    data = {f"field{i}": "x" for i in range(10_000)} | answers_for(survey.items) | {"csrf_token": token}
    response = client.post("/s/answer", data=data)
    assert response.status_code == 413
    repeated = "&".join(["comment=x"] * 10_000) + f"&csrf_token={token}"
    response = client.post("/s/answer", data=repeated, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert _count(db) == 0


RANDOM_VALUE = re.compile(r'(?:value|nonce|content)="[A-Za-z0-9._\-]{20,}"')


@pytest.mark.parametrize("payload", ["' OR '1'='1", "1; DROP TABLE responses; --", "<script>alert(1)</script>",
                                     "${7*7}", "{{7*7}}", "../../etc/passwd"])
def test_injection_strings_in_slugs_and_paths(client, db, payload):
    from tests.helpers import login, make_user

    login(client, make_user("leader"))
    for path in (f"/leaders/surveys/{payload}/rate", f"/s/{payload}"):
        response = client.get(path)
        assert response.status_code == 404, path
        # Random values (CSRF tokens, CSP nonces) may contain "49" by chance: leave them out.
        page = RANDOM_VALUE.sub("", response.get_data(as_text=True))
        assert "49" not in page
    assert db.session.execute(select(func.count()).select_from(Response)).scalar() == 0


def test_template_syntax_in_a_comment_is_stored_and_never_evaluated(client, db):
    survey = make_survey()
    token = _customer_on_form(client, survey)
    data = answers_for(survey.items) | {"csrf_token": token, "comment": "{{ config.SECRET_KEY }} {% raw %}"}
    assert client.post("/s/answer", data=data).status_code == 303
    assert db.session.execute(select(Response.comment)).scalar_one() == "{{ config.SECRET_KEY }} {% raw %}"
