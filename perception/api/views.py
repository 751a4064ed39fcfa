"""API routes. Each parses its input strictly (forms.py), calls the domain, answers JSON.

Every operation acts within its token's scopes (`scope_required`) and its owner's team scope
(perception.accounts.scope): a team leader's token sees waves covering their team, reads that team
only (without a `team` filter, its team; another team is refused like an unknown one), invites for
it only, and gets 404 for another team's invitation. A customer link is in the answer to the call
that made the invitation (and its idempotent replay) only, never in GET /invitations/<id>."""

import json

from flask import current_app, g, jsonify

from perception.accounts.queries import find_team
from perception.accounts.scope import in_scope, own_team, sees_survey
from perception.api.forms import (
    cursor_arg,
    cursor_of,
    idempotency_key,
    int_arg,
    invitation_input,
    json_body,
    query_args,
    request_fingerprint,
)
from perception.api.openapi import document
from perception.api.queries import response_page
from perception.api.service import KeyReused, invite_once
from perception.invitations.queries import invitation_by_id, survey_funnel
from perception.invitations.queries import invitation_link as rebuild_link
from perception.invitations.service import (
    CHANNEL_API,
    CHANNEL_EMAIL,
    InvitationError,
    InvitationRequest,
    check_email,
    check_language,
    find_staff_member,
)
from perception.reports.export_service import record_download
from perception.reports.queries import ReportError, gap_json, gap_report
from perception.reports.trend_queries import trend_report
from perception.surveys.queries import survey_by_slug, surveys_for
from perception.web.api import ApiError, roles_allowed, scope_required
from perception.web.api import bp as api

LEADERS = ("leader", "admin")
CHANNELS = ("email", "api", "open", "link", "import", "self")


def _time(value):
    return value.isoformat() if value is not None else None


def _survey(slug):
    survey = survey_by_slug(slug)
    if survey is None or not sees_survey(g.api_user, survey):
        raise ApiError(404, f"There is no survey {slug!r}.", "slug")
    return survey


def _team(name, field="team", status=400):
    """The named team, within the token owner's scope; without a name, their own team (None: all).
    For a team's leader another team and an unknown one get the same answer (no oracle of names)."""
    own = own_team(g.api_user)
    if name is None:
        return own
    team = find_team(name)
    if own is not None and (team is None or not in_scope(g.api_user, team.id)):
        raise ApiError(status, f"This token's account works for team {own.name!r} only.", field)
    if team is None:
        raise ApiError(status, f"There is no team named {name!r}.", field)
    return team


@api.get("/openapi.json")
def openapi_document():
    return jsonify(document(current_app.config["BASE_URL"]))


@api.get("/surveys")
def list_surveys():
    query_args(())
    # Drafts to those who prepare waves (leaders and admins); staff see what their pages show them.
    statuses = ("open", "closed") if g.api_user.role == "staff" else ("draft", "open", "closed")
    surveys = surveys_for(g.api_user, statuses=statuses)
    return jsonify({"surveys": [{
        "slug": survey.slug,
        "title": survey.title,
        "status": survey.status,
        "accepting_responses": survey.is_accepting(),
        "opens_at": _time(survey.opens_at),
        "closes_at": _time(survey.closes_at),
        "teams": [team.name for team in survey.teams],
        "items": [{"key": item.key, "dimension": item.dimension.key} for item in survey.items],
        "asks_nps": survey.ask_nps,
    } for survey in surveys]})


def invitation_json(invitation, link=None):
    deliver = "email" if invitation.channel == CHANNEL_EMAIL else "none"
    return {
        "id": invitation.id,
        "survey": invitation.survey.slug,
        "team": invitation.team.name,
        "staff_email": invitation.staff.email if invitation.staff else None,
        "email": invitation.customer_email,
        "name": invitation.customer_name,
        "language": invitation.language,
        "deliver": deliver,
        "state": invitation.delivery_state,  # never opened or answered: the funnel counts those
        "interaction_at": _time(invitation.interaction_at),
        "created_at": _time(invitation.created_at),
        "expires_at": _time(invitation.expires_at),
        # Only the call that made it (and its replay) gets the link: see create_invitation.
        "link": link,
    }


@api.post("/invitations")
@roles_allowed(*LEADERS)
@scope_required("invitations:write")
def create_invitation():
    query_args(())
    key = idempotency_key()
    values = invitation_input(json_body())
    survey = survey_by_slug(values["survey"])
    if survey is None or not sees_survey(g.api_user, survey):
        raise ApiError(422, f"There is no survey {values['survey']!r}.", "survey")
    team = _team(values["team"], status=422)
    if team is not None and team.archived_at is not None:  # history only: no new invitations
        raise ApiError(422, f"Team {team.name!r} is archived: it takes no new invitations.", "team")
    try:
        staff = find_staff_member(values["staff_email"], team, created_by=g.api_user) if values["staff_email"] else None
        email = check_email(values["email"]) if values["email"] is not None else None
        request = InvitationRequest(
            survey=survey, team=team, email=email, name=values["name"], staff=staff,
            interaction_at=values["interaction_at"], language=check_language(values["language"]),
            deliver=values["deliver"],
        )
        channel = CHANNEL_EMAIL if values["deliver"] == "email" else CHANNEL_API
        invitation, created = invite_once(request, g.api_user, key, request_fingerprint(values), channel)
    except KeyReused:
        raise ApiError(422, "This Idempotency-Key was already used for a different request; "
                            "use a new key for a new invitation.", "Idempotency-Key") from None
    except InvitationError as error:
        raise ApiError(409 if error.conflict else 422, str(error), error.field) from None
    # The caller who delivers the link gets it, in this answer only; an emailed link stays between us
    # and the customer, and GET /invitations/<id> never shows one.
    link = rebuild_link(invitation) if values["deliver"] == "none" else None
    response = jsonify(invitation_json(invitation, link))
    response.status_code = 201 if created else 200
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{current_app.config['BASE_URL']}/api/v1/invitations/{invitation.id}"
    return response


@api.get("/invitations/<int:invitation_id>")
@roles_allowed(*LEADERS)
@scope_required("invitations:read")
def get_invitation(invitation_id):
    query_args(())
    invitation = invitation_by_id(invitation_id)
    user = g.api_user
    if invitation is None or not (in_scope(user, invitation.team_id) and sees_survey(user, invitation.survey)):
        raise ApiError(404, f"There is no invitation {invitation_id}.", "invitation_id")
    return jsonify(invitation_json(invitation))


@api.get("/surveys/<slug>/gap")
@roles_allowed(*LEADERS)
@scope_required("reports:read")
def gap(slug):
    args = query_args(("team", "by", "from", "to"))
    survey = _survey(slug)
    team = _team(args["team"])
    try:
        report = gap_report(survey, team=team, by=args["by"], month_from=args["from"], month_to=args["to"])
    except ReportError as error:
        raise ApiError(400, str(error), error.field) from None
    return current_app.response_class(_json(gap_json(report, survey, team)), mimetype="application/json")


@api.get("/trend")
@roles_allowed(*LEADERS)
@scope_required("reports:read")
def trend():
    args = query_args(("team", "survey_prefix"))
    team = _team(args["team"])
    document = trend_report(user=g.api_user, team=team, prefix=args["survey_prefix"])
    return current_app.response_class(_json(document), mimetype="application/json")


def _json(data):
    # Same encoding as `flask gap --json`: full floats, and never NaN (not valid JSON).
    return json.dumps(data, allow_nan=False)


@api.get("/surveys/<slug>/responses")
@roles_allowed(*LEADERS)
@scope_required("responses:read")
def responses(slug):
    args = query_args(("perspective", "team", "channel", "page", "per_page", "after"))
    survey = _survey(slug)
    perspective = args["perspective"] or "customer"
    if perspective != "customer":
        # DESIGN section 2, "Own answers stay own": staff and leader rows are never given, to anyone.
        raise ApiError(400, "perspective must be customer: only customer rows are published. A staff member's or "
                            "leader's answers are shown to that person only; their figures are in "
                            f"/api/v1/surveys/{survey.slug}/gap.", "perspective")
    if args["channel"] is not None and args["channel"] not in CHANNELS:
        raise ApiError(400, f"channel must be one of {', '.join(CHANNELS)}.", "channel")
    page = int_arg(args["page"], "page", 1, 1, 1_000_000)
    per_page = int_arg(args["per_page"], "per_page", 100, 1, 500)
    after = cursor_arg(args["after"])
    if after is not None and args["page"] is not None:
        raise ApiError(400, "Give page or after, not both: after (the next of the page before) goes on from there.",
                       "after")
    min_n = current_app.config["MIN_N"]
    team = _team(args["team"])
    total, withheld, last, rows = response_page(
        survey, team=team, channel=args["channel"], min_n=min_n, page=page, per_page=per_page, after=after,
    )
    if page == 1 and after is None:  # one event per pass through the pages, not one per page
        record_download(g.api_user, survey, "api-responses", team=team, channel=args["channel"])
    return jsonify({
        "survey": survey.slug, "perspective": perspective, "min_n": min_n,
        "page": page if after is None else None, "per_page": per_page, "total": total,
        "next_page": page + 1 if after is None and page * per_page < total else None,
        "next": cursor_of(last) if last is not None else None,
        "withheld": withheld, "responses": rows,
    })


@api.get("/surveys/<slug>/funnel")
@roles_allowed(*LEADERS)
@scope_required("invitations:read")
def funnel(slug):
    args = query_args(("team",))
    survey = _survey(slug)
    return jsonify(survey_funnel(survey, _team(args["team"])))
