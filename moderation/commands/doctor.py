"""``moderation doctor``: check a deployment and say what to fix."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from moderation.config import SECRET_KEY_FILE
from moderation.domain.configuration import FAIL, WARN
from moderation.services.doctor import diagnose

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@click.command("doctor")
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=1,
    show_default=True,
    help="How many server processes will share these settings (all machines together).",
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@with_appcontext
def doctor_command(workers: int, strict: bool) -> None:
    """Check the settings, the instance folder, the database, Redis, mail and the clock;
    print each check as ok, WARN or FAIL with what to do. Exits 1 when a check fails."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    generated = _key_was_generated(app.instance_path, str(app.config["SECRET_KEY"]))
    findings = diagnose(app.config, app.instance_path, generated, workers)
    width = max(len(finding.name) for finding in findings)
    for finding in findings:
        click.echo(f"{MARKS[finding.state]}  {finding.name:<{width}}  {finding.message}")
    failed = sum(finding.state == FAIL for finding in findings)
    warned = sum(finding.state == WARN for finding in findings)
    click.echo(f"{len(findings)} checks: {failed} failed, {warned} warning(s).")
    if failed or (strict and warned):
        raise SystemExit(1)


def _key_was_generated(instance_path: str, key: str) -> bool:
    """Whether the key in use is the one the service generated into the instance folder."""
    path = Path(instance_path) / SECRET_KEY_FILE
    try:
        return path.read_text().strip() == key
    except OSError:
        return False
