"""Accounts' forms: logging in and out, and making and revoking API tokens."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import InputRequired, Length


class NewTokenForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Please name the token, e.g. the system that will use it."),
                                           Length(max=80, message="At most 80 characters.")])


class RevokeTokenForm(FlaskForm):
    pass


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired("Please enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired("Please enter your password."), Length(max=200)])
    remember = BooleanField("Keep me logged in on this device")


class LogoutForm(FlaskForm):
    pass
