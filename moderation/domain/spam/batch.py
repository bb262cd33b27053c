"""What a batch of comments teaches the classifier, worked out in one go: each comment's
features and the sum of the counts they add (an import's batches; possibly in a helper
process, which :func:`serve` is: it needs nothing but this package's pure modules)."""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from moderation.domain.spam.classifier import Label, batch_training_deltas
from moderation.domain.spam.features import FeatureExtractor, Submission
from moderation.domain.spam.store import GLOBAL_SCOPE, ZERO, Counts, Key, site_scope

#: One comment to learn from: (text, author, email, website, is a reply, network, label).
Lesson = tuple[str, str, str, str, bool, str, str]
#: A lesson's label by its value (a look-up, not an enum call per comment).
_LABELS = {label.value: label for label in Label}


@dataclass(frozen=True)
class Lessons:
    """What a batch teaches: each comment's features (newline-joined, sorted, as
    ``comment_spam.features`` keeps them) and the increments of the counts."""

    features: list[str]
    deltas: dict[Key, Counts]


def lessons(extractor: FeatureExtractor, site_id: int, batch: Sequence[Lesson]) -> Lessons:
    """The features of every comment of ``batch`` and the counts they add, together."""
    extract = extractor.extract
    learned: list[tuple[frozenset[str], Label]] = []
    joined: list[str] = []
    for text, author, email, url, is_reply, network, label in batch:
        features = extract(Submission(text, author, email, url, is_reply, network))
        learned.append((features, _LABELS[label]))
        joined.append("\n".join(sorted(features)))
    return Lessons(joined, batch_training_deltas(site_id, learned))


def amended(
    lessons: Lessons, changes: Mapping[int, tuple[Label, frozenset[str]]], site_id: int
) -> Lessons:
    """``lessons`` with each comment ``index`` of ``changes`` (of those learned, in order)
    teaching the features given instead of what it was worked out to teach (a reply whose
    parent was not stored is stored, and learned, as a top-level comment)."""
    if not changes:
        return lessons
    deltas = dict(lessons.deltas)
    joined = list(lessons.features)
    scopes = (site_scope(site_id), GLOBAL_SCOPE)
    for index, (label, features) in changes.items():
        before = joined[index].split("\n") if joined[index] else []
        one = Counts(spam=1) if label is Label.SPAM else Counts(ham=1)
        less = Counts(spam=-one.spam, ham=-one.ham)
        for scope in scopes:
            for feature in before:
                deltas[(scope, feature)] = deltas.get((scope, feature), ZERO) + less
            for feature in features:
                deltas[(scope, feature)] = deltas.get((scope, feature), ZERO) + one
        joined[index] = "\n".join(sorted(features))
    return Lessons(joined, {key: deltas[key] for key in sorted(deltas) if deltas[key] != ZERO})


def serve(source: IO[bytes], answers: IO[bytes]) -> None:
    """A helper process: a key, then ``(site_id, batch)`` pickles until its input ends,
    each answered with its :class:`Lessons` pickled, in order."""
    extractor = FeatureExtractor(pickle.load(source))  # noqa: S301 (from the importer)
    while True:
        try:
            site_id, batch = pickle.load(source)  # noqa: S301 (from the importer)
        except EOFError:
            return
        pickle.dump(lessons(extractor, site_id, batch), answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()
