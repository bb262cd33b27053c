"""What a process loads when it starts: a web process leaves out what only commands and rare
pages need (issue 20: memory), and the ``moderation`` command builds and imports only what
the command asked for needs (issue 13: each CLI process costs CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

pytestmark = pytest.mark.any_database

#: Modules a web process never needs until a command, an export or a readiness check asks:
#: Alembic (and Mako, Pygments under it), the OpenSSL bindings that seal integration
#: secrets, the import and export formats, the commands.
LOADED_ON_DEMAND = (
    "alembic",
    "flask_migrate",
    "mako",
    "pygments",
    "cryptography.hazmat.primitives.ciphers.aead",
    "xml.etree.ElementTree",
    "moderation.porting",
    "moderation.services.importing",
    "moderation.services.import_known",
    "moderation.services.import_writer",
    "moderation.services.exporting",
    "moderation.services.import_learning",
    "moderation.services.bulk_rows",
    "moderation.commands.sites",
    "moderation.commands.serve",
)


def python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter with ``args`` and ``env``, its output captured."""
    command = [sys.executable, *args]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def loaded_after(code: str, env: dict[str, str], argv: tuple[str, ...] = ()) -> dict[str, bool]:
    """Which of :data:`LOADED_ON_DEMAND` (and the web edge) a fresh interpreter holds after
    running ``code``."""
    probe = (
        "import json, sys\n"
        f"sys.argv = {['moderation', *argv]!r}\n"
        f"{code}\n"
        f"names = {[*LOADED_ON_DEMAND, 'moderation.web.errors']!r}\n"
        "print(json.dumps({name: name in sys.modules for name in names}), file=sys.stderr)\n"
    )
    result = python(env, "-c", probe)
    assert result.returncode == 0, result.stderr
    loaded: dict[str, bool] = json.loads(result.stderr.strip().splitlines()[-1])
    return loaded


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """A private instance folder of its own (no database is touched)."""
    return {**os.environ, "MODERATION_INSTANCE_PATH": str(tmp_path / "instance")}


def test_a_web_process_leaves_out_what_commands_and_rare_pages_need(
    cli_env: dict[str, str],
) -> None:
    code = (
        "from moderation import create_app\n"
        "client = create_app().test_client()\n"
        "assert client.get('/readyz').status_code == 503\n"  # a fresh database: not migrated
    )
    loaded = loaded_after(code, cli_env)
    assert loaded.pop("moderation.web.errors")
    assert [name for name, present in loaded.items() if present] == []


def test_listing_the_commands_builds_no_app_and_imports_no_alembic(
    cli_env: dict[str, str],
) -> None:
    code = (
        "from moderation.cli import main\n"
        "try:\n    main()\nexcept SystemExit as leaving:\n    assert leaving.code == 0\n"
    )
    loaded = loaded_after(code, cli_env, ("--help",))
    assert not loaded["moderation.web.errors"]  # the app was not built
    assert not loaded["alembic"]
    assert loaded["moderation.commands.sites"]  # its line of help comes from the command


def test_the_migrations_line_in_the_help_is_flask_migrates_own() -> None:
    from flask_migrate.cli import db

    from moderation.commands import MIGRATIONS

    name, _, line = MIGRATIONS
    assert (name, line) == ("db", db.get_short_help_str())


def test_every_named_command_is_the_command_of_that_name() -> None:
    from moderation.commands import COMMANDS, name_all
    from moderation.commands.on_demand import CommandsOnDemand

    group = CommandsOnDemand()
    name_all(group)
    with click.Context(group) as ctx:
        for name in COMMANDS:
            command = group.get_command(ctx, name)
            assert command is not None and command.name == name


def test_serve_says_in_one_line_that_the_database_is_unreachable(
    cli_env: dict[str, str],
) -> None:
    """The migrations run in a child of ``moderation serve``; its refusal is still the
    command's own one-line error and exit status."""
    env = {**cli_env, "MODERATION_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = python(env, "-m", "moderation", "serve", "--no-deliver")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot reach the database: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Serving on" not in result.stdout


MIGRATION_SCRIPTS = {
    "a.py": "revision = 'a'\ndown_revision = None\n",
    "b.py": "revision = 'b'\ndown_revision = 'a'\n",
    "c.py": "revision: str = 'c'\ndown_revision: str | None = 'a'\n",
    "merge.py": "revision = 'merge'\ndown_revision = ('b', 'c')\n",
    "d.py": '"""revision = \'no\'"""\nrevision = "d"\ndown_revision = "merge"\n',
    "e.py": "revision = 'e'\ndown_revision = 'a'\n",
}


def test_the_readiness_check_finds_the_heads_alembic_finds(tmp_path: Path) -> None:
    """Read without Alembic (a web process does not load it for ``/readyz``): the same
    heads as Alembic's, for the shipped migrations and for a branch and a merge."""
    from alembic.script import ScriptDirectory

    from moderation.extensions import MIGRATIONS_DIRECTORY
    from moderation.services.readiness import heads_of

    versions = tmp_path / "versions"
    versions.mkdir()
    for name, text in MIGRATION_SCRIPTS.items():
        (versions / name).write_text(text)
    for folder in (MIGRATIONS_DIRECTORY, tmp_path):
        alembic_heads = frozenset(ScriptDirectory(str(folder)).get_heads())
        assert heads_of(folder / "versions") == alembic_heads
    assert heads_of(versions) == {"d", "e"}
