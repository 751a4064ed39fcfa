"""Staff: how do you think that customer felt? Asked once per interaction that names you
(perception.followups.triads_service); the customer's answer is never shown here."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired, NumberRange, Optional

from perception.followups.triads_service import TriadError, pending_interactions, record_guess
from perception.web.security import roles_required
from perception.web.staff import bp as staff

GUESS_CHOICES = [
    (1, "Not cared for at all"), (2, "Poorly"), (3, "So-so"), (4, "Well cared for"), (5, "Very well cared for"),
]


class GuessForm(FlaskForm):
    invitation = IntegerField(validators=[InputRequired()])
    score = IntegerField(validators=[Optional(), NumberRange(min=1, max=5)])
    skip = HiddenField()


@staff.route("/interactions", methods=["GET", "POST"])
@roles_required("staff")
def interactions():
    form = GuessForm()
    status = 200
    if request.method == "POST":
        skipped = form.skip.data == "1"
        if form.validate_on_submit() and (form.score.data is not None or skipped):
            try:
                stored = record_guess(current_user, form.invitation.data, None if skipped else form.score.data)
            except TriadError as error:
                flash(str(error))
            else:
                flash("Thank you, noted." if stored else "You had already answered for that customer.")
            return redirect(url_for("staff.interactions"), code=303)
        flash("Please choose how you think the customer felt, or say you don't remember.")
        status = 400
    return render_template("followups/triads.html", rows=pending_interactions(current_user), choices=GUESS_CHOICES,
                           form=form), status
