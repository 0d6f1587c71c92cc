"""Panels that other apps add to the session page (flags, log levels, profiles, …).

An app registers a template and a function giving that template's context; the session
page and its live poll render every registered panel. Context values should be lazy:
the checklist fragments of the page are cached, the panels are not.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from sessions.models import DebugSession


@dataclass(frozen=True)
class Panel:
    name: str
    template: str  # "app/page.html#partial"; its root element has a stable id for live swaps
    context: Callable[["DebugSession", "HttpRequest"], dict[str, Any]]
    order: int = 100


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    _panels[panel.name] = panel


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda p: p.order)


def context_for(session: "DebugSession", request: "HttpRequest") -> dict[str, Any]:
    ctx: dict[str, Any] = {"panels": panels()}
    for panel in panels():
        ctx.update(panel.context(session, request))
    return ctx
