"""``moderation rules try ...``: what a rule change would have done, before it goes live."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.domain.dry_run import Report, Score
from moderation.domain.rules import Outcome
from moderation.domain.sites import SitePolicy
from moderation.domain.spam import Label
from moderation.services import dry_run, rule_record


@click.group("rules", cls=AppGroup)
def rules_group() -> None:
    """Try rule changes on a site's past decisions."""


@rules_group.command("try")
@click.option("--site", "site_slug", required=True, help="The site whose decisions to replay.")
@click.option("--last", type=int, default=200, show_default=True, help="Decided comments.")
@click.option("--policy", type=click.Choice([policy.value for policy in SitePolicy]))
@click.option("--max-links", type=int, help="Hold comments with more links than this.")
@click.option("--moderation-words", help="Replaces the hold words (comma-separated).")
@click.option("--blocked-words", help="Replaces the spam words (comma-separated).")
@click.option(
    "--block",
    "blocks",
    multiple=True,
    metavar="KIND:VALUE",
    help="Add a block list entry, e.g. email_domain:spam.example (repeatable).",
)
@click.option("--spam-hold-threshold", type=float, help="Classifier hold threshold.")
@click.option("--spam-threshold", type=float, help="Classifier spam threshold.")
@click.option("--hold-first-comments", type=int, help="Hold a new author's first N comments.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@one_line_errors
def try_command(
    site_slug: str, last: int, blocks: tuple[str, ...], as_json: bool, **options: object
) -> None:
    """Replay a proposed change over the site's last decided comments; changes nothing."""
    entries = []
    for block in blocks:
        kind, separator, value = block.partition(":")
        if not separator:
            raise click.BadParameter(f"{block!r}: write KIND:VALUE", param_hint="--block")
        entries.append((kind, value))
    proposal = dry_run.Proposal(blocks=tuple(entries), **options)  # type: ignore[arg-type]
    report = dry_run.try_rules(site_slug, proposal, last)
    if as_json:
        click.echo(json.dumps(as_dict(report), indent=2))
        return
    click.echo(describe(report, site_slug))


@rules_group.command("record")
@click.option("--site", "site_slug", required=True, help="The site whose rules to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@one_line_errors
def record_command(site_slug: str, as_json: bool) -> None:
    """How often each rule decided a comment of the site, and how often moderators
    overruled it."""
    found = rule_record.site_record(site_slug)
    if as_json:
        rows = [
            {"rule": row.rule, "does": row.action, "fired": row.fired, "overruled": row.overruled}
            for row in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not found:
        click.echo(f"No comments on {site_slug!r} yet.")
        return
    click.echo(f"{'rule':<18} {'does':<20} {'fired':>7} {'overruled':>14}")
    for row in found:
        overruled = (
            "-"
            if row.overruled is None or row.overrule_rate is None
            else f"{row.overruled} ({row.overrule_rate:.0%})"
        )
        click.echo(f"{row.rule:<18} {row.action:<20} {row.fired:>7} {overruled:>14}")


def _score(score: Score) -> dict[str, float | int | None]:
    return {
        "flagged": score.flagged,
        "true_positives": score.true_positives,
        "precision": score.precision,
        "recall": score.recall,
    }


def as_dict(report: Report) -> dict[str, object]:
    """The report as JSON-ready data."""
    return {
        "decided": len(report.replayed),
        "now": {
            "table": _table(report, proposed=False),
            "marked_spam": _score(report.marked_spam(proposed=False)),
            "stopped": _score(report.stopped(proposed=False)),
        },
        "proposed": {
            "table": _table(report, proposed=True),
            "marked_spam": _score(report.marked_spam()),
            "stopped": _score(report.stopped()),
        },
        "changed": [
            {
                "id": row.comment_id,
                "moderators": row.actual.value,
                "now": row.current.outcome.value,
                "proposed": row.proposed.outcome.value,
                "rule": row.proposed.rule.value,
                "reason": row.proposed.reason,
            }
            for row in report.changed
        ],
    }


def _table(report: Report, proposed: bool) -> dict[str, dict[str, int]]:
    return {
        outcome.value: {label.value: count for label, count in labels.items()}
        for outcome, labels in report.table(proposed).items()
    }


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def describe(report: Report, site_slug: str) -> str:
    """The report as moderators read it."""
    lines = [f"Replayed {len(report.replayed)} decided comments of {site_slug!r}."]
    lines.append(f"{'':18}{'now: spam':>10}{'ham':>6}{'proposed: spam':>16}{'ham':>6}")
    now, then = report.table(proposed=False), report.table()
    names = {Outcome.SPAM: "marked spam", Outcome.HOLD: "held", Outcome.PUBLISH: "published"}
    for outcome, name in names.items():
        lines.append(
            f"{name:18}{now[outcome][Label.SPAM]:>10}{now[outcome][Label.HAM]:>6}"
            f"{then[outcome][Label.SPAM]:>16}{then[outcome][Label.HAM]:>6}"
        )
    for title, method in (("marked spam", "marked_spam"), ("spam or held", "stopped")):
        before, after = getattr(report, method)(proposed=False), getattr(report, method)()
        lines.append(
            f"{title}: precision {_ratio(before.precision)} → {_ratio(after.precision)}, "
            f"recall {_ratio(before.recall)} → {_ratio(after.recall)}"
        )
    changed = report.changed
    lines.append(f"Would change fate: {len(changed)}")
    for row in changed:
        lines.append(
            f"  #{row.comment_id} (moderators: {row.actual.value}) {row.current.outcome.value}"
            f" → {row.proposed.outcome.value}: {row.proposed.rule.value}: {row.proposed.reason}"
        )
    return "\n".join(lines)
