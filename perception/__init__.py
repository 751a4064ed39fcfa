"""Perception: measure the care gap between what a business believes and what its customers feel."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None):
    """Build the application. `config` (a mapping) overrides settings read from the environment."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    from perception.core.private_files import private_folder
    from perception.core.settings import load_config

    app.config.from_mapping(load_config(app.instance_path))
    if config:
        app.config.from_mapping(config)
    private_folder(app.instance_path)
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        # Behind `hops` load balancers the client is the address they were reached from (the
        # X-Forwarded-For entry `hops` from the right), so rate limits count clients, not the balancer.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)

    from perception.core import database, outbox
    from perception.core.extensions import csrf, db, init_limiter, login_manager, migrate
    from perception.reports import service as report_cells
    from perception.web.security import client_key

    db.init_app(app)
    report_cells.track(db.session)
    outbox.guard_claims(db.session)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    init_limiter(app, client_key)  # every limit counts an IPv6 client by its /64
    login_manager.init_app(app)
    with app.app_context():
        database.configure_engine(db.engine)
    app.url_map.converters["int"] = database.DatabaseIdConverter  # before any route is added

    # Each feature's views attach their routes to the audience blueprints of perception.web when imported.
    from perception.accounts import password_views as accounts_password_views  # noqa: F401
    from perception.accounts import people_views as accounts_people_views  # noqa: F401
    from perception.accounts import views as accounts_views
    from perception.api import views as api_views  # noqa: F401
    from perception.audit import views as audit_views  # noqa: F401
    from perception.board import views as board_views  # noqa: F401
    from perception.cli import register_commands
    from perception.followups import customer_views as followup_customer_views  # noqa: F401
    from perception.followups import (
        digest_views,  # noqa: F401
        handover_service,
    )
    from perception.followups import staff_views as followup_staff_views  # noqa: F401
    from perception.followups import views as followup_views  # noqa: F401
    from perception.invitations import customer_views as invitation_customer_views  # noqa: F401
    from perception.invitations import views as invitation_views  # noqa: F401
    from perception.mirror import views as mirror_views  # noqa: F401
    from perception.reports import views as report_views  # noqa: F401
    from perception.responses import customer_views as response_customer_views  # noqa: F401
    from perception.responses import views as response_views  # noqa: F401
    from perception.surveys import bank_views  # noqa: F401
    from perception.surveys import views as survey_views  # noqa: F401
    from perception.teams import views as team_views  # noqa: F401
    from perception.web import admin, assets, customer, errors, i18n, leaders, logs, public, security, staff
    from perception.web import api as api_audience
    from perception.webhooks import views as webhook_views  # noqa: F401

    for blueprint in (public.bp, accounts_views.bp, customer.bp, staff.bp, leaders.bp, admin.bp, assets.bp,
                      api_audience.bp):
        app.register_blueprint(blueprint)
    security.init_app(app)
    errors.init_app(app)
    logs.init_app(app)  # no customer link in a log line
    i18n.init_app(app)
    register_commands(app)
    handover_service.init_app(app)  # follow-ups change hands when their assignee's scope does

    @app.context_processor
    def inject_business():
        return {"business_name": app.config["BUSINESS_NAME"],
                "business_logo_url": app.config.get("BUSINESS_LOGO_URL")}

    return app
