"""The pure rules, without an app: status machine, fields, rules, privacy, rendering."""

from __future__ import annotations

import pytest

from moderation.domain import comments, privacy, rendering, rules, sites, status
from moderation.domain.comments import CommentDraft, FieldError
from moderation.domain.errors import Conflict, InvalidInput
from moderation.domain.rules import Outcome, Rule, Signals, SiteRules
from moderation.domain.sites import SitePolicy
from moderation.domain.status import CommentStatus as S
from moderation.domain.status import ModerationAction as A

pytestmark = pytest.mark.any_database

DRAFT = CommentDraft(text="Nice post", author="Ann", email="ann@example.com")


@pytest.mark.parametrize(
    ("current", "action", "expected"),
    [
        (S.PENDING, A.APPROVE, S.APPROVED),
        (S.PENDING, A.REJECT, S.REJECTED),
        (S.PENDING, A.SPAM, S.SPAM),
        (S.PENDING, A.DELETE, S.DELETED),
        (S.APPROVED, A.REJECT, S.REJECTED),
        (S.APPROVED, A.SPAM, S.SPAM),
        (S.APPROVED, A.DELETE, S.DELETED),
        (S.REJECTED, A.APPROVE, S.APPROVED),
        (S.REJECTED, A.RESTORE, S.APPROVED),
        (S.REJECTED, A.DELETE, S.DELETED),
        (S.SPAM, A.APPROVE, S.APPROVED),
        (S.SPAM, A.RESTORE, S.APPROVED),
        (S.SPAM, A.DELETE, S.DELETED),
    ],
)
def test_allowed_transitions(current: S, action: A, expected: S) -> None:
    assert status.target_of(action, current) is expected


@pytest.mark.parametrize(
    ("current", "action", "message"),
    [
        (S.DELETED, A.APPROVE, "This comment is deleted; it can no longer be approved."),
        (
            S.DELETED,
            A.RESTORE,
            "Only rejected or spam comments can be restored; this one is deleted.",
        ),
        (S.APPROVED, A.APPROVE, "This comment is approved; it cannot be approved."),
        (
            S.PENDING,
            A.RESTORE,
            "Only rejected or spam comments can be restored; this one is pending.",
        ),
        (S.REJECTED, A.REJECT, "This comment is rejected; it cannot be rejected."),
        (S.SPAM, A.REJECT, "This comment is spam; it cannot be rejected."),
    ],
)
def test_refused_transitions(current: S, action: A, message: str) -> None:
    with pytest.raises(Conflict) as error:
        status.target_of(action, current)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("current", "actions"),
    [
        (S.PENDING, [A.APPROVE, A.REJECT, A.SPAM, A.DELETE]),
        (S.APPROVED, [A.REJECT, A.SPAM, A.DELETE]),
        # one "restore", not "approve" too: they make the same move
        (S.REJECTED, [A.RESTORE, A.DELETE]),
        (S.SPAM, [A.RESTORE, A.DELETE]),
        (S.DELETED, []),
    ],
)
def test_available_actions(current: S, actions: list[A]) -> None:
    assert status.available_actions(current) == actions


def test_every_status_has_a_row() -> None:
    assert set(status.TRANSITIONS) == set(S)


def decide(draft: CommentDraft = DRAFT, **kwargs: object) -> rules.Decision:
    site = {key: value for key, value in kwargs.items() if key in SiteRules.__dataclass_fields__}
    signals = {key: value for key, value in kwargs.items() if key in Signals.__dataclass_fields__}
    return rules.decide(draft, SiteRules(**site), Signals(**signals))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("draft", "settings", "outcome", "rule", "reason"),
    [
        (DRAFT, {}, Outcome.HOLD, Rule.PREMODERATION, "reviews every comment"),
        (DRAFT, {"policy": SitePolicy.OPEN}, Outcome.PUBLISH, Rule.OPEN_POLICY, "publishes"),
        (DRAFT, {"policy": SitePolicy.TRUSTED}, Outcome.HOLD, Rule.FIRST_COMMENT, "first comment"),
        (
            DRAFT,
            {"policy": SitePolicy.TRUSTED, "author_has_approved_comment": True},
            Outcome.PUBLISH,
            Rule.TRUSTED_AUTHOR,
            "already has an approved comment",
        ),
        (
            DRAFT,
            {"honeypot_filled": True, "policy": SitePolicy.OPEN},
            Outcome.SPAM,
            Rule.HONEYPOT,
            "honeypot",
        ),
        (DRAFT, {"fill_seconds": 1.2}, Outcome.SPAM, Rule.TOO_FAST, "1.2 s after it was shown"),
        (
            DRAFT,
            {"fill_seconds": 3.5, "policy": SitePolicy.OPEN},
            Outcome.PUBLISH,
            Rule.OPEN_POLICY,
            "",
        ),
        (
            DRAFT,
            {"is_duplicate": True},
            Outcome.REFUSE,
            Rule.DUPLICATE,
            "Duplicate comment detected",
        ),
        (DRAFT, {"flood_wait_seconds": 9}, Outcome.REFUSE, Rule.FLOOD, "too quickly"),
        (
            CommentDraft("Buy CASINO chips", "Ann", "a@example.com"),
            {"blocked_words": ("casino",), "policy": SitePolicy.OPEN},
            Outcome.SPAM,
            Rule.BLOCKED_WORDS,
            "'casino'",
        ),
        (
            CommentDraft("hi", "Casino Bob", "a@example.com"),
            {"blocked_words": ("casino",)},
            Outcome.SPAM,
            Rule.BLOCKED_WORDS,
            "'casino'",
        ),
        (
            CommentDraft(
                "a http://a.example b http://b.example c http://c.example", "Ann", "a@example.com"
            ),
            {"policy": SitePolicy.OPEN},
            Outcome.HOLD,
            Rule.TOO_MANY_LINKS,
            "Contains 3 links",
        ),
        (
            CommentDraft("two http://a.example http://b.example", "Ann", "a@example.com"),
            {"policy": SitePolicy.OPEN},
            Outcome.PUBLISH,
            Rule.OPEN_POLICY,
            "",
        ),
        (
            CommentDraft(
                '<a href="https://x.example">x</a> http://y.example', "Ann", "a@example.com"
            ),
            {"policy": SitePolicy.OPEN, "max_links": 1},
            Outcome.HOLD,
            Rule.TOO_MANY_LINKS,
            "more than 1",
        ),
        (
            CommentDraft("about viagra", "Ann", "a@example.com"),
            {"moderation_words": ("viagra",), "policy": SitePolicy.OPEN},
            Outcome.HOLD,
            Rule.MODERATION_WORDS,
            "'viagra'",
        ),
    ],
)
def test_rules(
    draft: CommentDraft, settings: dict[str, object], outcome: Outcome, rule: Rule, reason: str
) -> None:
    decision = decide(draft, **settings)
    assert (decision.outcome, decision.rule) == (outcome, rule)
    assert reason in decision.reason


def test_flood_refusal_carries_the_wait() -> None:
    decision = decide(flood_wait_seconds=12)
    assert decision.retry_after == 12
    assert decision.reason % decision.params == (
        "You are posting comments too quickly. Please wait 12 seconds and try again."
    )


def test_honeypot_wins_over_everything() -> None:
    decision = decide(honeypot_filled=True, is_duplicate=True, flood_wait_seconds=5)
    assert decision.rule is Rule.HONEYPOT


@pytest.mark.parametrize(
    ("address", "truncated", "limited_as"),
    [
        ("203.0.113.77", "203.0.113.0/24", "203.0.113.77"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.9", "198.51.100.0/24", "198.51.100.9"),
        ("not an ip", "", "not an ip"),
    ],
)
def test_addresses_are_truncated_and_ipv6_limited_per_64(
    address: str, truncated: str, limited_as: str
) -> None:
    assert privacy.truncate_ip(address) == truncated
    assert privacy.rate_limit_address(address) == limited_as


def test_avatar_keys_need_the_secret() -> None:
    one = privacy.avatar_key(b"secret-1", 1, "Ann@example.com")
    assert one == privacy.avatar_key(b"secret-1", 1, "ann@example.com ")
    assert one != privacy.avatar_key(b"secret-2", 1, "ann@example.com")
    assert one != privacy.avatar_key(b"secret-1", 2, "ann@example.com"), "scoped per site"
    import hashlib

    assert one not in hashlib.md5(b"ann@example.com").hexdigest()  # noqa: S324


@pytest.mark.parametrize(
    ("cleaner", "value", "expected"),
    [
        (comments.clean_author, " Ann \t Example ", "Ann Example"),
        (comments.clean_author, "Ann\u202eelpmaxE", "AnnelpmaxE"),
        (comments.clean_text, "a\r\nb\x00c", "a\nbc"),
        (comments.clean_email, "Ann@EXAMPLE.com", "Ann@example.com"),
        (comments.clean_url, "example.com", "https://example.com"),
        (comments.clean_url, "", ""),
        (comments.clean_parent, "0", None),
        (comments.clean_parent, "", None),
        (comments.clean_parent, "42", 42),
    ],
)
def test_field_cleaners(cleaner: object, value: str, expected: object) -> None:
    assert cleaner(value) == expected  # type: ignore[operator]


@pytest.mark.parametrize(
    "email",
    [
        "plainaddress",
        "@no-local.example",
        "two@@at.example",
        "space in@example.com",
        "a@b",
        "a@-x.example",
    ],
)
def test_invalid_emails(email: str) -> None:
    with pytest.raises(FieldError):
        comments.clean_email(email)


def test_validate_draft_reports_every_field() -> None:
    with pytest.raises(InvalidInput) as error:
        comments.validate_draft({"comment": " ", "author": "", "email": "x", "url": "ftp://x"})
    assert set(error.value.field_errors) == {"comment", "author", "email", "url"}


@pytest.mark.parametrize(
    ("origin", "normalised"),
    [
        ("HTTPS://Blog.Example.com:443/", "https://blog.example.com"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_origins_are_normalised(origin: str, normalised: str) -> None:
    assert sites.clean_origin(origin) == normalised


def test_rendering_counts_links_like_wordpress() -> None:
    assert rendering.count_links('see <a href="x">x</a> and https://y.example') == 2
    assert rendering.render_comment("a\n\nb\nc") == "<p>a</p><p>b<br>c</p>"
