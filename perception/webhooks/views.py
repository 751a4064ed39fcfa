"""The admins' webhooks page, /admin/webhooks: add an endpoint (its signing secret shown once),
each endpoint's delivery log (status, attempts, last error), remove one."""

from flask import flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from perception.accounts.recent_password import recent_password_required
from perception.web.admin import bp
from perception.webhooks.forms import NewEndpointForm, RemoveEndpointForm
from perception.webhooks.queries import endpoint_logs
from perception.webhooks.service import WebhookError, add_endpoint, remove_endpoint


@bp.route("/webhooks", methods=["GET", "POST"])
@recent_password_required()
def webhooks():
    form = NewEndpointForm()
    new_secret, new_endpoint = None, None
    if not form.is_submitted():
        form.events.data = []
    if form.validate_on_submit():
        try:
            new_endpoint, new_secret = add_endpoint(form.url.data, form.events.data, current_user)
        except WebhookError as error:
            form[error.field].errors.append(str(error))
        else:
            form.url.data, form.events.data = "", []
    # The admin blueprint marks every answer no-store: the secret stays out of every cache.
    return make_response(render_template(
        "webhooks/admin.html", form=form, logs=endpoint_logs(), remove_form=RemoveEndpointForm(),
        new_secret=new_secret, new_endpoint=new_endpoint,
    ), 400 if form.errors else 200)


@bp.post("/webhooks/<int:endpoint_id>/remove")
def remove_webhook(endpoint_id):
    if RemoveEndpointForm().validate_on_submit() and remove_endpoint(endpoint_id, current_user):
        flash("The endpoint is removed: it gets no more events.")
    else:
        flash("That endpoint could not be removed.")
    return redirect(url_for("admin.webhooks"))
