"""The systemd units in docs/deploy pass ``systemd-analyze verify`` (with the service's
command where the units expect it), and name only commands the CLI has."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import cli_in_process

pytestmark = pytest.mark.any_database

DEPLOY = Path(__file__).resolve().parent.parent / "docs" / "deploy"
UNITS = ["moderation.service", "moderation-deliver.service"]
INSTALLED = "/opt/moderation/bin/moderation"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_units_verify(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("moderation")
    assert command.exists()
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        assert INSTALLED in text
        (tmp_path / name).write_text(text.replace(INSTALLED, str(command)))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def exec_start_arguments(unit: str) -> list[str]:
    """What ``unit``'s ``ExecStart=`` passes to the installed ``moderation`` command."""
    exec_start = next(
        line for line in (DEPLOY / unit).read_text().splitlines() if line.startswith("ExecStart=")
    )
    return exec_start.removeprefix(f"ExecStart={INSTALLED} ").split()


def test_units_run_commands_the_cli_has(tmp_path: Path) -> None:
    for name in UNITS:
        args = exec_start_arguments(name)
        words = [arg for arg in args if not arg.startswith("-")][:2]
        words = words[:1] if words[0] == "serve" else words
        result = cli_in_process(instance_env(tmp_path), *words, "--help")
        assert result.exit_code == 0, result.output
        for option in (arg for arg in args if arg.startswith("--")):
            assert option in result.stdout, (name, option)


def test_the_web_unit_sizes_itself_as_serve_does_by_default() -> None:
    """One process more than the cores, two threads each (the unit's comment says why): a
    number written into the unit would hold on every machine it is copied to, whatever its
    cores."""
    args = exec_start_arguments("moderation.service")
    assert args[0] == "serve", args
    assert "--workers" not in args and "--threads" not in args, args


def instance_env(tmp_path: Path) -> dict[str, str]:
    """An instance folder of the test's own: the app is built to find its commands."""
    return {"MODERATION_INSTANCE_PATH": str(tmp_path / "instance"), "MODERATION_DATABASE_URL": ""}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_container_recipe_runs_as_a_user_and_copies_what_the_wheel_needs(
    tmp_path: Path,
) -> None:
    """No Docker engine runs here: check what can be checked without one. The image runs
    as a non-root user, copies every file the package build reads, keeps the instance on a
    volume, checks /healthz, and its command is one the CLI accepts."""
    instructions = dockerfile_instructions()
    users = [argument for keyword, argument in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    root = DEPLOY.parent.parent
    for keyword, argument in instructions:
        if keyword == "COPY" and not argument.startswith("--from"):
            *sources, _target = argument.split()
            for source in sources:
                assert (root / source).exists(), f"COPY {source}: not in the repository"
    assert any(keyword == "VOLUME" and "instance" in arg for keyword, arg in instructions)
    assert any(keyword == "HEALTHCHECK" and "/healthz" in arg for keyword, arg in instructions)
    command = json.loads(next(argument for keyword, argument in instructions if keyword == "CMD"))
    assert command[:2] == ["moderation", "serve"], command
    result = cli_in_process(instance_env(tmp_path), "serve", "--help")
    assert result.exit_code == 0, result.output
    for option in (arg for arg in command[2:] if arg.startswith("--")):
        assert option in result.stdout, f"{option} is not an option of moderation serve"
