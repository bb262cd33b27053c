"""A local spam classifier that learns from moderators' decisions (issue 19, its core).

Pure Python, standard library only: no Flask, no SQLAlchemy, no numpy. The model is a
table of additive counts that lives in the database (a :class:`CountStore`), so every
process scores with the same model, a restart loses nothing, and many processes can
learn at once with atomic increments. Nothing leaves the machine.

How the later pieces use it
===========================

One :class:`FeatureExtractor` per process, keyed with a secret derived from the app's
(``hmac(SECRET_KEY, b"spam-features")``: rotating it orphans hashed features), and one
:class:`SpamClassifier` over the SQL store::

    extractor = FeatureExtractor(key)
    classifier = SpamClassifier(SqlCountStore(session))          # later: the SQL store

**The pipeline rule** (after the cheap rules)::

    features = extractor.extract(Submission(text=draft.text, author=draft.author,
                                            email=draft.email, url=draft.url,
                                            is_reply=draft.parent_id is not None,
                                            network=truncate_ip(address)))
    result = classifier.score(site.id, features)       # one SELECT of ~50-150 rows
    verdict = verdict_for(result, Thresholds(site.hold_threshold, site.spam_threshold))
    # Verdict.SPAM -> Outcome.SPAM, Verdict.HOLD -> Outcome.HOLD (also on open/trusted
    # sites), Verdict.PASS -> on to the policy (an abstaining classifier always passes;
    # a model with fewer than 50 decisions of a class holds instead of marking spam). Store result.reason (≤ 500 characters,
    # "classifier 0.97: link to casino.example, word 'viagra', …") and result.score; the
    # dashboard can list result.clues (feature, probability, spam and ham counts).

Keep the comment's ``sorted(features)`` with it (or re-extract with the same key and
:data:`FEATURE_VERSION`): un-learning must subtract exactly what was learned.

**Learning** from every door (dashboard, email link, ``comment.moderate``, imports), in
the same transaction as the status change::

    classifier.relabel(site.id, features,
                       old=label_for_status(previous_status),
                       new=label_for_status(new_status))

Counts always equal "approved comments are ham, spam comments are spam": approve and
restore teach ham, spam teaches spam, approved → spam moves one comment from ham to
spam in one atomic write, and reject or delete takes back what the comment had taught.
So the model can be rebuilt from the comments table at any time, and an import is just
``learn`` for each imported approved or spam comment.

**Dry run** (``rules try``): score the last N decided comments with a copy of the counts
in an :class:`InMemoryCountStore` minus each comment's own contribution (``unlearn``
before, ``learn`` after), map with the proposed :class:`Thresholds`, compare with what
moderators decided. **ALTCHA**: ``Verdict.HOLD`` is the grey zone a challenge can clear.

**Erasure**: ``extractor.personal_features(email)`` names the hashed rows derived from
an address (its other contributions are not personal and stay).

The SQL store implements two methods (see :mod:`moderation.domain.spam.store`):
``counts(scopes, features)`` (one SELECT) and ``add(deltas)`` (one upsert of increments,
clamped at zero). The method and its defaults: :mod:`.scoring`, :mod:`.classifier`;
features: :mod:`.features`; measured numbers: ``bench/spam_evaluate.py``.
"""

from moderation.domain.spam.classifier import (
    ClassifierSettings,
    Clue,
    Label,
    SpamClassifier,
    SpamScore,
    batch_training_deltas,
    counts_wanted,
    label_for_status,
    relabel_deltas,
    training_deltas,
)
from moderation.domain.spam.explain import MAX_REASON, describe
from moderation.domain.spam.features import (
    FEATURE_VERSION,
    MAX_FEATURE_LENGTH,
    FeatureExtractor,
    Submission,
)
from moderation.domain.spam.store import (
    GLOBAL_SCOPE,
    MESSAGES,
    Counts,
    CountStore,
    InMemoryCountStore,
    ReadAhead,
    site_scope,
)
from moderation.domain.spam.thresholds import Thresholds, Verdict, verdict_for

__all__ = [
    "FEATURE_VERSION",
    "GLOBAL_SCOPE",
    "MAX_FEATURE_LENGTH",
    "MAX_REASON",
    "MESSAGES",
    "ClassifierSettings",
    "Clue",
    "CountStore",
    "Counts",
    "FeatureExtractor",
    "InMemoryCountStore",
    "Label",
    "ReadAhead",
    "SpamClassifier",
    "SpamScore",
    "Submission",
    "Thresholds",
    "Verdict",
    "batch_training_deltas",
    "counts_wanted",
    "describe",
    "label_for_status",
    "relabel_deltas",
    "site_scope",
    "training_deltas",
    "verdict_for",
]
