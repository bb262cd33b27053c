"""When a submission is suspicious enough to ask for a proof-of-work challenge (ALTCHA).

A site that turns the challenge on asks it only of submissions that would otherwise be
refused or held *for being suspicious*; honest readers normally never see it:

- :attr:`Suspicion.SOFT_LIMIT`: the sender is over the soft per-address limit (below the
  hard one, which still refuses);
- :attr:`Suspicion.GREY_ZONE`: the classifier's score is between the site's hold and spam
  thresholds (it would hold the comment);
- :attr:`Suspicion.FIRST_LINKS`: the author has no approved comment on the site yet and
  the comment carries links.

A comment the rules mark as spam (honeypot, timing, block list, blocked words, a sure
classifier) is never challenged: it is stored as spam and answered as if accepted, so a
bot learns nothing. Refusals (duplicate, flood, hard limits) stay refusals. Solving the
challenge lets that one submission through the suspicions it was asked for, and no others.
"""

from __future__ import annotations

from enum import StrEnum

from moderation.domain.rules import Decision, Outcome, Rule


class Suspicion(StrEnum):
    """Why a submission is asked to prove some work first."""

    SOFT_LIMIT = "soft_limit"
    GREY_ZONE = "grey_zone"
    FIRST_LINKS = "first_comment_links"


#: What moderators read in the stored reason when a solved challenge let a comment through.
DESCRIPTIONS = {
    Suspicion.SOFT_LIMIT: "over the soft rate limit",
    Suspicion.GREY_ZONE: "classifier score in the grey zone",
    Suspicion.FIRST_LINKS: "a first comment with links",
}


def suspicions(
    decision: Decision, *, soft_limited: bool, first_comment: bool, link_count: int
) -> frozenset[Suspicion]:
    """What is suspicious about a submission the rules decided ``decision`` for.

    Spam and refusals are never challenged (see the module's notes).
    """
    if decision.outcome in (Outcome.SPAM, Outcome.REFUSE):
        return frozenset()
    found = set()
    if soft_limited:
        found.add(Suspicion.SOFT_LIMIT)
    if decision.rule is Rule.CLASSIFIER and decision.outcome is Outcome.HOLD:
        found.add(Suspicion.GREY_ZONE)
    if first_comment and link_count > 0:
        found.add(Suspicion.FIRST_LINKS)
    return frozenset(found)


def parse_suspicions(values: object) -> frozenset[Suspicion]:
    """The suspicions named in a (signed) challenge's data; unknown names are ignored."""
    if not isinstance(values, list):
        return frozenset()
    known = {suspicion.value for suspicion in Suspicion}
    return frozenset(Suspicion(value) for value in values if value in known)


def solved_note(waived: frozenset[Suspicion]) -> str:
    """The words added to a comment's stored reason when a challenge let it through."""
    described = ", ".join(DESCRIPTIONS[suspicion] for suspicion in sorted(waived))
    return f"passed a proof-of-work challenge ({described})"
