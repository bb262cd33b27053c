"""Comment text to safe HTML: WordPress's way (escaped, its inline tags kept, blank lines
making paragraphs) or CommonMark's, both through the same sanitiser; bare URLs linked."""

from __future__ import annotations

import re
from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from moderation.domain.reading import read_html
from moderation.domain.sites import CommentFormat

#: The tags WordPress lets commenters use, and their attributes.
ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "cite",
    "code",
    "del",
    "em",
    "i",
    "q",
    "s",
    "strike",
    "strong",
    "p",
    "br",
}
#: No ``cite``: it holds a URL whose scheme the sanitiser does not check.
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "del": {"datetime"},
}
LINK_REL = "nofollow ugc noopener noreferrer"
#: Links leave the comments frame: a link followed inside it would replace the widget.
LINK_TARGET = "_blank"

_TAG = re.compile(r"(<[^>]*>)")
_BARE_URL = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)


#: What CommonMark adds that a comment may keep: code blocks and lists (no headings, no
#: images: a comment is not a page, and an image is a tracker).
MARKDOWN_TAGS = ALLOWED_TAGS | {"pre", "ul", "ol", "li"}


def sanitize(text: str, tags: set[str] = ALLOWED_TAGS) -> str:
    """Keep the allowed tags, escape everything else, force safe link attributes."""
    return nh3.clean(
        text,
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": LINK_TARGET}},
        strip_comments=True,
    )


def link_bare_urls(html: str) -> str:
    """Turn URLs in text (not inside a link already) into links."""
    if "://" not in html:
        # every URL linked has "://" (``_BARE_URL``): without one nothing changes, and
        # the split and join below would give ``html`` back (most comments; imports)
        return html
    return _link_bare_urls_in_parts(html)


def _link_bare_urls_in_parts(html: str) -> str:
    """:func:`link_bare_urls` the long way: the text between tags, outside links, linked."""
    parts = _TAG.split(html)
    inside_link = 0
    for index, part in enumerate(parts):
        if part.startswith("<"):
            lowered = part.lower()
            if lowered.startswith("<a ") or lowered == "<a>":
                inside_link += 1
            elif lowered.startswith("</a"):
                inside_link = max(0, inside_link - 1)
        elif not inside_link and part:
            parts[index] = _BARE_URL.sub(
                lambda match: (
                    f'<a href="{match.group(0)}" rel="{LINK_REL}" target="{LINK_TARGET}">'
                    f"{match.group(0)}</a>"
                ),
                part,
            )
    return "".join(parts)


def paragraphs(html: str) -> str:
    """Blank lines separate paragraphs; single newlines become line breaks."""
    if "\n" not in html:
        # one paragraph, no line break: what the split below gives, without it
        block = html.strip()
        return f"<p>{block}</p>" if block else ""
    return _paragraphs_split(html)


def _paragraphs_split(html: str) -> str:
    """:func:`paragraphs` the long way: split at blank lines, newlines to ``<br>``."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", html) if block.strip()]
    return "".join(f"<p>{block.replace(chr(10), '<br>')}</p>" for block in blocks)


def render_comment(text: str) -> str:
    """The HTML stored beside a comment's text and served to readers."""
    return paragraphs(link_bare_urls(sanitize(text)))


def count_links(text: str, comment_format: CommentFormat = CommentFormat.WORDPRESS) -> int:
    """Links a reader of the comment meets: every link of its rendered HTML (however the
    anchor was spelled), plus every address shown as text that is not linked."""
    return read_html(render_text(text, comment_format)).link_count


_MARKDOWN = MarkdownIt("commonmark", {"html": False})


def _image_as_link(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """An image becomes a link to it with its description: no picture loads in a comment
    (a tracker), and the words the commenter wrote stay."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    return f'<a href="{escapeHtml(src)}">{escapeHtml(alt or src)}</a>'


_MARKDOWN.add_render_rule("image", _image_as_link)


def render_markdown(text: str) -> str:
    """The stored HTML of a Markdown text (a Markdown site's comments, comments imported
    from Isso or Commento): raw HTML in it is escaped, and the result goes through the same
    sanitiser as any comment."""
    return link_bare_urls(sanitize(_MARKDOWN.render(text), MARKDOWN_TAGS)).strip()


def render_text(text: str, comment_format: CommentFormat) -> str:
    """The HTML readers get of ``text`` written for a site of ``comment_format``: what is
    stored, previewed, and what the link and word rules judge."""
    if comment_format is CommentFormat.MARKDOWN:
        return render_markdown(text)
    return render_comment(text)
