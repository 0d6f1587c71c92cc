"""Registry of the kinds of temporary production changes a session can make.

`sessions` never imports the apps that make them (flags, log levels, …); each registers a
kind here in its AppConfig.ready(), so resolving a session can switch all of them off.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from sessions.models import DebugSession


@dataclass(frozen=True)
class InterventionKind:
    name: str
    # Ends every still-active intervention of the session (inside the caller's transaction)
    # and returns one line per intervention it ended or asked to end.
    revert_all: Callable[["DebugSession", "AbstractBaseUser | None"], list[str]]
    # One line per intervention not yet verifiably off (still active, reverting, failed).
    remaining: Callable[["DebugSession"], list[str]]
    # Optional: carry out pending reverts now, giving up at the monotonic `deadline`.
    settle: Callable[["DebugSession", float], None] | None = None


_kinds: dict[str, InterventionKind] = {}


def register(kind: InterventionKind) -> None:
    _kinds[kind.name] = kind


def kinds() -> list[InterventionKind]:
    return list(_kinds.values())
