"""How a submission is turned away without being stored: a rate limit, a duplicate, a flood.
The pipeline (:mod:`moderation.services.submissions`) raises them; the web edge's error table
(:mod:`moderation.web.errors`) answers them with one status and one wording per door."""

from __future__ import annotations

from datetime import timedelta

from moderation.domain.errors import N_, DomainError
from moderation.domain.rules import Decision

#: The one wording of a rate-limit refusal (the wait is written out in the reader's language).
RATE_LIMIT_MESSAGE = N_("You have posted too many comments. Please try again in %(wait)s.")


class RateLimited(DomainError):
    """A submission limit is exhausted; ``retry_after`` says for how long."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(RATE_LIMIT_MESSAGE, wait=timedelta(seconds=retry_after))
        self.retry_after = retry_after


class Refused(DomainError):
    """A rule refused the comment (a duplicate); nothing was stored."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason, **decision.params)
        self.decision = decision


class Flooded(Refused):
    """The flood rule refused the comment: the same person posted too soon before.
    ``retry_after`` says how long until they may post again."""

    def __init__(self, decision: Decision, retry_after: int) -> None:
        super().__init__(decision)
        self.retry_after = retry_after
