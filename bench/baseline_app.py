"""The baseline for the submit benchmark: a bare Flask route inserting one row, on the same database."""

import os

import sqlalchemy as sa
from flask import Flask, redirect

from perception.core.settings import engine_options

metadata = sa.MetaData()
rows = sa.Table("bench_rows", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("score", sa.Integer))


def create_app():
    app = Flask(__name__)
    url = os.environ["DATABASE_URL"]
    engine = sa.create_engine(url, **engine_options(url, os.environ.get("DATABASE_SCHEMA")))
    if url.startswith("sqlite"):
        from perception.core.database import configure_engine

        configure_engine(engine)  # the same WAL and busy-timeout settings as the app

    @app.post("/insert")
    def insert():
        with engine.begin() as connection:
            connection.execute(rows.insert().values(score=4))
        return redirect("/done", code=303)

    return app


def create_table():
    url = os.environ["DATABASE_URL"]
    engine = sa.create_engine(url, **engine_options(url, os.environ.get("DATABASE_SCHEMA")))
    metadata.create_all(engine)
    engine.dispose()


app = create_app() if os.environ.get("BENCH_BASELINE_SERVE") else None
