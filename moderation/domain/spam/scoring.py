"""The arithmetic of a score: Robinson's per-feature probabilities, Fisher's combining.

This is the method of SpamBayes (Tim Peters et al.) and Bogofilter, after Gary Robinson's
"A Statistical Approach to the Spam Problem" (Linux Journal, 2003):

1. Each feature's spam probability from the share of spam and of ham it occurred in,
   ``p = (s/S) / (s/S + h/H)``, pulled towards ``x = 0.5`` by how little it has been seen:
   ``f = (strength·x + n·p) / (strength + n)`` with ``n = s + h``. A word seen once is weak
   evidence; a word seen in 300 spam and no ham is strong.
2. Only features that say something (``|f - 0.5| ≥ min_strength``), the strongest
   ``max_clues`` of them.
3. Fisher's method twice: how unlikely the clues are if they were random with respect to
   spam (``S``) and to ham (``H``), each a chi-square test with ``2n`` degrees of freedom;
   the score is ``(1 + S - H) / 2``.

The score is near 1 or 0 when the evidence agrees, and stays near 0.5 when it is weak or
contradicts itself: the "unsure" middle that SpamBayes is known for, which is what lets a
site hold instead of guessing. Rates and counts may be blends of a site's own and the
instance-wide prior's (see :mod:`.classifier`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """One feature: the share of spam and of ham it occurs in, and how often it was seen."""

    feature: str
    spam_rate: float
    ham_rate: float
    seen: float


def feature_probability(evidence: Evidence, strength: float, prior: float) -> float:
    """Robinson's f(w): the feature's spam probability, shrunk towards ``prior``."""
    if evidence.spam_rate + evidence.ham_rate == 0.0:
        return prior
    probability = evidence.spam_rate / (evidence.spam_rate + evidence.ham_rate)
    return (strength * prior + evidence.seen * probability) / (strength + evidence.seen)


def chi2_survival(chi2: float, degrees: int) -> float:
    """P(X ≥ chi2) for a chi-square variable with an even number of degrees of freedom."""
    half = chi2 / 2.0
    term = math.exp(-half)
    total = term
    for index in range(1, degrees // 2):
        term *= half / index
        total += term
    return min(total, 1.0)


def fisher_combine(probabilities: list[float]) -> float:
    """Combine per-feature probabilities into one score in [0, 1] (0.5 with none)."""
    if not probabilities:
        return 0.5
    spam_log = sum(math.log(1.0 - probability) for probability in probabilities)
    ham_log = sum(math.log(probability) for probability in probabilities)
    degrees = 2 * len(probabilities)
    spamminess = 1.0 - chi2_survival(-2.0 * spam_log, degrees)
    hamminess = 1.0 - chi2_survival(-2.0 * ham_log, degrees)
    return (1.0 + spamminess - hamminess) / 2.0
