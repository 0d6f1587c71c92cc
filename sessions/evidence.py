"""Evidence that ticks checklist items by themselves (CHECKLIST.md, "auto" column).

Rules are registered by name — by this app for sessions' own evidence, by the flags,
services and profiling apps for theirs — and return a description of the evidence, or
None when there is none yet.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sessions.models import DebugSession

Rule = Callable[["DebugSession"], str | None]
_rules: dict[str, Rule] = {}


def register(name: str, rule: Rule) -> None:
    _rules[name] = rule


def rule(name: str) -> Rule | None:
    return _rules.get(name)
