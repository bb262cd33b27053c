"""First start on an empty database: an admin and a demo site, so the whole flow is visible."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from moderation.extensions import db
from moderation.models import Moderator, ModeratorRole, Site
from moderation.services.moderators import create_moderator, generate_password
from moderation.services.sites import create_site

DEMO_SLUG = "demo"


@dataclass(frozen=True)
class BootstrapResult:
    """What the first start created; the password is shown once and never stored in clear."""

    admin_username: str | None = None
    admin_password: str | None = None
    demo_site: str | None = None


def bootstrap(demo_origins: list[str]) -> BootstrapResult:
    """Create the ``admin`` and the ``demo`` site when the database has neither."""
    admin_username = admin_password = demo_site = None
    if not db.session.execute(select(func.count(Moderator.id))).scalar_one():
        admin_password = generate_password()
        admin_username = create_moderator(
            "admin", admin_password, ModeratorRole.ADMIN.value
        ).username
    if not db.session.execute(select(func.count(Site.id))).scalar_one():
        demo_site = create_site(DEMO_SLUG, "Demo site", demo_origins).slug
    return BootstrapResult(admin_username, admin_password, demo_site)


def origins_for_listen_address(host: str, port: int) -> list[str]:
    """The origins a browser uses to reach ``host:port``; wildcard hosts mean loopback."""
    if host in ("0.0.0.0", "::", "") or host in ("127.0.0.1", "localhost"):  # noqa: S104 - we only read the bind address
        hosts = ["127.0.0.1", "localhost"]
    else:
        hosts = [f"[{host}]" if ":" in host else host]
    return [f"http://{name}:{port}" for name in hosts]
