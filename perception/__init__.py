"""Perception: measure the care gap between what a business believes and what its customers feel."""

from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None):
    """Build the application. `config` (a mapping) overrides settings read from the environment."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    from .config import load_config

    app.config.from_mapping(load_config(app.instance_path))
    if config:
        app.config.from_mapping(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from . import database, models, report_cells  # noqa: F401  (models register their tables)
    from .extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    report_cells.track(db.session)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        database.configure_engine(db.engine)
    app.url_map.converters["int"] = database.DatabaseIdConverter  # before any route is added

    from . import errors, i18n, security
    from .api import bp as api_bp
    from .assets import bp as assets_bp
    from .auth import bp as auth_bp
    from .leaders import bp as leaders_bp
    from .public import bp as public_bp
    from .staff import bp as staff_bp
    from .survey import bp as survey_bp

    for blueprint in (public_bp, auth_bp, survey_bp, staff_bp, leaders_bp, assets_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(api_bp)
    security.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)

    from .cli import register_commands

    register_commands(app)

    @app.context_processor
    def inject_business():
        return {"business_name": app.config["BUSINESS_NAME"],
                "business_logo_url": app.config.get("BUSINESS_LOGO_URL")}

    return app
