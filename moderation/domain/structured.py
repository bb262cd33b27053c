"""schema.org ``Comment`` data (JSON-LD) for a thread's published comments: what search
engines read beside the server-rendered fragment. Public fields only (never an email)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from moderation.domain.privacy import PublicComment
from moderation.domain.reading import read_html


def iso(comment: PublicComment) -> str:
    """The comment's time as ISO 8601 UTC."""
    return comment.created_at.isoformat(timespec="seconds").replace("+00:00", "Z")


def comments_json_ld(
    comments: Sequence[PublicComment],
    total: int,
    permalink: Callable[[int], str],
    post_url: str = "",
    post_title: str = "",
) -> dict[str, object]:
    """The post (a ``CreativeWork`` at ``post_url`` when known) with its ``commentCount``
    and one ``Comment`` per published comment, replies naming their ``parentItem``."""
    items: list[dict[str, object]] = []
    for comment in comments:
        author: dict[str, object] = {"@type": "Person", "name": comment.author}
        if comment.url:
            author["url"] = comment.url
        item: dict[str, object] = {
            "@type": "Comment",
            "@id": permalink(comment.id),
            "url": permalink(comment.id),
            "author": author,
            "dateCreated": iso(comment),
            "text": read_html(comment.html).text.strip(),
        }
        if comment.parent_id is not None:
            item["parentItem"] = {"@id": permalink(comment.parent_id)}
        items.append(item)
    work: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "CreativeWork",
        "commentCount": total,
        "comment": items,
    }
    if post_url:
        work["@id"] = post_url
        work["url"] = post_url
    if post_title:
        work["name"] = post_title
    return work
