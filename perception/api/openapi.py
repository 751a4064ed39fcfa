"""The OpenAPI 3.1 document of /api/v1. Tests check every API response they receive against it
and that it lists exactly the routes the blueprint has. Each operation's security requirement
names the token scope it needs (perception.core.tokens.API_SCOPES)."""

from perception.core.tokens import API_SCOPES
from perception.web.i18n import LANGUAGES

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_NUMBER = {"type": ["number", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time"}
MONTH = {"type": "string", "pattern": r"^\d{4}-\d{2}$", "description": "YYYY-MM, UTC."}
INTERVAL = {"oneOf": [{"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                      {"type": "null"}]}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties, required=None, extra=False, **more):
    return {"type": "object", "properties": properties, "required": list(required or properties),
            "additionalProperties": extra, **more}


CELL = _object({"n": {"type": "integer", "minimum": 0}, "mean": NULLABLE_NUMBER, "sd": NULLABLE_NUMBER,
                "ci": INTERVAL, "top_box": NULLABLE_NUMBER, "suppressed": {"type": "boolean"}}, extra=True,
               description="One perspective's figures; all null but n when suppressed (fewer than min_n).")
GAP = _object({"value": NULLABLE_NUMBER, "ci": INTERVAL, "p": NULLABLE_NUMBER,
               "p_adjusted": {**NULLABLE_NUMBER, "description": (
                   "p adjusted (Benjamini-Hochberg) for every test of this report: the gap and leader_gap of "
                   "every dimension and item, at the top level and in every group; null where p is null.")},
               "top_box_gap": NULLABLE_NUMBER},
              extra=True, description="Staff (or leader) minus customers; all null when either side is suppressed.")
ROW = {"customer": _ref("Cell"), "staff": _ref("Cell"), "leader": _ref("Cell"), "gap": _ref("Gap"),
       "leader_gap": _ref("Gap"), "calibration": NULLABLE_NUMBER}
PERSPECTIVE_NUMBERS = _object(dict.fromkeys(("customer", "staff", "leader"), NULLABLE_NUMBER), extra=True)
GROUP_FIGURES = {"dimensions": {"type": "array", "items": _ref("DimensionRow")},
                 "items": {"type": "array", "items": _ref("ItemRow")},
                 "care_index": PERSPECTIVE_NUMBERS, "indifference_rate": NULLABLE_NUMBER}
FUNNEL_STAGES = {stage: {"type": "integer", "minimum": 0}
                 for stage in ("invited", "sent", "opened", "answered", "bounced", "unsubscribed", "expired")}
FUNNEL_ROW = {**FUNNEL_STAGES, "response_rate": {**NULLABLE_NUMBER, "description": "answered / sent"}}
CHANGE = _object({"value": NULLABLE_NUMBER, "ci": INTERVAL, "p": NULLABLE_NUMBER,
                  "p_adjusted": {**NULLABLE_NUMBER,
                                 "description": "Benjamini-Hochberg over every test of the document."}},
                 description="This wave minus the previous one; all null when either side is withheld.")
TREND_WAVE = _object({
    "survey": {"type": "string"}, "title": {"type": "string"}, "status": {"enum": ["open", "closed"]},
    "opens_at": TIME, "dimensions": {"type": "array", "items": _ref("DimensionRow")},
    "care_index": PERSPECTIVE_NUMBERS,
    "respondents": _object(dict.fromkeys(("customer", "staff", "leader"), {"type": "integer", "minimum": 0}),
                           extra=True),
    "response_rate": {**NULLABLE_NUMBER, "description": "Invitations answered / sent, as in the funnel."},
    "change": {"oneOf": [{"type": "null"}, _object({
        "since": {"type": "string", "description": "Slug of the previous wave."},
        "care_index": PERSPECTIVE_NUMBERS, "response_rate": NULLABLE_NUMBER,
        "dimensions": {"type": "array", "items": _object({
            "key": {"type": "string"}, "name": {"type": "string"}, "customer_mean": _ref("Change"),
            "gap": _ref("Change"), "top_box_gap": NULLABLE_NUMBER})},
    })]},
}, description="One wave: `dimensions`, `care_index` and `respondents` are exactly its gap report's with the "
               "same filters; `change` is null for the first wave.")
SCHEMAS = {
    "Error": _object({"error": {"type": "string"}, "field": NULLABLE_STRING},
                     description="What went wrong, and the input field, header or parameter at fault (if any)."),
    "Survey": _object({
        "slug": {"type": "string"}, "title": {"type": "string"},
        "status": {"enum": ["draft", "open", "closed"]}, "accepting_responses": {"type": "boolean"},
        "opens_at": TIME, "closes_at": TIME,
        "teams": {"type": "array", "items": {"type": "string"}, "description": "Empty: every team."},
        "items": {"type": "array", "items": _object({"key": {"type": "string"}, "dimension": {"type": "string"}})},
        "asks_nps": {"type": "boolean"},
    }),
    "SurveyList": _object({"surveys": {"type": "array", "items": _ref("Survey")}}),
    "InvitationInput": _object({
        "survey": {"type": "string", "maxLength": 80, "description": "Slug of an open survey."},
        "team": {"type": "string", "maxLength": 120, "description": "Team that served the customer."},
        "email": {"type": ["string", "null"], "format": "email", "maxLength": 254,
                  "description": "Required when deliver is email."},
        "name": {"type": ["string", "null"], "maxLength": 120},
        "staff_email": {"type": ["string", "null"], "maxLength": 254,
                        "description": "The staff member (of that team) who served the customer."},
        "interaction_at": {**TIME, "description": "When the interaction happened; default now. No offset: UTC."},
        "language": {"enum": [*LANGUAGES, None],
                     "description": "Language of the mail and the survey page; null: the customer's browser decides."},
        "deliver": {"enum": ["email", "none"], "default": "email",
                    "description": "email: we send the invitation (and a reminder); none: the answer carries the "
                                   "link for you to send through your own channel (SMS, receipt, chat)."},
    }, required=["survey", "team"]),
    "Invitation": _object({
        "id": {"type": "integer"}, "survey": {"type": "string"}, "team": {"type": "string"},
        "staff_email": NULLABLE_STRING, "email": NULLABLE_STRING, "name": NULLABLE_STRING,
        "language": NULLABLE_STRING, "deliver": {"enum": ["email", "none"]},
        "state": {"enum": ["created", "sent", "expired", "bounced", "unsubscribed"],
                  "description": "The mail and the link: expired once the link's time is up. Whether the customer "
                                 "opened or answered is never told per invitation (they answer anonymously unless "
                                 "they allow contact); the funnel counts it."},
        "interaction_at": TIME, "created_at": TIME, "expires_at": TIME,
        "link": {"type": ["string", "null"], "format": "uri",
                 "description": "The customer's personal link when deliver is none, only in the answer to the "
                                "call that made the invitation (and its idempotent replay); null otherwise, and "
                                "always null in GET /invitations/{invitation_id}."},
    }),
    "Cell": CELL,
    "Gap": GAP,
    "DimensionRow": _object({"key": {"type": "string"}, "name": {"type": "string"}, **ROW},
                            required=["key", *ROW], extra=True),
    "ItemRow": _object({"key": {"type": "string"}, "dimension": {"type": "string"}, **ROW},
                       required=["key", "dimension", *ROW], extra=True),
    "GapGroup": _object({"team": {"type": "string"}, "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
                         **GROUP_FIGURES}, required=list(GROUP_FIGURES), extra=True,
                        description="One team or month; has `team` or `month`."),
    "GapReport": _object({
        "survey": {"type": "string"}, "min_n": {"type": "integer", "minimum": 1},
        "filters": _object({"team": NULLABLE_STRING, "by": {"enum": ["team", "month", None]},
                            "from": NULLABLE_STRING, "to": NULLABLE_STRING}, extra=True),
        **GROUP_FIGURES,
        "groups": {"type": "array", "items": _ref("GapGroup")},
        "waiting": _object(dict.fromkeys(("customer", "staff", "leader"), {"type": "integer", "minimum": 0}),
                           description="Answers (of the team filter, any month) waiting for their batch: answers "
                                       "enter the figures min_n at a time per team, staff member served and "
                                       "perspective, so no two reports differ by fewer than min_n respondents. "
                                       "Counted in no figure yet."),
    }, required=["survey", "min_n", "filters", *GROUP_FIGURES, "groups", "waiting"], extra=True,
        description="Identical to `flask --app wsgi gap --json`: the Gap JSON of DESIGN section 3 plus `waiting`. "
                    "Only published answers count; months are those of publication (a batch's last answer)."),
    "AnonymousResponse": _object({
        "submitted_on": {"type": "string", "format": "date",
                         "description": "The day the response was published (the last answer of its batch)."},
        "team": NULLABLE_STRING,
        "channel": {"enum": ["email", "api", "open", "link", "import", "self", None], "description": (
            "How the response came; null where fewer than min_n of its publication batch came that way "
            "(withheld with as many of the batch's other channels, fewest first, as make min_n together).")},
        "answers": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
                    "description": "Item key -> score 1-5."},
        "nps": {"type": ["integer", "null"], "minimum": 0, "maximum": 10}, "comment": NULLABLE_STRING,
    }, required=["submitted_on", "team", "channel", "answers", "nps", "comment"]),
    "ResponsePage": _object({
        "survey": {"type": "string"}, "perspective": {"enum": ["customer"]},
        "min_n": {"type": "integer"},
        "page": {"type": ["integer", "null"], "minimum": 1, "description": "null when the page was asked by after."},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 500},
        "total": {"type": "integer", "description": "Responses shown over all pages (withheld cells excluded)."},
        "next_page": {"type": ["integer", "null"], "description": "Pages by number move when a batch is published "
                                                                  "meanwhile (rows repeat or are missed): use next."},
        "next": {"type": ["string", "null"],
                 "description": "Give it as after for the rows that follow; null on the last page. Every row published "
                                "before the first page comes once, whatever is published meanwhile."},
        "withheld": {"type": "array",
                     "items": _object({"team": NULLABLE_STRING, "month": MONTH,
                                       "n": {"type": "integer", "minimum": 1}}),
                     "description": "Team-months (UTC, of publication) left out because fewer than min_n published "
                                    "customer responses are in them (team null: responses of no team); n: their "
                                    "responses matching the filters. Answers waiting for their batch are in none."},
        "responses": {"type": "array", "items": _ref("AnonymousResponse")},
    }),
    "Change": CHANGE,
    "TrendWave": TREND_WAVE,
    "Trend": _object({
        "min_n": {"type": "integer", "minimum": 1},
        "filters": _object({"team": NULLABLE_STRING, "survey_prefix": NULLABLE_STRING}, extra=True),
        "waves": {"type": "array", "items": _ref("TrendWave")},
        "teams": {"type": "array", "items": _object({"team": {"type": "string"},
                                                     "waves": {"type": "array", "items": _ref("TrendWave")}}),
                  "description": "Without a team filter: one series per team in the account's scope."},
        "tests": {"type": "integer", "minimum": 0, "description": "How many p-values the adjustment counted."},
        "significance": {"type": "number"},
        "sentence": {"type": "string", "description": "The largest significant (adjusted) change, in words."},
    }, extra=True),
    "FunnelRow": _object(FUNNEL_ROW),
    "Funnel": _object({
        "survey": {"type": "string"}, "team": NULLABLE_STRING, "total": _ref("FunnelRow"),
        "teams": {"type": "array", "items": _object({"team": {"type": "string"}, **FUNNEL_ROW}),
                  "description": "One row per team with invitations, by name."},
        "responses_by_channel": {"type": "object", "additionalProperties": {"type": "integer"},
                                 "description": "Customer responses per channel, open links included."},
    }),
}


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _ok(description, schema, headers=None):
    answer = {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}
    if headers:
        answer["headers"] = headers
    return answer


def _query(name, description, schema=None):
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


AUTH_ERRORS = {
    "401": _error("Missing, malformed, unknown or revoked token (see the WWW-Authenticate header)."),
    "403": _error("The token's account has a role that may not do this, or the token lacks the scope this "
                  "operation needs (the error names it; field `scope`)."),
}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
TEAM = _query("team", "Only this team (by name). A token of a team's leader reads that team only: without "
                      "`team` it gets its team's figures, and another team is refused (400).")


def _security(scope):
    """The bearer token with `scope` (for http schemes OpenAPI 3.1 lists such names as the requirement)."""
    if scope not in API_SCOPES:
        raise ValueError(f"unknown API scope {scope!r}")
    return [{"bearerToken": [scope]}]


def _read(summary, schema, parameters, scope=None, description=""):
    responses = {"200": _ok(summary, schema), "400": _error("Unknown or invalid query parameter."),
                 **AUTH_ERRORS, "404": _error("No such survey (or not visible to this account).")}
    operation = {"summary": summary, "description": description, "parameters": parameters, "responses": responses}
    if scope is None:
        responses.pop("403")
        responses.pop("404")
    else:
        operation["security"] = _security(scope)
    return {"get": operation}


def _trend_path():
    path = _read("The care gap across waves", "Trend",
                 [TEAM, _query("survey_prefix", "Only waves whose slug starts with this.")], scope="reports:read",
                 description="Leaders and admins. The same JSON as `flask --app wsgi trend --json`: the waves the "
                             "account sees in order of opening, each with its gap report's figures and the change "
                             "since the previous wave (95% CI, Welch p-value raw and Benjamini-Hochberg adjusted).")
    responses = path["get"]["responses"]
    responses.pop("404")
    responses["400"] = _error("Unknown query parameter, or a team unknown or outside the account's scope (field "
                              "`team`).")
    return path


PATHS = {
    "/surveys": _read("The survey waves this account can see", "SurveyList", [],
                      description="Any role and any token scope. Staff and a team's leaders see the waves that "
                                  "cover their team."),
    "/invitations": {"post": {
        "summary": "Invite a customer after an interaction (the trigger for a CRM, till or call centre)",
        "description": "Leaders and admins; a team's leader for their own team only (422 on `team`). With "
                       "`Idempotency-Key`, a retried call returns the invitation the first call made (200, "
                       "`Idempotent-Replayed: true`) instead of making another. With deliver=none this answer "
                       "(and its replay) is the only one that carries the customer's link.",
        "security": _security("invitations:write"),
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("InvitationInput")}}},
        "responses": {
            "201": _ok("Invitation made (and, with deliver=email, its mail queued).", "Invitation",
                       {"Location": {"schema": {"type": "string"}}}),
            "200": _ok("The same Idempotency-Key and request again: the invitation made before.", "Invitation",
                       {"Idempotent-Replayed": {"schema": {"const": "true"}}}),
            "400": _error("The body is not valid JSON, or an unknown query parameter."),
            **AUTH_ERRORS,
            "409": _error("The customer was already invited to this survey."),
            "415": _error("The body is not sent as application/json."),
            "422": _error("A field is unknown, missing, of the wrong type or invalid; or the Idempotency-Key "
                          "was used before for a different request."),
        },
    }},
    "/invitations/{invitation_id}": {"get": {
        "summary": "An invitation and the state of its mail and link (created, sent, bounced, unsubscribed, expired)",
        "description": "Never carries the customer's link (`link` is null).",
        "security": _security("invitations:read"),
        "parameters": [{"name": "invitation_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": _ok("The invitation.", "Invitation"), "400": _error("Unknown query parameter."),
                      **AUTH_ERRORS,
                      "404": _error("No such invitation, or one of a team outside the token owner's scope.")},
    }},
    "/surveys/{slug}/gap": _read(
        "The gap report", "GapReport",
        [SLUG, TEAM, _query("by", "Add one group per team or per UTC month.", {"enum": ["team", "month"]}),
         _query("from", "First month (YYYY-MM, UTC), inclusive."), _query("to", "Last month (YYYY-MM), inclusive.")],
        scope="reports:read", description="Leaders and admins. The same JSON as `flask --app wsgi gap --json`."),
    "/surveys/{slug}/responses": _read(
        "Anonymous customer responses, page by page", "ResponsePage",
        [SLUG, _query("perspective", "customer, the default and the only one: staff and leader answers are shown "
                                     "to their authors only (400 for staff or leader).", {"enum": ["customer"]}),
         TEAM,
         _query("channel", "Only responses that came this way and carry it (at least min_n of their publication "
                           "batch came that way); the others are counted in withheld.",
                {"enum": ["email", "api", "open", "link", "import", "self"]}),
         _query("page", "From 1.", {"type": "integer", "minimum": 1}),
         _query("per_page", "1 to 500, default 100.", {"type": "integer", "minimum": 1, "maximum": 500}),
         _query("after", "The next of the page before: the rows after its last (not with page).",
                {"type": "string"})],
        scope="responses:read",
        description="Leaders and admins. Customer rows only, published ones, with no respondent identity and only "
                    "the day of publication, from published cells only: a team and UTC month with at least min_n "
                    "published customer responses (as on the support-vs-erode board). Other cells are left out "
                    "and listed in withheld. perspective=staff or leader is refused (400, field perspective)."),
    "/surveys/{slug}/funnel": _read(
        "Invited, sent, opened, answered, bounced, unsubscribed per team", "Funnel", [SLUG, TEAM],
        scope="invitations:read", description="Leaders and admins."),
    "/trend": _trend_path(),
    "/openapi.json": {"get": {"summary": "This document", "security": [],
                              "responses": {"200": {"description": "OpenAPI 3.1",
                                                    "content": {"application/json": {"schema": {"type": "object"}}}}}}},
}


def document(base_url):
    return {
        "openapi": "3.1.0",
        "info": {"title": "Perception API", "version": "1.0.0",
                 "description": "Measure the care gap. Authenticate with a personal API token (account page, "
                                "'API tokens'): `Authorization: Bearer <token>`. A token acts with its owner's "
                                "role and team scope (a team's leader: that team only), and only within the "
                                "scopes ticked when it was made; each operation's security requirement names "
                                "its scope: " + "; ".join(f"`{name}`: {text}" for name, text in API_SCOPES.items())
                                + " Errors are JSON `{\"error\": ..., \"field\": ...}`."},
        "servers": [{"url": f"{base_url}/api/v1"}],
        "security": [{"bearerToken": []}],
        "components": {"securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer"}},
                       "schemas": SCHEMAS},
        "paths": PATHS,
    }
