"""The classifier in the service: score submissions, learn from every decision.

The model is :mod:`moderation.domain.spam` over :class:`SqlCountStore`: every process
scores with the same counts and learns in the transaction of the decision that taught it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import insert

from moderation.domain.comments import CommentDraft
from moderation.domain.privacy import truncate_ip
from moderation.domain.spam import (
    FEATURE_VERSION,
    Counts,
    CountStore,
    FeatureExtractor,
    Label,
    ReadAhead,
    SpamClassifier,
    SpamScore,
    Submission,
    batch_training_deltas,
    counts_wanted,
    label_for_status,
)
from moderation.domain.spam.store import Key
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import Comment, CommentSpam
from moderation.services.spam_store import SqlCountStore

if TYPE_CHECKING:
    from moderation.services.import_learning import Lessons

_EXTENSION = "moderation.spam_extractor"


@dataclass(frozen=True)
class Assessment:
    """A submission's features and the classifier's answer about them."""

    features: frozenset[str]
    result: SpamScore


def extractor() -> FeatureExtractor:
    """This app's feature extractor, keyed from ``SECRET_KEY`` (one per process)."""
    found = current_app.extensions.get(_EXTENSION)
    if found is None:
        secret = str(current_app.config["SECRET_KEY"]).encode()
        key = hmac.new(secret, b"spam-features", hashlib.sha256).digest()
        found = current_app.extensions[_EXTENSION] = FeatureExtractor(key)
    return found


def classifier() -> SpamClassifier:
    """The classifier over the database's counts, on this request's session."""
    return SpamClassifier(SqlCountStore(db.session))


def features_of(
    text: str, author: str, email: str, url: str, is_reply: bool, network: str
) -> frozenset[str]:
    """The features of one comment (``network`` is the truncated address, or "")."""
    return extractor().extract(Submission(text, author, email, url, is_reply, network))


def draft_features(draft: CommentDraft, client_ip: str) -> frozenset[str]:
    """The features of a new comment sent from ``client_ip``."""
    return features_of(
        draft.text,
        draft.author,
        draft.email,
        draft.url,
        draft.parent_id is not None,
        truncate_ip(client_ip),
    )


def assess(
    site_id: int,
    draft: CommentDraft,
    client_ip: str,
    features: frozenset[str] | None = None,
    counts: Mapping[Key, Counts] | None = None,
) -> Assessment:
    """Score a new comment on a site: one SELECT of its features' counts, unless the caller
    read them ahead (``counts``, read for ``features``: :func:`counts_wanted`)."""
    if features is None:
        features = draft_features(draft, client_ip)
    store: CountStore = SqlCountStore(db.session)
    if counts is not None:
        store = ReadAhead(store, *counts_wanted(site_id, features), counts)
    return Assessment(features, SpamClassifier(store).score(site_id, features))


def record_assessment(comment_id: int, assessment: Assessment | None) -> None:
    """Keep what the classifier said about a new comment, and its features to learn from."""
    if assessment is None:
        return
    db.session.connection().execute(
        _INSERT_ASSESSMENT, {"comment_id": comment_id, **assessment_values(assessment)}
    )


def assessment_values(assessment: Assessment) -> dict[str, Any]:
    """The row that keeps ``assessment`` (but for its comment's id)."""
    result = assessment.result
    return {
        "score": None if result.abstained else round(result.score, 4),
        "clues": [[clue.description, round(clue.probability, 3)] for clue in result.clues],
        "features": "\n".join(sorted(assessment.features)),
        "feature_version": FEATURE_VERSION,
        "label": "",
    }


#: Built once: every submission the classifier scored runs it.
_INSERT_ASSESSMENT = insert(CommentSpam)


def learn_decision(comment: Comment, status: CommentStatus) -> None:
    """Make the counts say what ``comment`` now is: approved is ham, spam is spam, and any
    other status takes back what it had taught (in the caller's transaction)."""
    row = db.session.get(CommentSpam, comment.id)
    if row is None:
        row = CommentSpam(
            comment_id=comment.id,
            score=None,
            clues=[],
            features="\n".join(sorted(features_now(comment))),
            feature_version=FEATURE_VERSION,
            label="",
        )
        db.session.add(row)
    wanted = label_for_status(status.value)
    learned = Label(row.label) if row.label else None
    if wanted is learned:
        return
    features = row.features.split("\n") if row.features else []
    classifier().relabel(comment.site_id, features, old=learned, new=wanted)
    row.label = wanted.value if wanted else ""


def learn_imported(site_id: int, comments: Iterable[tuple[int, Mapping[str, Any]]]) -> Counter[str]:
    """Teach the classifier the statuses of newly imported comments (``(id, row values)``):
    approved ones are ham, spam ones spam, others teach nothing. Each learned comment keeps
    its features, so a later decision takes back exactly what it taught; all of a batch's
    increments go to the counts in one write, in the caller's transaction (the import's
    batch: both commit or neither). Returns how many comments taught each label."""
    rows: list[dict[str, Any]] = []
    learned: list[tuple[frozenset[str], Label]] = []
    taught: Counter[str] = Counter()
    extract = extractor().extract
    for comment_id, values in comments:
        label = label_for_status(CommentStatus(values["status"]).value)
        if label is None:
            continue
        features = extract(
            Submission(
                values["text"],
                values["author"],
                values["email"],
                values["url"],
                values["parent_id"] is not None,
                values["ip_truncated"],
            )
        )
        rows.append(
            {
                "comment_id": comment_id,
                "score": None,
                "clues": [],
                "features": "\n".join(sorted(features)),
                "feature_version": FEATURE_VERSION,
                "label": label.value,
            }
        )
        learned.append((features, label))
        taught[label.value] += 1
    if rows:
        from moderation.services.bulk_rows import insert_rows  # imports alone need it

        insert_rows(db.session.connection(), CommentSpam.__table__, rows)
        SqlCountStore(db.session).add(batch_training_deltas(site_id, learned))
    return taught


def learn_imported_lessons(
    site_id: int, comments: Sequence[tuple[int, Mapping[str, Any]]], lessons: Lessons
) -> Counter[str]:
    """:func:`learn_imported` with the features and counts already worked out
    (:func:`moderation.services.import_learning.lessons` of the same comments, in order)."""
    rows: list[dict[str, Any]] = []
    features = iter(lessons.features)
    for comment_id, values in comments:
        label = _IMPORTED_LABELS.get(values["status"])
        if label is None:
            continue
        rows.append(
            {
                "comment_id": comment_id,
                "score": None,
                # one object for every row: converted to JSON once (bulk_rows), stored as []
                "clues": _NO_CLUES,
                "features": next(features),
                "feature_version": FEATURE_VERSION,
                "label": label,
            }
        )
    if next(features, None) is not None:
        raise ValueError("the lessons are not of these comments")
    if rows:
        from moderation.services.bulk_rows import insert_rows  # imports alone need it

        insert_rows(db.session.connection(), CommentSpam.__table__, rows)
        # learning only adds: the lessons' deltas are increments
        SqlCountStore(db.session).add_increments(lessons.deltas)
    return Counter(row["label"] for row in rows)


#: What each status teaches the classifier, by its value (statuses that teach nothing left out).
_IMPORTED_LABELS = {
    status.value: label.value
    for status in CommentStatus
    if (label := label_for_status(status.value)) is not None
}
_NO_CLUES: tuple[object, ...] = ()


def view_of(comment_id: int) -> CommentSpam | None:
    """What the classifier said about a comment and what it teaches now (for moderators)."""
    return db.session.get(CommentSpam, comment_id)


def features_now(comment: Comment) -> frozenset[str]:
    """The features of a comment the classifier never saw (older than it, or imported)."""
    return features_of(
        comment.text,
        comment.author,
        comment.email,
        comment.url,
        comment.parent_id is not None,
        comment.ip_truncated,
    )
