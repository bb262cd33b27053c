"""The rendering's shortcuts (no "://": nothing to link; no newline: one paragraph) give
exactly what the long way gives, for any text: the stored HTML of a comment does not
depend on which way it took."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.domain.rendering import (
    _link_bare_urls_in_parts,
    _paragraphs_split,
    link_bare_urls,
    paragraphs,
    render_comment,
    sanitize,
)

pytestmark = pytest.mark.any_database

#: Texts made of the characters the two functions look at (URL parts, tags, newlines and
#: other white space) and any other character a comment can hold (no lone surrogates: the
#: doors refuse them before any rendering, tests/test_hostile_input.py).
_TEXTS = st.lists(
    st.sampled_from(
        [
            *"htps:/.aA <>\"'\n\r\t \u00a0\u2028\u2029\x0b\x0c\x1c\x85,;)]!?",
            *("://", "http://", "https://", "HTTPS://x.example", "<a ", "<a>", "</a>", "<b>"),
        ]
    )
    | st.characters(exclude_categories=("Cs",)),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(text=_TEXTS)
def test_linking_without_a_scheme_separator_changes_nothing(text: str) -> None:
    assert link_bare_urls(text) == _link_bare_urls_in_parts(text)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(text=_TEXTS)
def test_a_text_without_a_newline_is_one_paragraph_either_way(text: str) -> None:
    assert paragraphs(text) == _paragraphs_split(text)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(text=_TEXTS)
def test_a_rendered_comment_is_the_same_as_by_the_long_way(text: str) -> None:
    assert render_comment(text) == _paragraphs_split(_link_bare_urls_in_parts(sanitize(text)))


def test_the_shortcuts_leave_links_and_paragraphs_to_the_long_way() -> None:
    """The cases the shortcuts must not take: a URL is linked, blank lines split."""
    assert 'href="https://x.example/a"' in link_bare_urls("see https://x.example/a now")
    assert paragraphs("one\n\ntwo\nthree") == "<p>one</p><p>two<br>three</p>"
    assert paragraphs("  one  ") == "<p>one</p>"
    assert paragraphs(" \t ") == ""
