#!/usr/bin/env python3
"""How well the spam classifier does, and what it costs per submission.

    python bench/spam_evaluate.py [--corpus comments|spamassassin|all] [--seeds 5]
                                  [--folds 5] [--hold 0.40 --spam 0.80] [--show-errors]

For each seed the corpus is shuffled and cut into folds; for each fold the classifier
learns the other folds one decision at a time, in the shuffled order (as moderators'
decisions arrive), then scores the fold without learning from it. Reported at the
thresholds (the defaults unless given), as the mean, standard deviation and range over
every (seed, fold):

- spam recall: spam marked spam; "caught": marked spam or held;
- precision of "marked spam"; ham false-positive rate: ham marked spam; ham held;
- abstained and unsure (held) shares;
- a sweep of the spam threshold over the pooled scores;
- online (test-then-learn over one shuffled stream): the cold start, then accuracy;
- prior blending: a new site with no decisions of its own, scored by the instance prior;
- cost: median time to extract the features of one submission and to score it.

Corpora: ``bench/spam_corpora.py`` (``spamassassin`` needs
``bench/spam_fetch_spamassassin.sh`` once; ``all`` uses it when present).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.spam_corpora import Example, load_comments, load_spamassassin
from moderation.domain.spam import (
    FeatureExtractor,
    InMemoryCountStore,
    Label,
    SpamClassifier,
    Thresholds,
    Verdict,
    verdict_for,
)

KEY = b"bench-spam-feature-key-0123456789"
SITE = 1


@dataclass(frozen=True)
class Item:
    """An example with its features extracted once."""

    example: Example
    features: frozenset[str]


@dataclass
class Tally:
    """Verdicts by true label."""

    verdicts: dict[tuple[Label, Verdict], int] = field(default_factory=dict)
    abstained: int = 0
    total: int = 0
    scores: list[tuple[float, Label]] = field(default_factory=list)
    errors: list[tuple[float, Item]] = field(default_factory=list)

    def add(self, item: Item, score: float, abstained: bool, verdict: Verdict) -> None:
        label = item.example.label
        self.verdicts[(label, verdict)] = self.verdicts.get((label, verdict), 0) + 1
        self.total += 1
        self.abstained += abstained
        if not abstained:
            self.scores.append((score, label))
        wrong = (label is Label.HAM and verdict is Verdict.SPAM) or (
            label is Label.SPAM and verdict is Verdict.PASS
        )
        if wrong:
            self.errors.append((score, item))

    def count(self, label: Label, *verdicts: Verdict) -> int:
        return sum(self.verdicts.get((label, verdict), 0) for verdict in verdicts)

    def metrics(self) -> dict[str, float]:
        spam = self.count(Label.SPAM, *Verdict)
        ham = self.count(Label.HAM, *Verdict)
        marked = self.count(Label.SPAM, Verdict.SPAM) + self.count(Label.HAM, Verdict.SPAM)
        return {
            "spam recall (marked spam)": self.count(Label.SPAM, Verdict.SPAM) / max(spam, 1),
            "spam caught (spam or held)": self.count(Label.SPAM, Verdict.SPAM, Verdict.HOLD)
            / max(spam, 1),
            "precision (marked spam)": self.count(Label.SPAM, Verdict.SPAM) / max(marked, 1),
            "ham false positives (marked spam)": self.count(Label.HAM, Verdict.SPAM) / max(ham, 1),
            "ham held (unsure)": self.count(Label.HAM, Verdict.HOLD) / max(ham, 1),
            "unsure share (held, all)": (
                self.count(Label.HAM, Verdict.HOLD) + self.count(Label.SPAM, Verdict.HOLD)
            )
            / max(self.total, 1),
            "abstained share": self.abstained / max(self.total, 1),
        }


def extract(examples: Sequence[Example]) -> list[Item]:
    extractor = FeatureExtractor(KEY)
    return [Item(example, extractor.extract(example.submission)) for example in examples]


def run_fold(train: Sequence[Item], test: Sequence[Item], thresholds: Thresholds) -> Tally:
    """Learn ``train`` one decision at a time, then score ``test``."""
    classifier = SpamClassifier(InMemoryCountStore())
    for item in train:
        classifier.learn(SITE, item.features, item.example.label)
    tally = Tally()
    for item in test:
        result = classifier.score(SITE, item.features)
        tally.add(item, result.score, result.abstained, verdict_for(result, thresholds))
    return tally


def cross_validate(
    items: list[Item], seeds: int, folds: int, thresholds: Thresholds
) -> tuple[list[dict[str, float]], Tally]:
    """Metrics per (seed, fold), and every fold's verdicts pooled."""
    per_fold: list[dict[str, float]] = []
    pooled = Tally()
    for seed in range(seeds):
        order = items[:]
        random.Random(seed).shuffle(order)  # noqa: S311 - a reproducible order
        for fold in range(folds):
            test = order[fold::folds]
            train = [item for index, item in enumerate(order) if index % folds != fold]
            tally = run_fold(train, test, thresholds)
            per_fold.append(tally.metrics())
            for key, value in tally.verdicts.items():
                pooled.verdicts[key] = pooled.verdicts.get(key, 0) + value
            pooled.total += tally.total
            pooled.abstained += tally.abstained
            pooled.scores.extend(tally.scores)
            if seed == 0:
                pooled.errors.extend(tally.errors)
    return per_fold, pooled


def online(items: list[Item], thresholds: Thresholds, seeds: int) -> list[str]:
    """Score each decision before learning it, over one shuffled stream per seed."""
    phases = [(100, Tally()), (200, Tally()), (len(items), Tally())]
    first_scored: list[int] = []
    for seed in range(seeds):
        order = items[:]
        random.Random(seed).shuffle(order)  # noqa: S311 - a reproducible order
        classifier = SpamClassifier(InMemoryCountStore())
        first = len(order)
        for index, item in enumerate(order):
            result = classifier.score(SITE, item.features)
            if not result.abstained:
                first = min(first, index)
            tally = next(tally for limit, tally in phases if index < limit)
            tally.add(item, result.score, result.abstained, verdict_for(result, thresholds))
            classifier.learn(SITE, item.features, item.example.label)
        first_scored.append(first)
    lines = [
        f"  {seeds} shuffled streams; first score after {min(first_scored)}-{max(first_scored)} "
        "decisions (abstained before)"
    ]
    start = 0
    for limit, tally in phases:
        m = tally.metrics()
        lines.append(
            f"  decisions {start:>4}-{min(limit, len(items)):<5} abstained {m['abstained share']:.0%}"
            f"  recall {m['spam recall (marked spam)']:.2f}  caught {m['spam caught (spam or held)']:.2f}"
            f"  ham FP {m['ham false positives (marked spam)']:.3f}"
            f" ({tally.count(Label.HAM, Verdict.SPAM)} of {tally.count(Label.HAM, *Verdict)})"
            f"  ham held {m['ham held (unsure)']:.2f}"
        )
        start = limit
    return lines


def prior_blending(items: list[Item], thresholds: Thresholds) -> str:
    """A new site, no decisions of its own, scored through the instance-wide prior."""
    order = items[:]
    random.Random(7).shuffle(order)  # noqa: S311 - a reproducible order
    test, train = order[: len(order) // 5], order[len(order) // 5 :]
    classifier = SpamClassifier(InMemoryCountStore())
    for item in train:
        classifier.learn("other-site", item.features, item.example.label)
    tally = Tally()
    for item in test:
        result = classifier.score("new-site", item.features)
        tally.add(item, result.score, result.abstained, verdict_for(result, thresholds))
    m = tally.metrics()
    return (
        f"  new site, 0 own decisions: recall {m['spam recall (marked spam)']:.2f}, "
        f"caught {m['spam caught (spam or held)']:.2f}, "
        f"ham FP {m['ham false positives (marked spam)']:.3f}, abstained {m['abstained share']:.0%}"
    )


def sweep(pooled: Tally) -> list[str]:
    """Recall and false positives for other spam thresholds, over the pooled scores."""
    spam = [score for score, label in pooled.scores if label is Label.SPAM]
    ham = [score for score, label in pooled.scores if label is Label.HAM]
    lines = ["  spam threshold   recall   ham FP"]
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99):
        recall = sum(score >= threshold for score in spam) / max(len(spam), 1)
        false = sum(score >= threshold for score in ham) / max(len(ham), 1)
        lines.append(f"  {threshold:>14.2f}   {recall:6.3f}   {false:6.3f}")
    lines.append("  hold threshold   spam held or marked   ham held or marked")
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6):
        caught = sum(score >= threshold for score in spam) / max(len(spam), 1)
        held = sum(score >= threshold for score in ham) / max(len(ham), 1)
        lines.append(f"  {threshold:>14.2f}   {caught:19.3f}   {held:18.3f}")
    return lines


def cost(items: list[Item], repeats: int = 20) -> list[str]:
    """Median microseconds to extract features and to score, per submission."""
    extractor = FeatureExtractor(KEY)
    classifier = SpamClassifier(InMemoryCountStore())
    for item in items:
        classifier.learn(SITE, item.features, item.example.label)
    sample = items[:: max(1, len(items) // 300)]
    extract_times: list[float] = []
    score_times: list[float] = []
    for item in sample:
        runs_extract, runs_score = [], []
        for _ in range(repeats):
            started = time.perf_counter_ns()
            features = extractor.extract(item.example.submission)
            middle = time.perf_counter_ns()
            classifier.score(SITE, features)
            runs_extract.append(middle - started)
            runs_score.append(time.perf_counter_ns() - middle)
        extract_times.append(statistics.median(runs_extract) / 1000)
        score_times.append(statistics.median(runs_score) / 1000)
    both = [a + b for a, b in zip(extract_times, score_times, strict=True)]
    quantiles = statistics.quantiles(both, n=100)
    lengths = statistics.median(len(item.example.submission.text) for item in sample)
    features = statistics.median(len(item.features) for item in sample)
    return [
        f"  {len(sample)} submissions (median {lengths:.0f} characters, {features:.0f} features), "
        f"median of {repeats} runs each",
        f"  extract {statistics.median(extract_times):.0f} µs + score "
        f"{statistics.median(score_times):.0f} µs = {statistics.median(both):.0f} µs median; "
        f"p90 {quantiles[89]:.0f} µs, p99 {quantiles[98]:.0f} µs",
        f"  model: {len(classifier.store)} count rows (in memory here; in the database in service)",  # type: ignore[arg-type]
    ]


def report(name: str, examples: list[Example], args: argparse.Namespace) -> None:
    thresholds = Thresholds(args.hold, args.spam)
    spam = sum(example.label is Label.SPAM for example in examples)
    print(f"\n== {name}: {len(examples)} comments ({spam} spam, {len(examples) - spam} ham)")
    items = extract(examples)
    per_fold, pooled = cross_validate(items, args.seeds, args.folds, thresholds)
    print(
        f"cross-validation: {args.seeds} seeds x {args.folds} folds, "
        f"thresholds hold {thresholds.hold} spam {thresholds.spam}"
    )
    for key in per_fold[0]:
        values = [fold[key] for fold in per_fold]
        print(
            f"  {key:<36} {statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"
            f"  [{min(values):.3f} - {max(values):.3f}]"
        )
    pooled_metrics = pooled.metrics()
    print(
        "  pooled: recall {:.3f}, caught {:.3f}, precision {:.3f}, ham FP {:.4f}".format(
            pooled_metrics["spam recall (marked spam)"],
            pooled_metrics["spam caught (spam or held)"],
            pooled_metrics["precision (marked spam)"],
            pooled_metrics["ham false positives (marked spam)"],
        )
    )
    print("threshold sweep (pooled):")
    print("\n".join(sweep(pooled)))
    print("online, test-then-learn:")
    print("\n".join(online(items, thresholds, args.seeds)))
    print("prior blending:")
    print(prior_blending(items, thresholds))
    print("cost per submission:")
    print("\n".join(cost(items, repeats=5 if args.quick else 20)))
    if args.show_errors:
        print("errors (seed 0): ham marked spam, spam passed")
        for score, item in sorted(pooled.errors, key=lambda error: -error[0]):
            submission = item.example.submission
            print(
                f"  {item.example.label.value:<4} {score:.2f} {item.example.kind:<22} "
                f"{submission.author[:20]!r} {submission.text[:70]!r}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("comments", "spamassassin", "all"), default="all")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--hold", type=float, default=Thresholds().hold)
    parser.add_argument("--spam", type=float, default=Thresholds().spam)
    parser.add_argument("--quick", action="store_true", help="2 seeds, fewer timing runs")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = min(args.seeds, 2)
    if args.corpus in ("comments", "all"):
        report("blog comments (tests/corpus/spam)", load_comments(), args)
    if args.corpus in ("spamassassin", "all"):
        mail = load_spamassassin()
        if mail:
            report("SpamAssassin public corpus (mail as comments)", mail, args)
        else:
            print("\nSpamAssassin corpus not fetched: run bench/spam_fetch_spamassassin.sh")
            if args.corpus == "spamassassin":
                return 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this evaluation process: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
