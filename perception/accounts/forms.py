"""Accounts' forms: logging in and out, confirming the password, making and revoking API tokens, forgotten and
new passwords."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from perception.accounts.password_service import PASSWORD_MAX, PASSWORD_MIN
from perception.core.tokens import API_SCOPES


class NewTokenForm(FlaskForm):
    name = StringField("Name", render_kw={"autocomplete": "off"},
                       validators=[InputRequired("Please name the token, e.g. the system that will use it."),
                                   Length(max=80, message="At most 80 characters.")])
    scopes = SelectMultipleField(
        "What the token may do", widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        choices=[SelectChoice(scope, f"{scope}: {text}") for scope, text in API_SCOPES.items()],
        validators=[InputRequired("Please tick at least one thing the token may do.")],
    )
    # A token acts as its maker until revoked, a new password or a logout notwithstanding: whoever holds
    # the session for a moment (a device left open) must not mint one (an attacker's read).
    password = PasswordField("Your password", render_kw={"autocomplete": "current-password"},
                             validators=[InputRequired("Please enter your password: the token will act as you."),
                                         Length(max=200, message="At most 200 characters.")])


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField("Your password", render_kw={"autocomplete": "current-password"},
                             validators=[InputRequired("Please enter your password."),
                                         Length(max=200, message="At most 200 characters.")])


class RevokeTokenForm(FlaskForm):
    pass


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired("Please enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired("Please enter your password."), Length(max=200)])
    remember = BooleanField("Keep me logged in on this device")


class LogoutForm(FlaskForm):
    pass


def stripped(value):
    return value.strip() if isinstance(value, str) else value


class ForgotPasswordForm(FlaskForm):
    # Stripped first, so an address of spaces alone is "missing", not a request for nobody.
    email = EmailField("Email", filters=[stripped], validators=[
        DataRequired("Please enter your email."), Length(max=254),
        Email("Please enter a whole email address, e.g. name@example.com."),
    ])


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[
        InputRequired("Please choose a password."),
        Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=f"Please use {PASSWORD_MIN} to {PASSWORD_MAX} characters."),
    ], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("The same password again", validators=[
        InputRequired("Please type the password again."),
        EqualTo("password", "The two passwords differ: please type the same password twice."),
    ], render_kw={"autocomplete": "new-password"})
