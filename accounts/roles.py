"""The three roles, as Django groups: viewer reads, responder acts, admin configures.

Any active logged-in user may read; a user in no group is a viewer.
"""

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"


def _group_names(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    # Cached on the user object: one query per request, however many checks a page makes.
    cached = getattr(user, "_prodbug_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))  # type: ignore[union-attr]
        user._prodbug_groups = cached  # type: ignore[union-attr]
    return cached


def can_view(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_act(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not can_view(user):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return bool(_group_names(user) & {Role.RESPONDER, Role.ADMIN})


def can_configure(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not can_view(user):
        return False
    return bool(getattr(user, "is_superuser", False) or Role.ADMIN in _group_names(user))
