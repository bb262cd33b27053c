"""The statistics page: pictures of the moderator's own sites, drawn on the server."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from moderation.clock import utcnow
from moderation.dashboard.blueprint import bp, site_scope
from moderation.domain.charts import horizontal_bars, stacked_columns
from moderation.services import sites, statistics

#: The periods offered, in days (anything else asked for is the default).
PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30


@bp.get("/statistics")
def show_statistics() -> ResponseReturnValue:
    """Submissions per day by outcome, time to decision, queue age and rules, for one of
    the moderator's sites or all of them (a site outside them does not exist: 404)."""
    visible = {site.slug: site for site in sites.list_sites(site_scope())}
    slug = request.args.get("site", "")
    if slug and slug not in visible:
        abort(404, description="No such site.")
    days = request.args.get("days", type=int)
    days = days if days in PERIODS else DEFAULT_PERIOD
    scope = frozenset({visible[slug].id}) if slug else site_scope()
    numbers = statistics.statistics(scope, days, utcnow())
    names = list(statistics.OUTCOME_NAMES)
    per_day = stacked_columns(
        [f"{day:%b %d}" for day in numbers.days],
        names,
        numbers.per_day,
        label_every=max(days // 6, 1),
    )
    depth = stacked_columns(
        [f"{day:%b %d}" for day in numbers.days],
        ["pending"],
        [{"pending": pending} for pending in numbers.depth],
        label_every=max(days // 6, 1),
    )
    rules = horizontal_bars([(row.rule, row.stopped) for row in numbers.rules], series="rule")
    ages = horizontal_bars(numbers.queue.groups, series="age")
    return render_template(
        "dashboard/statistics.html",
        numbers=numbers,
        outcome_names=statistics.OUTCOME_NAMES,
        per_day=per_day,
        per_day_description=(
            f"One column for each of the last {days} days, stacked bottom up: "
            + ", ".join(
                f"{words} ({numbers.totals[key]:,} in all)"
                for key, words in statistics.OUTCOME_NAMES.items()
            )
            + ". The table below gives every day's numbers."
        ),
        depth_chart=depth,
        depth_description=(
            f"One column for each of the last {days} days: the comments waiting at the end of "
            f"the day (today: now), from {numbers.depth[0]:,} to {numbers.depth[-1]:,}, at "
            f"most {max(numbers.depth):,}. The table below gives every day's number."
        ),
        rules_chart=rules,
        ages_chart=ages,
        sites=list(visible.values()),
        site=visible.get(slug),
        days=days,
        periods=PERIODS,
        duration=_duration,
    )


def _duration(value: timedelta | None) -> str:
    """A short, exact enough duration: 45 s, 12 min, 3.5 h, 2.1 days; ``—`` for none."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
