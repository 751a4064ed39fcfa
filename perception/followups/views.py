"""Leaders' follow-up pages: the list (open, overdue, mine, resolved, all) with each team's
figures, one follow-up with its answers, history and actions, the customer's timeline, the
recovery report, and (admins) finding and erasing a customer. The rules live in
perception.followups, .recovery, .timeline and .erasure; these views parse and render."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from perception.accounts.queries import all_teams
from perception.accounts.scope import whole_business
from perception.core.database import database_id
from perception.core.extensions import db
from perception.followups.erasure_service import ErasureError, erase_customer, recent_erasures
from perception.followups.forms import PAGE_FORMS, CustomerSearchForm, EraseForm, page_forms
from perception.followups.mail import try_alert
from perception.followups.queries import (
    VIEWS,
    answers_of,
    assignable_users,
    customer_identity,
    followup_for,
    history,
    is_overdue,
    list_followups,
    overdue_count,
    reason_lines,
    served_by,
    team_figures,
)
from perception.followups.recovery_service import RecoveryError, recovery_of, recovery_report, send_recovery, why_not
from perception.followups.service import (
    CHANNEL_LABELS,
    OUTCOME_LABELS,
    STATE_LABELS,
    FollowupError,
    add_note,
    reassign,
    record_contact,
    reopen,
    resolve,
)
from perception.followups.timeline_queries import customer_timeline, sparkline
from perception.web.leaders import LEADERS
from perception.web.leaders import bp as leaders
from perception.web.security import roles_required

VIEW_LABELS = {"open": "Open", "overdue": "Overdue", "mine": "Assigned to me", "resolved": "Resolved", "all": "All"}
LABELS = {"channels": CHANNEL_LABELS, "outcomes": OUTCOME_LABELS, "states": STATE_LABELS}


def _followup_or_404(reference):
    followup = followup_for(current_user, reference)
    if followup is None:
        abort(404)
    return followup


@leaders.get("/followups/")
@roles_required(*LEADERS)
def followups():
    view = request.args.get("view", "open")
    if view not in VIEWS:
        view = "open"
    whole = whole_business(current_user)  # a team's leader sees their team's follow-ups only
    teams = all_teams() if whole else []
    team_id = request.args.get("team", type=database_id) if whole else None  # not an id: no filter
    rows = list_followups(current_user, view, team_id=team_id)
    return render_template(
        "followups/list.html", rows=rows, view=view, views=VIEW_LABELS, teams=teams, team_id=team_id,
        figures=team_figures(current_user), overdue=overdue_count(current_user), is_overdue=is_overdue,
        reason_lines=reason_lines, labels=LABELS,
    )


def _submitted_form():
    return next((name for name in PAGE_FORMS if f"{name}-action" in request.form), None)


def _act(followup, name, form):
    """Run the action of the submitted form; returns the flash message."""
    if name == "contact":
        record_contact(followup, current_user, form.channel.data, form.outcome.data, form.note.data, at=form.when())
        return "Contact recorded."
    if name == "resolve":
        resolve(followup, current_user, form.note.data)
        return "Follow-up resolved."
    if name == "reopen":
        reopen(followup, current_user, form.note.data)
        return "Follow-up reopened."
    if name == "reassign":
        reassign(followup, current_user, form.assignee.data, form.note.data)
        sent = try_alert(followup.id)
        who = followup.assignee.name or followup.assignee.email
        return f"Passed to {who}." + ("" if sent else " The email to them will go out with the next mail run.")
    if name == "note":
        add_note(followup, current_user, form.note.data)
        return "Note added."
    if name == "recovery":
        send_recovery(followup, current_user)
        return "The re-survey was sent to the customer."
    raise AssertionError(f"unknown follow-up action {name!r}")  # PAGE_FORMS names every action


@leaders.route("/followups/<reference>", methods=["GET", "POST"])
@roles_required(*LEADERS)
def followup(reference):
    item = _followup_or_404(reference)
    submitted = _submitted_form() if request.method == "POST" else None
    if request.method == "POST" and submitted is None:
        abort(400)
    forms = page_forms(assignable_users(item), submitted)
    refusal = None
    if submitted is not None:
        form = forms[submitted]
        if form.validate_on_submit():
            try:
                message = _act(item, submitted, form)
            except (FollowupError, RecoveryError) as error:
                db.session.rollback()
                field = getattr(error, "field", None)
                if field and field in form:
                    form[field].errors = [*form[field].errors, str(error)]
                else:
                    refusal = str(error)
            else:
                flash(message)
                return redirect(url_for("leaders.followup", reference=item.reference), code=303)
    status = 400 if submitted is not None else 200
    return _render_followup(item, forms, refusal), status


def _render_followup(item, forms, refusal):
    response = item.response
    return render_template(
        "followups/detail.html", item=item, response=response, forms=forms, refusal=refusal,
        identity=customer_identity(response), answers=answers_of(response), reasons=reason_lines(item),
        overdue=is_overdue(item), staff=served_by(response), history=history(item),
        recovery=recovery_of(item), recovery_blocked=why_not(item), labels=LABELS,
    )


@leaders.get("/followups/<reference>/timeline")
@roles_required(*LEADERS)
def followup_timeline(reference):
    item = _followup_or_404(reference)
    identity = customer_identity(item.response)
    if identity is None or not identity["email"]:
        abort(404)
    timeline = customer_timeline(identity["email"], current_user)
    return render_template("followups/timeline.html", timeline=timeline, followup=item,
                           line=sparkline(timeline.trend.points))


@leaders.get("/followups/recovery")
@roles_required(*LEADERS)
def recovery():
    return render_template("followups/recovery.html", report=recovery_report(current_user))


@leaders.route("/customers", methods=["GET", "POST"])
@roles_required("admin")
def customers():
    """Find a customer's timeline by email, or erase them. POST only: no address in any URL or log."""
    search = CustomerSearchForm(prefix="search", formdata=None)
    erase = EraseForm(prefix="erase", formdata=None)
    timeline = line = None
    status = 200
    if "search-action" in request.form:
        search = CustomerSearchForm(prefix="search")
        if search.validate_on_submit():
            timeline = customer_timeline(search.email.data, current_user)
            line = sparkline(timeline.trend.points)
        else:
            status = 400
    elif "erase-action" in request.form:
        erase = EraseForm(prefix="erase")
        if erase.validate_on_submit():
            try:
                result = erase_customer(erase.email.data, f"admin {current_user.email} (user #{current_user.id})",
                                        user=current_user)
            except ErasureError as error:
                erase.email.errors = [*erase.email.errors, str(error)]
                status = 400
            else:
                flash(result.summary())
                return redirect(url_for("leaders.customers"), code=303)
        else:
            status = 400
    elif request.method == "POST":
        abort(400)
    return render_template("followups/timeline_search.html", search=search, erase=erase, timeline=timeline, line=line,
                           erasures=recent_erasures()), status
