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


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#|~])")
_LINE_START = re.compile(r"^(\s*)([-+!]|\d+(?=[.)]))")


def escape_markdown(text: str) -> str:
    """User text placed inside our Markdown: its own syntax cannot change the structure.
    Newlines become spaces; a leading list or heading marker is escaped too."""
    flat = _MD_SPECIAL.sub(r"\\\1", text).replace("\r", "").replace("\n", " ")
    if match := _LINE_START.match(flat):
        lead, marker = match.groups()
        if marker[0].isdigit():  # "1." is escaped as "1\."
            return f"{lead}{marker}\\{flat[match.end()]}{flat[match.end() + 1 :]}"
        return f"{lead}\\{marker}{flat[match.end() :]}"
    return flat
