"""CPU of the browser tests' Chromium (issue 13): Debian's full ``chromium --headless``
against its headless build (``chromium-headless-shell``), on the browser tests' own work.

Each round, for each browser: Playwright's driver started, the browser launched with the
tests' switches, then four pages, each in a new context (a new visitor), that load a blog
post embedding the widget from another site (``localhost`` against ``127.0.0.1``), wait
for the frame to size itself and post a comment through its form; everything closed. The
CPU is user+sys of the driver and the browser (``RUSAGE_CHILDREN`` around the round: both
are waited for when the driver stops); one ``moderation serve`` on SQLite, started once
and not counted, answers every round. The browsers alternate within each round; the
median and the range of the rounds are printed.

    python bench/browser_cpu.py [ROUNDS]
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.pop("MODERATION_DATABASE_URL", None)  # SQLite in a folder of its own

from playwright.sync_api import sync_playwright

from tests.browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FULL_CHROMIUM,
    QUICK_SETTINGS,
    post_through_the_form,
    served,
    widget_frame,
)
from tests.helpers import Actions
from tests.host_sites import embed_snippet, post_page, start_host

BROWSERS = {"chromium --headless": FULL_CHROMIUM, "chromium-headless-shell": CHROMIUM}
PAGES = 4


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_round(executable: str, service: str, host: object, label: str) -> float:
    """CPU of one driver start, launch and :data:`PAGES` posts through the widget."""
    before = children_cpu()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        for number in range(PAGES):
            context = browser.new_context(viewport={"width": 720, "height": 900})
            page = context.new_page()
            thread = f"{label}-{number}"
            embed = embed_snippet(service, "blog", thread)
            page.goto(host.add(f"/{thread}", post_page(thread, embed)))  # type: ignore[attr-defined]
            post_through_the_form(widget_frame(page), f"Words number {number}.")
            context.close()
        browser.close()
    return children_cpu() - before


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    host = start_host()
    cpu: dict[str, list[float]] = {name: [] for name in BROWSERS}
    try:
        with tempfile.TemporaryDirectory() as folder:

            def setup(app: object) -> None:
                Actions(app).create_site("blog", [host.origin], flood_seconds=0)  # type: ignore[arg-type]

            with served(Path(folder), setup, **QUICK_SETTINGS) as server:
                service = server.url.replace("127.0.0.1", "localhost")  # another site
                for number in range(rounds):
                    names = list(BROWSERS) if number % 2 == 0 else list(reversed(BROWSERS))
                    for name in names:
                        label = f"r{number}-{name.split()[0]}"
                        cpu[name].append(one_round(BROWSERS[name], service, host, label))
                        print(f"round {number + 1}: {name} {cpu[name][-1]:.2f} s", flush=True)
    finally:
        host.stop()
    for name, values in cpu.items():
        print(
            f"{name}: median {statistics.median(values):.2f} s CPU "
            f"({min(values):.2f}-{max(values):.2f}, {len(values)} rounds)"
        )


if __name__ == "__main__":
    main()
