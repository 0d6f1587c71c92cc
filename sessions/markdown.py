"""Markdown for notes and findings: rendered without raw HTML, then sanitised."""

import re

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})

_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
}  # fmt: skip


def render_markdown(text: str) -> str:
    """Safe HTML for user-written Markdown: no raw HTML, no scripts, no javascript: links."""
    return nh3.clean(
        _md.render(text),
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")


def escape_markdown(text: str) -> str:
    """User text placed inside our Markdown: its own syntax cannot change the structure."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r", "").replace("\n", " ")
