"""Builders shared by the closing-the-loop tests (follow-ups, timeline, erasure, recovery, staff guesses)."""

import re

from sqlalchemy import select

from perception.core.extensions import db
from perception.core.models import FollowUp, Response
from tests.helpers import answers_for, make_invitation, open_link, post_form

FOLLOWUP_URL_RE = re.compile(r"https?://[^\s\"<>]+/leaders/followups/([a-z0-9]+)")


def answer(client, survey, token, score=1, consent=None, phone=None, comment=None, nps=None, scores=None):
    """Answer a personal link as the customer would; returns the POST response."""
    assert open_link(client, token).status_code == 303
    data = answers_for(survey.items, score)
    if scores:
        data.update({f"item_{key}": str(value) for key, value in scores.items()})
    if consent is not None:
        data["contact_consent"] = consent
    if phone is not None:
        data["contact_phone"] = phone
    if comment is not None:
        data["comment"] = comment
    if nps is not None:
        data["nps"] = str(nps)
    return post_form(client, "/s/answer", data)


def invite_and_answer(client, survey, team, score=1, email=None, name=None, staff=None, **answers):
    invitation, token = make_invitation(survey, team, email=email, name=name, staff=staff)
    result = answer(client, survey, token, score, **answers)
    assert result.status_code == 303, result.get_data(as_text=True)[:2000]
    return invitation


def followup_of(invitation):
    return db.session.execute(
        select(FollowUp).join(Response, Response.id == FollowUp.response_id)
        .where(Response.invitation_id == invitation.id)
    ).scalar_one_or_none()


def page_post(client, url, form, data, must_show=True):
    """POST one of the follow-up page's forms (prefix `form`) with its CSRF token."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(rf'id="{form}-csrf_token" name="{form}-csrf_token" type="hidden" value="([^"]+)"', html)
    if match is None and not must_show:  # a form the page no longer offers, posted anyway (a stale tab)
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no {form} form on {url}"
    payload = {f"{form}-csrf_token": match.group(1), f"{form}-action": form}
    payload.update({f"{form}-{key}": value for key, value in data.items()})
    return client.post(url, data=payload)
