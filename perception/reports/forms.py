"""The report pages' filters: GET forms (no CSRF, a view can be bookmarked) of team and month range
(dashboard, exports) or team and outcome (key drivers)."""

from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

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
        valid = super().validate(extra_validators)
        # Checked whatever the other fields say: the dashboard may still be drawn when only its team
        # list's fields are wrong (DashboardTeamList), and then the months must be right.
        months = (self.month_from, self.month_to)
        if all(field.data and not field.errors for field in months) and self.month_from.data > self.month_to.data:
            self.month_to.errors.append("The last month must not be before the first month.")
            return False
        return valid

    def selection(self):
        """Keyword arguments for gap_report and build_dashboard."""
        return {
            "team": self.selected_team(),
            "month_from": self.month_from.data or None,
            "month_to": self.month_to.data or None,
        }


SEARCH_MAX = 120


def _first_page(form, field):
    # Not NumberRange: it would add "Pages start at 1" to "Not a valid integer value" for "abc" (no number).
    if field.data is not None and field.data < 1:
        raise ValidationError("Pages start at 1.")


TEAM_LIST_DEFAULTS = {"search": "", "order": "gap-desc", "page": 1}  # the team list's fields and their defaults
TEAM_ORDERS = [SelectChoice("gap-desc", "Largest gap first"), SelectChoice("gap-asc", "Smallest gap first"),
               SelectChoice("name", "By name")]


class DashboardTeamList(DashboardFilters):
    """The dashboard's filters plus its team list: search by name, order, page (perception.reports.ranking_queries).

    A wrong search, order or page concerns the team list alone: the figures are still drawn
    (`figures_valid`), and the list takes that field's default (`team_list`) while the field says
    what was wrong, so a mangled or old link never costs the leader the whole dashboard."""

    search = StringField("Find a team", name="q",
                         validators=[Optional(), Length(max=SEARCH_MAX, message=f"Keep the search to {SEARCH_MAX} "
                                                        "characters; part of a team's name is enough.")],
                         render_kw={"type": "search", "autocomplete": "off", "maxlength": SEARCH_MAX})
    order = SelectField("Order", default="gap-desc", validate_choice=False, choices=TEAM_ORDERS)
    # A text box, not type=number: a browser shows a number box's wrong value ("abc") as empty, and the
    # field is drawn only to show what was wrong with it.
    page = IntegerField("Page", default=1, validators=[Optional(), _first_page],
                        render_kw={"type": "text", "inputmode": "numeric"})

    def validate_order(self, field):
        if (field.data or "gap-desc") not in {choice.value for choice in TEAM_ORDERS}:
            raise ValidationError("Choose largest gap first, smallest gap first or by name.")

    def team_list_errors(self):
        """Whether the team list's own fields (search, order, page) hold an error."""
        return any(self[name].errors for name in TEAM_LIST_DEFAULTS)

    def figures_valid(self):
        """After validate(): whether the fields the figures depend on (team, months) are right."""
        return set(self.errors) <= set(TEAM_LIST_DEFAULTS)  # errors are keyed by attribute name

    def team_list(self):
        """Keyword arguments for build_dashboard's team list; a field with an error gives its default."""
        return {name: default if self[name].errors else self[name].data or default
                for name, default in TEAM_LIST_DEFAULTS.items()}


class DriverFilters(TeamFilters):
    """The key drivers' filters: team (within the viewer's scope) and the outcome."""

    outcome = SelectField("Outcome", default="nps", validate_choice=False,
                          choices=[SelectChoice("nps", "Likelihood to recommend (0–10)"),
                                   SelectChoice("care", "Overall care score")])

    def validate_outcome(self, field):
        if (field.data or "nps") not in OUTCOMES:
            raise ValidationError("Choose likelihood to recommend or the overall care score.")
