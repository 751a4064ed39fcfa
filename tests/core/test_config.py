"""Settings from the environment."""

import os
import stat

import pytest

from perception import create_app
from perception.core.private_files import private_folder
from perception.core.settings import ConfigError, load_config

KEY = "3f1c9a7e5b2d8c4f6a0e1b3d5c7f9a2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a"  # as secrets.token_hex(32) makes


def test_production_without_secret_key_or_base_url_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("PERCEPTION_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY and BASE_URL"):
        load_config(tmp_path)
    monkeypatch.setenv("SECRET_KEY", KEY)
    with pytest.raises(ConfigError, match="BASE_URL"):
        create_app()


def test_production_refuses_a_guessable_key_plain_http_and_an_unknown_environment(monkeypatch, tmp_path):
    """An attacker's read: "prod" was taken for development (no Secure cookies, no HSTS, the demo and its
    published password allowed), and production took SECRET_KEY=changeme and an http:// BASE_URL."""
    monkeypatch.setenv("PERCEPTION_ENV", "production")
    monkeypatch.setenv("BASE_URL", "https://care.example.com")
    for weak in ("changeme", "x" * 40, "changemechangeme"):
        monkeypatch.setenv("SECRET_KEY", weak)
        with pytest.raises(ConfigError, match="SECRET_KEY must be at least 16 random characters") as refused:
            load_config(tmp_path)
        assert "suppression list" in str(refused.value)  # what a new key changes
    monkeypatch.setenv("SECRET_KEY", "kD3-x_9QpZ7mW2vLr4TgYb")  # secrets.token_urlsafe(16): 22 characters
    assert load_config(tmp_path)["SECRET_KEY"]
    monkeypatch.setenv("SECRET_KEY", KEY)
    monkeypatch.setenv("BASE_URL", "http://care.example.com")
    with pytest.raises(ConfigError, match="BASE_URL must start with https://"):
        load_config(tmp_path)
    for unknown in ("prod", "live"):
        monkeypatch.setenv("PERCEPTION_ENV", unknown)
        with pytest.raises(ConfigError, match="PERCEPTION_ENV must be one of development, production"):
            load_config(tmp_path)
    monkeypatch.setenv("PERCEPTION_ENV", " Production ")
    monkeypatch.setenv("BASE_URL", "https://care.example.com")
    assert load_config(tmp_path)["SESSION_COOKIE_SECURE"] is True


def test_production_sets_secure_cookies_and_hsts(monkeypatch, tmp_path):
    monkeypatch.setenv("PERCEPTION_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", KEY)
    monkeypatch.setenv("BASE_URL", "https://care.example.com/")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.db")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["BASE_URL"] == "https://care.example.com"
    response = app.test_client().get("/")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_development_secret_key_is_generated_once(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PERCEPTION_ENV", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) == 64
    assert load_config(tmp_path)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_a_new_instance_folder_is_its_owners_alone(monkeypatch, tmp_path):
    """The SQLite database `make run` creates was 0644 like any file under the usual umask, in a folder
    every account could enter; the instance folder the app makes is 0700 whatever the umask. One that
    exists keeps the mode its owner chose."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PERCEPTION_ENV", raising=False)
    previous = os.umask(0o022)
    try:
        load_config(tmp_path / "new" / "instance")
        private_folder(tmp_path / "mine")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new" / "instance").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "mine").stat().st_mode) == 0o700
    (tmp_path / "shared").mkdir(mode=0o750)
    private_folder(tmp_path / "shared")
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o750


def test_database_url_from_environment_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://someone@db.example/perception")
    assert load_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@db.example/perception"
    monkeypatch.delenv("DATABASE_URL")
    assert load_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/perception.db"


def test_min_n_must_be_a_number(monkeypatch, tmp_path):
    monkeypatch.setenv("MIN_N", "five")
    with pytest.raises(ConfigError, match="MIN_N"):
        load_config(tmp_path)
    monkeypatch.setenv("MIN_N", "3")
    assert load_config(tmp_path)["MIN_N"] == 3


def test_base_url_follows_port_when_not_set(monkeypatch, tmp_path):
    monkeypatch.delenv("PERCEPTION_ENV", raising=False)
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert load_config(tmp_path)["BASE_URL"] == "http://127.0.0.1:5000"
    monkeypatch.setenv("PORT", "5876")  # what `make run PORT=5876` exports
    assert load_config(tmp_path)["BASE_URL"] == "http://127.0.0.1:5876"
    monkeypatch.setenv("BASE_URL", "https://care.example.com")  # a BASE_URL that is set always wins
    assert load_config(tmp_path)["BASE_URL"] == "https://care.example.com"
    monkeypatch.delenv("BASE_URL")
    monkeypatch.setenv("PORT", "70000")
    with pytest.raises(ConfigError, match="PORT"):
        load_config(tmp_path)
