"""``moderation doctor``: each check says ok, WARN or FAIL and what to fix; a failure
exits 1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskCliRunner

from moderation import create_app
from moderation.domain.configuration import (
    FAIL,
    OK,
    WARN,
    clock_finding,
    limits_finding,
    mail_finding,
    public_url_finding,
    secret_key_finding,
)
from moderation.extensions import db
from tests.databases import BASE_CONFIG
from tests.redis_dbs import CHECKS_DB, redis_url
from tests.servers import cli_in_process, free_port

STRONG_KEY = "kq3V9x_b1T0Zr7m2WcYp4LsN8dGh6JeAuQfRtXiOvB5yHnMlKjD"


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("key", "generated", "state"),
    [
        ("", True, OK),
        (STRONG_KEY, False, OK),
        ("test-secret-key-not-for-production", False, FAIL),
        ("password123", False, FAIL),
        ("a" * 200, False, FAIL),  # long is not random
    ],
)
def test_secret_key_strength(key: str, generated: bool, state: str) -> None:
    assert secret_key_finding(key, generated).state == state


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("url", "secure", "state"),
    [
        ("https://comments.example.com", True, OK),
        ("http://127.0.0.1:8000", False, OK),
        ("", True, WARN),
        ("http://comments.example.com", True, WARN),
        ("https://comments.example.com", False, WARN),
        ("comments.example.com", True, FAIL),
        ("https://comments.example.com/?x=1", True, FAIL),
    ],
)
def test_public_url(url: str, secure: bool, state: str) -> None:
    assert public_url_finding(url, secure).state == state


@pytest.mark.any_database
def test_limits_mail_and_clock_rules() -> None:
    assert limits_finding(True, 1).state == OK
    assert limits_finding(True, 3).state == FAIL
    assert limits_finding(False, 30).state == OK
    assert mail_finding("no server", "", False, False, "").state == WARN
    assert mail_finding("", "smtp.example.com", True, True, "").state == FAIL
    assert mail_finding("no sender", "smtp.example.com", False, False, "").state == FAIL
    assert mail_finding("", "smtp.example.com", False, False, "user").state == WARN
    assert mail_finding("", "smtp.example.com", True, False, "user").state == OK
    assert clock_finding(None).state == OK
    assert clock_finding(0.4).state == OK
    assert clock_finding(-10).state == WARN
    assert clock_finding(400).state == FAIL


def lines(output: str) -> dict[str, str]:
    """``name -> mark`` of each check line."""
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("ok", "WARN", "FAIL"):
            found[parts[1]] = parts[0]
    return found


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {
        "SECRET_KEY": STRONG_KEY,
        "PUBLIC_URL": "https://comments.example.com",
        "SESSION_COOKIE_SECURE": True,
    }


def test_a_sound_deployment_passes_with_the_mail_warning(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 0, result.output
    marks = lines(result.output)
    assert marks["secret_key"] == "ok"
    assert marks["database"] == "ok"
    assert marks["migrations"] == "ok"
    assert marks["mail"] == "WARN"  # no MAIL_SERVER: nothing is sent
    assert "1 warning(s)" in result.output
    assert runner.invoke(args=["doctor", "--strict"]).exit_code == 1


def test_several_processes_on_memory_limits_fail(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["doctor", "--workers", "4"])
    assert result.exit_code == 1
    assert lines(result.output)["processes"] == "FAIL"
    assert "redis://" in result.output


def test_a_stopped_redis_and_a_weak_key_fail(database_url: str, instance_path: Path) -> None:
    app = create_app(
        {
            **BASE_CONFIG,
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": redis_url(CHECKS_DB, free_port()),
        }
    )
    result = app.test_cli_runner().invoke(args=["doctor"])
    with app.app_context():
        db.engine.dispose()
    assert result.exit_code == 1
    marks = lines(result.output)
    assert marks["redis"] == "FAIL"
    assert marks["secret_key"] == "FAIL"  # the test suite's example key


@pytest.mark.any_database
def test_an_empty_instance_is_diagnosed_not_refused(tmp_path: Path) -> None:
    env = {
        "MODERATION_INSTANCE_PATH": str(tmp_path / "instance"),
        "MODERATION_DATABASE_URL": "",  # the instance's own SQLite file, never created
    }
    result = cli_in_process(env, "doctor")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    marks = lines(result.stdout)
    assert marks["migrations"] == "FAIL"
    assert "moderation db upgrade" in result.stdout
    assert "Traceback" not in result.stderr
