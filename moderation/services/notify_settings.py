"""Who gets what: moderators' addresses and per-site choices, and sites' chat hooks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from moderation.domain.comments import clean_email
from moderation.domain.errors import N_, InvalidInput, NotFound
from moderation.extensions import db, get_by_id
from moderation.models import ChatHook, Moderator, ModeratorSiteNotify, Site
from moderation.services import outbound
from moderation.services.events import Actor, audit
from moderation.services.mail_queue import NOTIFY_MODES


def _site(slug: str) -> Site:
    site = db.session.execute(select(Site).where(Site.slug == slug)).scalar_one_or_none()
    if site is None:
        raise NotFound(N_("Unknown site %(slug)r."), slug=slug)
    return site


def set_email(moderator: Moderator, email: str, actor: Actor) -> None:
    """Set (or, with ``""``, remove) where a moderator's notifications go."""
    moderator.email = clean_email(email) if email.strip() else ""
    audit(actor, "moderator.email", reason=f"account {moderator.username!r}")
    db.session.commit()


def set_notify(moderator: Moderator, mode: str, site_slugs: list[str], actor: Actor) -> None:
    """each, digest or none for the given sites; no site: the default for every site
    (and per-site choices are dropped)."""
    if mode not in NOTIFY_MODES:
        raise InvalidInput(N_("Unknown choice %(mode)r: choose each, digest or none."), mode=mode)
    if not site_slugs:
        moderator.notify_mode = mode
        db.session.execute(
            delete(ModeratorSiteNotify).where(ModeratorSiteNotify.moderator_id == moderator.id)
        )
    for slug in site_slugs:
        site = _site(slug)
        choice = db.session.execute(
            select(ModeratorSiteNotify).where(
                ModeratorSiteNotify.moderator_id == moderator.id,
                ModeratorSiteNotify.site_id == site.id,
            )
        ).scalar_one_or_none()
        if choice is None:
            db.session.add(
                ModeratorSiteNotify(moderator_id=moderator.id, site_id=site.id, mode=mode)
            )
        else:
            choice.mode = mode
    where = ", ".join(site_slugs) or "all sites"
    audit(actor, "moderator.notify", reason=f"account {moderator.username!r}: {mode} on {where}")
    db.session.commit()


@dataclass(frozen=True)
class Recipient:
    """One moderator's notification settings, per site, for the admins' overview."""

    moderator: Moderator
    per_site: dict[str, str]


def who_gets_what() -> list[Recipient]:
    """Every moderator with what each site sends them (none without an address)."""
    sites = list(db.session.execute(select(Site).order_by(Site.slug)).scalars())
    overrides: dict[tuple[int, int], str] = {
        (row.moderator_id, row.site_id): row.mode
        for row in db.session.execute(select(ModeratorSiteNotify)).scalars()
    }
    recipients = []
    for moderator in db.session.execute(select(Moderator).order_by(Moderator.username)).scalars():
        per_site = {
            site.slug: (
                overrides.get((moderator.id, site.id), moderator.notify_mode)
                if moderator.email and moderator.is_active
                else "none"
            )
            for site in sites
        }
        recipients.append(Recipient(moderator, per_site))
    return recipients


def add_chat_hook(site_slug: str, url: str, allow_private: bool, actor: Actor) -> ChatHook:
    """A Slack-compatible incoming-webhook URL for a site, checked like webhook targets."""
    site = _site(site_slug)
    target = outbound.check_target(url.strip(), allow_private)
    hook = ChatHook(site_id=site.id, url=target.parsed.url)
    db.session.add(hook)
    db.session.flush()
    audit(actor, "chat.add", site_id=site.id, reason=f"chat hook {hook.id}")
    db.session.commit()
    return hook


def remove_chat_hook(hook_id: int, actor: Actor) -> None:
    """Stop posting to a chat hook (its queued messages go with it)."""
    hook = get_by_id(ChatHook, hook_id)
    if hook is None:
        raise NotFound(N_("Unknown chat hook %(id)s."), id=hook_id)
    audit(actor, "chat.remove", site_id=hook.site_id, reason=f"chat hook {hook.id}")
    db.session.delete(hook)
    db.session.commit()


def list_chat_hooks() -> list[ChatHook]:
    """Every chat hook, by site."""
    return list(
        db.session.execute(select(ChatHook).order_by(ChatHook.site_id, ChatHook.id)).scalars()
    )


def masked(url: str) -> str:
    """A chat hook's URL without its secret path, for lists and pages."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/…"
