"""Configuration layers: defaults, then instance/config.py, then MODERATION_* variables."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from moderation import create_app


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No MODERATION_* variables but an instance folder of the test's own."""
    import os

    for name in list(os.environ):
        if name.startswith("MODERATION_"):
            monkeypatch.delenv(name)
    instance = tmp_path / "instance"
    monkeypatch.setenv("MODERATION_INSTANCE_PATH", str(instance))
    return instance


def test_defaults_use_sqlite_in_the_instance_folder(clean_environment: Path) -> None:
    app = create_app()
    assert app.instance_path == str(clean_environment)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{clean_environment}/moderation.db"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["TRUSTED_PROXIES"] == 0
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_instance_folder_defaults_to_instance_of_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MODERATION_INSTANCE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    app = create_app({"SECRET_KEY": "x" * 32})
    assert app.instance_path == str(tmp_path / "instance")


def test_secret_key_is_generated_once_with_private_permissions(clean_environment: Path) -> None:
    first = create_app()
    key_file = clean_environment / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 40
    second = create_app()
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_instance_config_overrides_defaults(clean_environment: Path) -> None:
    clean_environment.mkdir()
    (clean_environment / "config.py").write_text(
        "TRUSTED_PROXIES = 2\nLIMIT_SUBMIT_PER_EMAIL = '3/hour'\nSECRET_KEY = 'from-instance-file'\n"
    )
    app = create_app()
    assert app.config["TRUSTED_PROXIES"] == 2
    assert app.config["LIMIT_SUBMIT_PER_EMAIL"] == "3/hour"
    assert app.config["SECRET_KEY"] == "from-instance-file"
    assert not (clean_environment / "secret_key").exists()


def test_environment_overrides_instance_config(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_environment.mkdir()
    (clean_environment / "config.py").write_text(
        "TRUSTED_PROXIES = 2\nLIMIT_SUBMIT_PER_EMAIL = '3/hour'\n"
    )
    monkeypatch.setenv("MODERATION_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("MODERATION_LIMIT_SUBMIT_PER_EMAIL", "7/hour")
    monkeypatch.setenv("MODERATION_SESSION_COOKIE_SECURE", "false")
    monkeypatch.setenv("MODERATION_DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    app = create_app()
    assert app.config["TRUSTED_PROXIES"] == 1
    assert app.config["LIMIT_SUBMIT_PER_EMAIL"] == "7/hour"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/elsewhere.db"


def test_database_errors_never_carry_bound_values(clean_environment: Path) -> None:
    for url in ("postgresql+psycopg://postgres@127.0.0.1:5432/test", "sqlite:///x.db"):
        app = create_app({"DATABASE_URL": url})
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
