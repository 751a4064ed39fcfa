"""The report pages' filters: GET forms (no CSRF, a view can be bookmarked) of team and month range
(dashboard, exports) or team and outcome (key drivers)."""

from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from perception.insights import OUTCOMES
from perception.reports.queries import ReportError, parse_month
from perception.web.forms import TeamFilters

MONTH_HINT = "Write the month as YYYY-MM, for example 2026-03."


def _month(form, field):
    try:
        parse_month(field.data, field.name)
    except ReportError:
        raise ValidationError(MONTH_HINT) from None


class DashboardFilters(TeamFilters):
    """The dashboard's filters: team (within the viewer's scope) and month range."""

    month_from = StringField("From month", name="from", validators=[Optional(), _month],
                             render_kw={"type": "month", "placeholder": "YYYY-MM", "inputmode": "numeric"})
    month_to = StringField("To month", name="to", validators=[Optional(), _month],
                           render_kw={"type": "month", "placeholder": "YYYY-MM", "inputmode": "numeric"})

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if self.month_from.data and self.month_to.data and self.month_from.data > self.month_to.data:
            self.month_to.errors.append("The last month must not be before the first month.")
            return False
        return True

    def selection(self):
        """Keyword arguments for gap_report and build_dashboard."""
        return {
            "team": self.selected_team(),
            "month_from": self.month_from.data or None,
            "month_to": self.month_to.data or None,
        }


TEAM_ORDERS = [SelectChoice("gap-desc", "Largest gap first"), SelectChoice("gap-asc", "Smallest gap first"),
               SelectChoice("name", "By name")]


class DashboardTeamList(DashboardFilters):
    """The dashboard's filters plus its team list: search by name, order, page (perception.reports.ranking_queries)."""

    search = StringField("Find a team", name="q", validators=[Optional(), Length(max=120)],
                         render_kw={"type": "search", "autocomplete": "off"})
    order = SelectField("Order", default="gap-desc", validate_choice=False, choices=TEAM_ORDERS)
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, message="Pages start at 1.")],
                        render_kw={"inputmode": "numeric"})

    def validate_order(self, field):
        if (field.data or "gap-desc") not in {choice.value for choice in TEAM_ORDERS}:
            raise ValidationError("Choose largest gap first, smallest gap first or by name.")

    def team_list(self):
        """Keyword arguments for build_dashboard's team list."""
        return {"search": self.search.data or "", "order": self.order.data or "gap-desc", "page": self.page.data or 1}


class DriverFilters(TeamFilters):
    """The key drivers' filters: team (within the viewer's scope) and the outcome."""

    outcome = SelectField("Outcome", default="nps", validate_choice=False,
                          choices=[SelectChoice("nps", "Likelihood to recommend (0–10)"),
                                   SelectChoice("care", "Overall care score")])

    def validate_outcome(self, field):
        if (field.data or "nps") not in OUTCOMES:
            raise ValidationError("Choose likelihood to recommend or the overall care score.")
