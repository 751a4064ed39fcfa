"""The account page for personal API tokens: make one (shown once), see when each was last used,
revoke it. Any role may have tokens; each acts with its owner's role."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from ..api.tokens import TokenError, create_api_token, revoke_api_token, tokens_of
from .views import bp


class NewTokenForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Please name the token, e.g. the system that will use it."),
                                           Length(max=80, message="At most 80 characters.")])


class RevokeTokenForm(FlaskForm):
    pass


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    form = NewTokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            _record, new_token = create_api_token(current_user, form.name.data)
        except TokenError as error:
            form.name.errors.append(str(error))
        else:
            form.name.data = ""
    response = current_app.make_response((render_template(
        "account/tokens.html", form=form, tokens=tokens_of(current_user), new_token=new_token,
        revoke_form=RevokeTokenForm(), api_base=current_app.config["BASE_URL"] + "/api/v1",
    ), 400 if form.errors else 200))
    # The new token is on this page once: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    if RevokeTokenForm().validate_on_submit() and revoke_api_token(current_user, token_id):
        flash("The token is revoked: calls with it are refused from now on.")
    else:
        flash("That token could not be revoked.")
    return redirect(url_for("auth.api_tokens"))
