"""Learning from moderators' decisions and scoring new comments, per site.

The classifier keeps no state of its own: every count is in a :class:`CountStore`, so
every process scores with the same model and a restart loses nothing.

**Prior blending.** The rest of the instance (the global scope minus the site's own
counts) is a prior worth ``prior_strength`` decisions of each class: a feature's share of
a site's spam is ``(site count + K · share elsewhere) / (site spam + K)``, and the same
for ham. A new site borrows the instance's judgement whole; a site with K decisions of a
class weighs its own and the borrowed share the same; a busy site is judged by its own
moderators, however large the instance. How often a feature was seen (the confidence in
Robinson's formula) adds the instance's count weighted ``K / (K + site decisions)``.

**Cold start.** With fewer than ``min_spam`` spam or ``min_ham`` ham decisions (after
blending) the classifier abstains and says why; it also abstains when nothing it has
learned applies to a comment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from itertools import chain

from moderation.domain.spam.explain import describe, reason
from moderation.domain.spam.scoring import Evidence, feature_probability, fisher_combine
from moderation.domain.spam.store import (
    GLOBAL_SCOPE,
    MESSAGES,
    ZERO,
    Counts,
    CountStore,
    Key,
    site_scope,
)


class Label(StrEnum):
    """What a moderator's decision teaches."""

    SPAM = "spam"
    HAM = "ham"


def label_for_status(status: str) -> Label | None:
    """The label a comment's status stands for: approved is ham, spam is spam.

    Pending, rejected and deleted comments teach nothing, so the counts always equal
    what the comments' current statuses say: a status change from A to B is
    ``relabel(old=label_for_status(A), new=label_for_status(B))``, and the whole model
    can be rebuilt from the comments table (imports included) at any time.
    """
    if status == "approved":
        return Label.HAM
    if status == "spam":
        return Label.SPAM
    return None


@dataclass(frozen=True)
class ClassifierSettings:
    """Tuning; the defaults are SpamBayes's where it has one."""

    min_spam: int = 10
    min_ham: int = 10
    prior_strength: float = 50.0
    unknown_strength: float = 0.45
    unknown_probability: float = 0.5
    min_strength: float = 0.1
    max_clues: int = 150
    explained_clues: int = 6


@dataclass(frozen=True)
class Clue:
    """A feature that drove a score, its spam probability and its (blended) counts."""

    feature: str
    probability: float
    spam: float
    ham: float

    @property
    def description(self) -> str:
        """The feature in words ("link to casino.example")."""
        return describe(self.feature)


@dataclass(frozen=True)
class SpamScore:
    """The classifier's answer for one comment.

    ``score`` is the spam probability in [0, 1] (0.5 when it abstains); ``clues`` are the
    few features that pushed it furthest in its direction, strongest first; ``reason``
    is what a moderator reads ("classifier 0.97: link to casino.example, …").
    """

    score: float
    abstained: bool
    reason: str
    clues: tuple[Clue, ...] = ()
    learned_spam: float = 0.0
    learned_ham: float = 0.0


def training_deltas(
    site_id: int | str, features: Collection[str], label: Label, sign: int = 1
) -> dict[Key, Counts]:
    """The increments that learn (``sign=1``) or un-learn (``sign=-1``) one comment."""
    step = Counts(spam=sign) if label is Label.SPAM else Counts(ham=sign)
    keys = [
        (scope, feature)
        for scope in (site_scope(site_id), GLOBAL_SCOPE)
        for feature in (*features, MESSAGES)
    ]
    return dict.fromkeys(sorted(set(keys)), step)


#: ``Counts`` made once per value (they are immutable): most of a batch's features were
#: seen once or twice, so a few hundred values make nearly all of its thousands of counts.
_shared_counts = lru_cache(maxsize=1024)(Counts)


def batch_training_deltas(
    site_id: int | str, learned: Iterable[tuple[Collection[str], Label]]
) -> dict[Key, Counts]:
    """The increments that learn many comments at once (an import's batch): the sum of
    their :func:`training_deltas`, in sorted key order, counted per label in one pass
    instead of a :class:`Counts` per feature per comment."""
    taught: dict[Label, list[Collection[str]]] = {Label.SPAM: [], Label.HAM: []}
    for features, label in learned:
        taught[label].append(features)
    spam, ham = Counter[str](), Counter[str]()
    for counter, comments in ((spam, taught[Label.SPAM]), (ham, taught[Label.HAM])):
        if comments:
            counter.update(chain.from_iterable(comments))  # sets: a feature once per comment
            counter[MESSAGES] += len(comments)
    features = sorted(spam.keys() | ham.keys())
    totals = [_shared_counts(spam.get(feature, 0), ham.get(feature, 0)) for feature in features]
    return {
        (scope, feature): counts
        for scope in sorted((site_scope(site_id), GLOBAL_SCOPE))
        for feature, counts in zip(features, totals, strict=True)
    }


def relabel_deltas(
    site_id: int | str, features: Collection[str], old: Label | None, new: Label | None
) -> dict[Key, Counts]:
    """The increments that move one comment from label ``old`` to ``new`` (either None)."""
    combined: dict[Key, Counts] = {}
    if old is new:
        return combined
    for label, sign in ((old, -1), (new, 1)):
        if label is not None:
            for key, delta in training_deltas(site_id, features, label, sign).items():
                combined[key] = combined.get(key, ZERO) + delta
    return {key: combined[key] for key in sorted(combined) if combined[key] != ZERO}


def counts_wanted(
    site_id: int | str, features: Collection[str]
) -> tuple[tuple[str, str], list[str]]:
    """The scopes and features whose counts :meth:`SpamClassifier.score` reads for a
    comment with ``features`` on a site (a caller may read them ahead: :class:`ReadAhead`)."""
    return (site_scope(site_id), GLOBAL_SCOPE), sorted({*features, MESSAGES})


class SpamClassifier:
    """Scores comments and learns from decisions, with its counts in ``store``."""

    def __init__(self, store: CountStore, settings: ClassifierSettings | None = None) -> None:
        self.store = store
        self.settings = settings or ClassifierSettings()

    def learn(self, site_id: int | str, features: Collection[str], label: Label) -> None:
        """Count one decided comment (a moderator's decision, or an imported status)."""
        self.store.add(training_deltas(site_id, features, label))

    def unlearn(self, site_id: int | str, features: Collection[str], label: Label) -> None:
        """Take back what :meth:`learn` counted for the same features and label."""
        self.store.add(training_deltas(site_id, features, label, sign=-1))

    def relabel(
        self, site_id: int | str, features: Collection[str], old: Label | None, new: Label | None
    ) -> None:
        """Apply a status change in one atomic write (see :func:`label_for_status`)."""
        deltas = relabel_deltas(site_id, features, old, new)
        if deltas:
            self.store.add(deltas)

    def score(self, site_id: int | str, features: Collection[str]) -> SpamScore:
        """The spam probability of a comment with ``features`` on this site, explained."""
        settings = self.settings
        site = site_scope(site_id)
        scopes, wanted = counts_wanted(site_id, features)
        rows = self.store.counts(scopes, wanted)
        blend = _Blend(rows, site, settings)
        if blend.spam_total < settings.min_spam or blend.ham_total < settings.min_ham:
            return SpamScore(
                0.5,
                True,
                f"classifier abstains: it has learned from {blend.spam_total:.0f} spam and "
                f"{blend.ham_total:.0f} ham decisions and needs {settings.min_spam} and "
                f"{settings.min_ham}",
                learned_spam=blend.spam_total,
                learned_ham=blend.ham_total,
            )
        clues: list[Clue] = []
        for feature in wanted:
            if feature == MESSAGES:
                continue
            evidence, spam_seen, ham_seen = blend.evidence(feature)
            probability = feature_probability(
                evidence, settings.unknown_strength, settings.unknown_probability
            )
            if abs(probability - 0.5) >= settings.min_strength:
                clues.append(Clue(feature, probability, spam_seen, ham_seen))
        clues.sort(key=lambda clue: (-abs(clue.probability - 0.5), clue.feature))
        clues = clues[: settings.max_clues]
        if not clues:
            return SpamScore(
                0.5,
                True,
                "classifier abstains: nothing it has learned applies to this comment",
                learned_spam=blend.spam_total,
                learned_ham=blend.ham_total,
            )
        score = fisher_combine([clue.probability for clue in clues])
        drivers = [clue for clue in clues if (clue.probability > 0.5) == (score >= 0.5)]
        drivers = drivers[: settings.explained_clues]
        return SpamScore(
            score,
            False,
            reason(score, [clue.description for clue in drivers]),
            tuple(drivers),
            blend.spam_total,
            blend.ham_total,
        )


class _Blend:
    """A site's counts blended with the rest of the instance's, for one lookup."""

    def __init__(self, rows: Mapping[Key, Counts], site: str, settings: ClassifierSettings):
        self._rows = rows
        self._site = site
        self._strength = settings.prior_strength
        self._own = rows.get((site, MESSAGES), ZERO)
        self._others = self._elsewhere(MESSAGES)
        self._weight = self._strength / (self._strength + self._own.total)
        self.spam_total = self._own.spam + self._weight * self._others.spam
        self.ham_total = self._own.ham + self._weight * self._others.ham

    def _elsewhere(self, feature: str) -> Counts:
        """The instance's counts minus this site's (never negative)."""
        everywhere = self._rows.get((GLOBAL_SCOPE, feature), ZERO)
        own = self._rows.get((self._site, feature), ZERO)
        return Counts(max(everywhere.spam - own.spam, 0), max(everywhere.ham - own.ham, 0))

    def _rate(self, own: int, own_total: int, other: int, other_total: int) -> float:
        """A feature's share of one class: the site's, shrunk towards the instance's."""
        if not other_total:
            return own / own_total if own_total else 0.0
        prior = other / other_total
        return (own + self._strength * prior) / (own_total + self._strength)

    def evidence(self, feature: str) -> tuple[Evidence, float, float]:
        """The feature's blended rates, and its blended spam and ham counts."""
        own = self._rows.get((self._site, feature), ZERO)
        other = self._elsewhere(feature)
        spam_seen = own.spam + self._weight * other.spam
        ham_seen = own.ham + self._weight * other.ham
        evidence = Evidence(
            feature,
            self._rate(own.spam, self._own.spam, other.spam, self._others.spam),
            self._rate(own.ham, self._own.ham, other.ham, self._others.ham),
            spam_seen + ham_seen,
        )
        return evidence, spam_seen, ham_seen
