"""The customer's re-survey after a resolved follow-up (perception.followups.recovery_service): `/s/r/<token>`,
swapped at once for a session value like the personal survey link, then two questions."""

from flask import redirect, render_template, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import Optional

from perception.core.database import session_id
from perception.core.extensions import db, limiter
from perception.core.models import RecoveryRequest
from perception.followups.recovery_service import (
    RECOVERY_ANSWERED,
    RECOVERY_OK,
    check_recovery,
    find_recovery,
    record_recovery_answer,
)
from perception.surveys.queries import wave_item
from perception.web.customer import bp as customer
from perception.web.customer import guess_failed
from perception.web.forms import NPS_CHOICES, int_or_none, likert_field
from perception.web.i18n import customer_item_text

SESSION_KEY = "survey_recovery"


def _problem(status):
    if status == RECOVERY_ANSWERED:
        return render_template("web/answered.html"), 200
    if status == RECOVERY_OK:
        return None
    if status == "gone":
        return render_template("web/closed.html"), 410
    return render_template("web/unknown.html"), 404


def recovery_form_class(item):
    attrs = {
        "score": likert_field(customer_item_text(item)),
        "nps": RadioField(_l("How likely are you now to recommend us to a friend or colleague? (optional)"),
                          choices=NPS_CHOICES, coerce=int_or_none, validators=[Optional()]),
    }
    return type("RecoveryForm", (FlaskForm,), attrs)


@customer.get("/r/<token>")
@limiter.limit("30 per minute", deduct_when=guess_failed)
def open_recovery(token):
    recovery = find_recovery(token)
    status = check_recovery(recovery)
    if status == RECOVERY_ANSWERED:
        return render_template("web/answered.html"), 410
    if status != RECOVERY_OK:
        return _problem(status)
    session[SESSION_KEY] = recovery.id
    return redirect(url_for("survey.recovery_answer"), code=303)


@customer.route("/r/answer", methods=["GET", "POST"])
def recovery_answer():
    recovery_id = session_id(session.get(SESSION_KEY))
    recovery = db.session.get(RecoveryRequest, recovery_id) if recovery_id else None
    problem = _problem(check_recovery(recovery))
    if problem is not None:
        return problem
    # The item as the customer's wave asked it: "after" is compared with their answer to that wording.
    asked = wave_item(recovery.follow_up.response.survey_id, recovery.item_id) or recovery.item
    form = recovery_form_class(asked)()
    if form.validate_on_submit():
        if not record_recovery_answer(recovery, form.score.data, form.nps.data):
            return render_template("web/answered.html"), 200
        session.pop(SESSION_KEY, None)
        return redirect(url_for("survey.recovery_thanks"), code=303)
    team = recovery.follow_up.team
    return render_template("followups/recovery_form.html", form=form, team=team), (400 if form.errors else 200)


@customer.get("/r/thanks")
def recovery_thanks():
    return render_template("followups/recovery_thanks.html")
