"""``moderation sites ...``: register sites and change their settings."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.domain.sites import CommentFormat, CommentOrder, SitePolicy
from moderation.services import sites

POLICIES = click.Choice([policy.value for policy in SitePolicy])
FORMATS = click.Choice([choice.value for choice in CommentFormat])


@click.group("sites", cls=AppGroup)
def sites_group() -> None:
    """Manage the sites that embed the widget."""


@sites_group.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Human-readable name of the site.")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="An origin allowed to embed the widget, like https://blog.example (repeatable).",
)
@click.option("--policy", type=POLICIES, default=SitePolicy.PREMODERATE.value, show_default=True)
@one_line_errors
def create_command(slug: str, name: str, origins: tuple[str, ...], policy: str) -> None:
    """Register a site and the origins allowed to embed it."""
    site = sites.create_site(slug, name, list(origins), policy)
    click.echo(f"Created site {site.slug!r} ({site.policy.value}) for {', '.join(site.origins)}.")


@sites_group.command("list")
@one_line_errors
def list_command() -> None:
    """List the sites with their policy and origins."""
    registered = sites.list_sites()
    if not registered:
        click.echo("No sites yet: add one with 'moderation sites create'.")
        return
    for site in registered:
        click.echo(f"{site.slug}\t{site.policy.value}\t{site.name}\t{' '.join(site.origins)}")


@sites_group.command("update")
@click.argument("slug")
@click.option("--name")
@click.option("--origin", "origins", multiple=True, help="Replaces the allowed origins.")
@click.option("--policy", type=POLICIES)
@click.option(
    "--format",
    "comment_format",
    type=FORMATS,
    help="How comments are written: wordpress (text and WordPress's tags, the default) or "
    "markdown (CommonMark). Comments already published keep their HTML.",
)
@click.option("--max-links", type=int, help="More links than this hold a comment (default 2).")
@click.option(
    "--flood-seconds", type=int, help="Minimum seconds between two comments of one person."
)
@click.option("--max-depth", type=int, help="How deep replies nest (1-10).")
@click.option("--page-size", type=int, help="Top-level comments per page.")
@click.option("--submit-limit", help="Comments per site, e.g. 600/hour ('' for the default).")
@click.option("--moderation-words", help="Words that hold a comment, comma-separated.")
@click.option("--blocked-words", help="Words that mark a comment as spam, comma-separated.")
@click.option(
    "--spam-hold-threshold",
    type=float,
    help="Classifier score from which a comment is held (default 0.40).",
)
@click.option(
    "--spam-threshold", type=float, help="Classifier score from which a comment is spam (0.80)."
)
@click.option(
    "--hold-first-comments",
    type=int,
    help="Hold the first N comments of an author new to the site (0: off).",
)
@click.option(
    "--challenge/--no-challenge",
    "challenge_suspicious",
    default=None,
    help="Ask suspicious submissions to solve a proof-of-work challenge (ALTCHA) first.",
)
@click.option(
    "--close-after-days",
    type=int,
    help="Threads take no comments this many days after they began (0: never).",
)
@click.option(
    "--sort",
    type=click.Choice([order.value for order in CommentOrder]),
    help="The widget's default order of comments (readers may switch).",
)
@click.option(
    "--edit-minutes",
    type=int,
    help="Authors may edit or delete their comment for this many minutes (0: never; new sites: 15).",
)
@one_line_errors
def update_command(slug: str, origins: tuple[str, ...], **options: object) -> None:
    """Change a site's settings; options not given stay as they are."""
    settings = sites.SiteSettings(origins=list(origins) or None, **options)  # type: ignore[arg-type]
    site = sites.update_site(slug, settings)
    click.echo(f"Updated site {site.slug!r}.")
