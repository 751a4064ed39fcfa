"""The admin page's forms: add an endpoint, remove one."""

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

from perception.core.models import WEBHOOK_EVENTS

EVENT_TEXTS = {
    "response.received": "a customer answered",
    "followup.opened": "an unhappy answer opened a follow-up",
    "followup.overdue": "a follow-up is past its due time with no contact",
    "followup.resolved": "a follow-up was resolved",
}


class NewEndpointForm(FlaskForm):
    url = StringField("Endpoint URL", validators=[InputRequired("Please enter the URL that receives the events.")])
    events = SelectMultipleField(
        "Events to send", widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        choices=[SelectChoice(event, f"{event}: {EVENT_TEXTS[event]}") for event in WEBHOOK_EVENTS],
        validators=[InputRequired("Please choose at least one event.")],
    )


class RemoveEndpointForm(FlaskForm):
    pass
