"""Extensions, created unbound; `create_app` binds them with `init_app`."""

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic's autogenerate and SQLite batch migrations deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)
csrf = CSRFProtect()
login_manager = LoginManager()
RATE_LIMIT_KEY = "perception.rate_limit_key"


def rate_limit_key():
    """The default key of every rate limit: the function the app gave init_limiter (create_app gives
    perception.web.security.client_key; core cannot import web). Flask-Limiter takes a route's key
    function when the route is decorated, so the default must look the function up per request."""
    return current_app.extensions[RATE_LIMIT_KEY]()


def init_limiter(app, key_func):
    """Bind the limiter to `app`; `key_func` keys every limit that names no key function of its own."""
    app.extensions[RATE_LIMIT_KEY] = key_func
    limiter.init_app(app)


limiter = Limiter(key_func=rate_limit_key, default_limits=[])
babel = Babel()  # customer pages only; see perception/web/i18n.py
