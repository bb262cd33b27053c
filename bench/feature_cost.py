#!/usr/bin/env python3
"""What the spam features cost in CPU per comment: the helper process's work in an import.

    python bench/gen_import_files.py 20000 --out /tmp/import-files --formats wxr
    python bench/feature_cost.py /tmp/import-files/comments.wxr [--runs 7] [--profile]

Two sets of texts: the comments of an import file (read and cleaned as ``moderation
import`` reads and cleans them, the ones that teach the classifier: approved and spam),
and the project's blog-comment corpus (``tests/corpus/spam``, as ``spam_evaluate.py``
uses it). Each run starts cold, as an import does (a new extractor, every cache of the
spam package emptied), and goes through the whole set once: ``extract`` per comment, then
the same again through ``batch.lessons`` in batches of 1,000 (what the helper does:
features, their sorted join, the summed counts). CPU time (``time.process_time``), not
wall time: the machine is shared. Prints the median over the runs with the spread (min to
max) and the load average; ``--profile`` prints a cProfile of one extra run instead.

To compare two versions, run the same command with ``PYTHONPATH`` naming an extracted copy
of the other (``git archive COMMIT | tar -x -C /tmp/before``).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # last: PYTHONPATH wins

import moderation
from bench.spam_corpora import load_comments
from moderation.domain import websites
from moderation.domain.spam import batch, classifier, features, text
from moderation.domain.spam.batch import Lesson
from moderation.domain.spam.features import FeatureExtractor, Submission
from moderation.porting import read
from moderation.porting.records import CommentRecord
from moderation.services.import_fields import cleaned_fields

KEY = b"bench-spam-feature-key-0123456789"
BATCH = 1_000
#: A comment's status as it teaches the classifier (the import's ``LABELS``).
LABELS = {"approved": "ham", "spam": "spam"}


def import_lessons(path: Path) -> list[Lesson]:
    """The lessons an import of ``path`` (WXR) hands its helper, in order."""
    now = datetime.now(UTC)
    found: list[Lesson] = []
    for item in read("wxr", path):
        if not isinstance(item, CommentRecord):
            continue
        row = cleaned_fields(item, now)
        label = LABELS.get(str(row["status"]))
        if label is not None:
            is_reply = item.parent_source_id is not None
            found.append(
                (
                    row["text"],
                    row["author"],
                    row["email"],
                    row["url"],
                    is_reply,
                    row["ip_truncated"],
                    label,
                )
            )
    return found


def corpus_lessons() -> list[Lesson]:
    """The blog-comment corpus as lessons."""
    return [
        (s.text, s.author, s.email, s.url, s.is_reply, s.network, example.label.value)
        for example in load_comments()
        for s in [example.submission]
    ]


def forget_everything() -> None:
    """Empty every function cache of the modules the features use: each run starts cold."""
    for module in (features, text, batch, classifier, websites):
        for value in vars(module).values():
            clear = getattr(value, "cache_clear", None)  # what functools' caches have
            if callable(clear):
                clear()


def extract_all(lessons: Sequence[Lesson]) -> None:
    """Every lesson's features, by a new extractor (nothing remembered in it)."""
    extractor = FeatureExtractor(KEY)
    for text_, author, email, url, is_reply, network, _ in lessons:
        extractor.extract(Submission(text_, author, email, url, is_reply, network))


def lessons_all(lessons: Sequence[Lesson]) -> None:
    """The lessons' features and counts, a batch at a time, as an import's helper does."""
    extractor = FeatureExtractor(KEY)
    for start in range(0, len(lessons), BATCH):
        batch.lessons(extractor, 1, lessons[start : start + BATCH])


def cpu_per_comment(work: Callable[[Sequence[Lesson]], None], lessons: Sequence[Lesson]) -> float:
    """Microseconds of CPU per comment for one cold pass of ``work``."""
    forget_everything()
    started = time.process_time()
    work(lessons)
    return (time.process_time() - started) / len(lessons) * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wxr", type=Path, help="an import file (gen_import_files.py)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile one run of each set")
    args = parser.parse_args(argv)
    sets = {"import texts": import_lessons(args.wxr), "blog corpus": corpus_lessons()}
    print(f"moderation from {Path(moderation.__file__).parent}")
    if args.profile:
        for name, lessons in sets.items():
            print(f"\n== {name}")
            forget_everything()
            profile = cProfile.Profile()
            profile.runcall(lessons_all, lessons)
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        return 0
    print(f"load average at start: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    for name, lessons in sets.items():
        for label, work in (("extract", extract_all), ("lessons", lessons_all)):
            times = [cpu_per_comment(work, lessons) for _ in range(args.runs)]
            print(
                f"{name:>13} ({len(lessons):,} comments) {label:>8}: "
                f"{statistics.median(times):6.1f} µs a comment "
                f"({min(times):.1f}-{max(times):.1f}, {args.runs} cold runs)"
            )
    print(f"load average at end: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
