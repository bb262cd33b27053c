"""Configuration layers: defaults, then instance/config.py, then MODERATION_* variables."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from moderation import create_app
from moderation.extensions import db

pytestmark = pytest.mark.any_database


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
    # limits are counted in a file of the instance, shared by every server process
    assert app.config["RATELIMIT_STORAGE_URI"] == f"sqlite:///{clean_environment}/ratelimits.db"
    assert app.config["TRUSTED_PROXIES"] == 0
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_passwords_are_hashed_with_scrypt_unless_configured_otherwise(
    clean_environment: Path,
) -> None:
    """The suite hashes with a cheap method for speed; production must not."""
    from werkzeug.security import check_password_hash

    from moderation.services import moderators

    app = create_app()
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"
    with app.app_context():
        db.create_all()
        alice = moderators.create_moderator("alice", "a long and unusual passphrase", "admin")
        assert alice.password_hash.startswith("scrypt:32768:8:1$")
        assert check_password_hash(alice.password_hash, "a long and unusual passphrase")
        assert moderators.authenticate("alice", "a long and unusual passphrase") is not None
        assert moderators.authenticate("nobody", "a long and unusual passphrase") is None
        db.session.remove()
        db.engine.dispose()


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


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common umask (022), under which files are world-readable unless made private."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_instance_files_are_private_from_the_first_start(
    clean_environment: Path, usual_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The instance folder is 0700 and the secret key and SQLite files (the database, its
    write-ahead log and its index) 0600 from the first start, whatever the umask."""
    app = create_app()
    with app.app_context():
        db.session.execute(text("CREATE TABLE notes (body TEXT)"))
        db.session.execute(text("INSERT INTO notes VALUES ('a private note')"))
        db.session.commit()
        database = clean_environment / "moderation.db"
        modes = {
            path.name: oct(mode(path))
            for path in (
                clean_environment,
                clean_environment / "secret_key",
                database,
                Path(f"{database}-wal"),
                Path(f"{database}-shm"),
            )
        }
        db.session.remove()
        db.engine.dispose()
    assert modes == {
        "instance": "0o700",
        "secret_key": "0o600",
        "moderation.db": "0o600",
        "moderation.db-wal": "0o600",
        "moderation.db-shm": "0o600",
    }
    create_app()  # a second start finds nothing to warn about
    assert [r.message for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_loose_instance_is_warned_about_and_left_alone(
    clean_environment: Path, usual_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    """An instance folder or file that others may read gets a warning naming it and the
    fix; the service does not change an operator's permissions behind their back."""
    clean_environment.mkdir(mode=0o755)
    (clean_environment / "secret_key").write_text("k" * 48 + "\n")
    (clean_environment / "config.py").write_text("TRUSTED_PROXIES = 0\n")
    (clean_environment / "moderation.db").touch(mode=0o644)
    for path in clean_environment.iterdir():
        path.chmod(0o644)
    clean_environment.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="moderation"):
        create_app()
    warned = "\n".join(r.message for r in caplog.records if r.levelno == logging.WARNING)
    for name, wanted in (
        ("", "700"),
        ("/secret_key", "600"),
        ("/config.py", "600"),
        ("/moderation.db", "600"),
    ):
        assert f"chmod {wanted} {clean_environment}{name}\n" in warned + "\n", name
    assert mode(clean_environment) == 0o755
    assert mode(clean_environment / "moderation.db") == 0o644
