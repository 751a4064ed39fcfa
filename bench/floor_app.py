"""The floor for the submit benchmark: the least any Flask app must do for the customer submit.

Flask-WTF with CSRF on, a signed cookie session, a form of the same fields as the customer form
(one radio group of 1-5 per item, a comment, the 0-10 recommendation), one response row and its
answer rows inserted with Core in one transaction, a 303 redirect. No ORM, no templates, no
invitation lookup, no follow-up, no translations. The submit benchmark reports the app against
this floor as well as against the bare one-row insert (bench.baseline_app), so a reader sees how
much of the gap to the bare insert is the framework, forms and CSRF, and how much is our code.

Served by gunicorn like the app: `BENCH_FLOOR_SERVE=1 FLOOR_ITEM_KEYS=a,b,c DATABASE_URL=...`."""

import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, redirect, session
from flask_wtf import CSRFProtect, FlaskForm
from markupsafe import escape
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from perception.core.settings import engine_options

metadata = sa.MetaData()
responses = sa.Table(
    "floor_responses", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("comment", sa.Text),
    sa.Column("nps", sa.Integer),
    sa.Column("submitted_at", sa.DateTime(timezone=True)),
)
answers = sa.Table(
    "floor_answers", metadata,
    sa.Column("response_id", sa.ForeignKey("floor_responses.id"), primary_key=True),
    sa.Column("item", sa.String(60), primary_key=True),
    sa.Column("score", sa.Integer),
)

LIKERT = [(value, str(value)) for value in range(1, 6)]
NPS = [(value, str(value)) for value in range(11)]


def _int_or_none(value):
    return None if value in (None, "") else int(value)


def form_class(item_keys):
    attrs = {f"item_{key}": RadioField(key, choices=LIKERT, coerce=int, validators=[InputRequired()])
             for key in item_keys}
    attrs["comment"] = TextAreaField("Comment", validators=[Optional(), Length(max=5000)])
    attrs["nps"] = RadioField("Recommend", choices=NPS, coerce=_int_or_none, validators=[Optional()])
    return type("FloorForm", (FlaskForm,), attrs)


def _engine():
    url = os.environ["DATABASE_URL"]
    engine = sa.create_engine(url, **engine_options(url, os.environ.get("DATABASE_SCHEMA")))
    if url.startswith("sqlite"):
        from perception.core.database import configure_engine

        configure_engine(engine)  # the same WAL and busy-timeout settings as the app
    return engine


def create_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    CSRFProtect(app)
    engine = _engine()
    item_keys = [key for key in os.environ["FLOOR_ITEM_KEYS"].split(",") if key]
    Form = form_class(item_keys)  # noqa: N806 (a class)
    insert_response = responses.insert().returning(responses.c.id)
    insert_answers = answers.insert()

    @app.get("/form")
    def show():
        session["visitor"] = 1  # the app keeps the invitation id in the session the same way
        token = escape(Form().csrf_token.current_token)
        return f'<form method="post"><input type="hidden" name="csrf_token" value="{token}"></form>'

    @app.post("/form")
    def submit():
        form = Form()
        if not form.validate_on_submit():
            return "invalid", 400
        scores = {key: form[f"item_{key}"].data for key in item_keys}
        with engine.begin() as connection:
            response_id = connection.execute(insert_response, {
                "comment": form.comment.data or None, "nps": form.nps.data, "submitted_at": datetime.now(UTC),
            }).scalar_one()
            connection.execute(insert_answers, [{"response_id": response_id, "item": key, "score": score}
                                                for key, score in scores.items()])
        return redirect("/done", code=303)

    return app


def create_tables():
    engine = _engine()
    metadata.create_all(engine)
    engine.dispose()


app = create_app() if os.environ.get("BENCH_FLOOR_SERVE") else None
