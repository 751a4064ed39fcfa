"""The leaders' digest setting, /leaders/digest: weekly (the default), daily or never
(perception.followups.digest_service)."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from perception.followups.digest_service import set_digest_frequency
from perception.followups.forms import DigestForm
from perception.web.leaders import LEADERS
from perception.web.leaders import bp as leaders
from perception.web.security import roles_required

SAVED = {"weekly": "Saved: you get the digest once a week.", "daily": "Saved: you get the digest every day.",
         "off": "Saved: you get no digest."}


@leaders.route("/digest", methods=["GET", "POST"], endpoint="digest_settings")
@roles_required(*LEADERS)
def digest_settings():
    form = DigestForm(data={"frequency": current_user.digest_frequency})
    if form.validate_on_submit():
        set_digest_frequency(current_user, form.frequency.data)
        flash(SAVED[form.frequency.data])
        return redirect(url_for("leaders.digest_settings"))
    return render_template("followups/digest_settings.html", form=form), (400 if form.errors else 200)
