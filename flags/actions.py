"""Writes to flags and overrides: each bumps FlagsVersion and, for overrides, records on
the session timeline in the same transaction."""

import re
from datetime import timedelta
from typing import Any

import regex
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from flags.models import Flag, FlagOverride, FlagRule, FlagsVersion, FlagType, Operator
from sessions.actions import ActionError, event_record
from sessions.models import DebugSession

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
ATTRIBUTE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$")
MIN_OVERRIDE_S = 60
MAX_OVERRIDE_S = 24 * 3600
DEFAULT_OVERRIDE_S = 30 * 60
MAX_VALUES = 100
MAX_PATTERN = 200


def flags_changed() -> None:
    """Tell every process its snapshot is stale (call inside the change's transaction)."""
    updated = FlagsVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        FlagsVersion.objects.get_or_create(pk=1, defaults={"version": 1})


def _check_value(flag_type: str, name: str, value: Any) -> None:
    ok = {
        FlagType.BOOLEAN: isinstance(value, bool),
        FlagType.STRING: isinstance(value, str),
        FlagType.NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
        FlagType.OBJECT: isinstance(value, dict | list),
    }[FlagType(flag_type)]
    if not ok:
        raise ActionError(f"Variant {name!r} is not a {flag_type} value.", field="variants")


@transaction.atomic
def flag_create(
    *,
    key: str,
    flag_type: str,
    variants: dict[str, Any],
    default_variant: str,
    description: str = "",
    enabled: bool = True,
) -> Flag:
    if not KEY_RE.match(key or ""):
        raise ActionError(
            "Use letters, digits and . _ : - (up to 100 characters) for the key.", field="key"
        )
    if Flag.objects.filter(key=key).exists():
        raise ActionError(f"A flag {key!r} exists already.", field="key")
    if flag_type not in FlagType.values:
        raise ActionError(f"Unknown type {flag_type!r}.", field="type")
    if not isinstance(variants, dict) or not variants:
        raise ActionError("Give at least one named variant.", field="variants")
    for name, value in variants.items():
        if not KEY_RE.match(name):
            raise ActionError(f"Bad variant name {name!r}.", field="variants")
        _check_value(flag_type, name, value)
    if default_variant not in variants:
        raise ActionError(
            "The default variant must be one of the variants.", field="default_variant"
        )
    flag = Flag.objects.create(
        key=key,
        type=flag_type,
        variants=variants,
        default_variant=default_variant,
        description=description,
        enabled=enabled,
    )
    flags_changed()
    return flag


def validate_condition(*, attribute: str, operator: str, values: list[Any]) -> list[str]:
    if not ATTRIBUTE_RE.match(attribute or ""):
        raise ActionError(
            "The attribute is a context key like targetingKey or email.", field="attribute"
        )
    if operator not in Operator.values:
        raise ActionError(
            f"Unknown operator {operator!r}; use {', '.join(Operator.values)}.", field="operator"
        )
    if not isinstance(values, list) or not values:
        raise ActionError("Give at least one value.", field="values")
    if len(values) > MAX_VALUES:
        raise ActionError(f"At most {MAX_VALUES} values.", field="values")
    texts = [str(v).strip() for v in values]
    if any(not t or len(t) > 200 for t in texts):
        raise ActionError("Values are 1–200 characters each.", field="values")
    if operator in (Operator.EQUALS, Operator.MATCHES) and len(texts) != 1:
        raise ActionError(f"{operator} takes exactly one value.", field="values")
    if operator == Operator.MATCHES:
        if len(texts[0]) > MAX_PATTERN:
            raise ActionError(f"Patterns are limited to {MAX_PATTERN} characters.", field="values")
        try:
            regex.compile(texts[0])
        except regex.error as exc:
            raise ActionError(f"Invalid regular expression: {exc}.", field="values") from exc
    return texts


@transaction.atomic
def flag_rule_add(
    *, flag: Flag, attribute: str, operator: str, values: list[Any], variant: str
) -> FlagRule:
    texts = validate_condition(attribute=attribute, operator=operator, values=values)
    if variant not in flag.variants:
        raise ActionError(f"{flag.key} has no variant {variant!r}.", field="variant")
    order = (flag.rules.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    rule = FlagRule.objects.create(
        flag=flag,
        attribute=attribute,
        operator=operator,
        values=texts,
        variant=variant,
        order=order,
    )
    flags_changed()
    return rule


@transaction.atomic
def flag_set_enabled(*, flag: Flag, enabled: bool) -> Flag:
    Flag.objects.filter(pk=flag.pk).update(enabled=enabled)
    flag.enabled = enabled
    flags_changed()
    return flag


def _duration(duration_s: int) -> timedelta:
    if not MIN_OVERRIDE_S <= duration_s <= MAX_OVERRIDE_S:
        raise ActionError("The duration must be 1 minute – 24 hours.", field="duration_s")
    return timedelta(seconds=duration_s)


@transaction.atomic
def override_create(
    *,
    session: DebugSession,
    flag: Flag,
    variant: str,
    attribute: str,
    operator: str,
    values: list[Any],
    actor: AbstractBaseUser,
    duration_s: int = DEFAULT_OVERRIDE_S,
    reason: str = "",
) -> FlagOverride:
    session = DebugSession.objects.select_for_update().get(pk=session.pk)
    if not session.is_open:
        raise ActionError("The session is resolved; reopen it to change flags.", field="session")
    if variant not in flag.variants:
        raise ActionError(f"{flag.key} has no variant {variant!r}.", field="variant")
    texts = validate_condition(attribute=attribute, operator=operator, values=values)
    lifetime = _duration(duration_s)
    override = FlagOverride.objects.create(
        flag=flag,
        session=session,
        variant=variant,
        attribute=attribute,
        operator=operator,
        values=texts,
        reason=reason.strip()[:500],
        created_by=actor,
        expires_at=timezone.now() + lifetime,
    )
    flags_changed()
    event_record(
        session=session,
        kind="flag.override",
        actor=actor,
        message=f"Flag {flag.key} → {variant} for {override.target} "
        f"for {_human(duration_s)}" + (f": {override.reason}" if override.reason else ""),
        data={"override": override.pk, "flag": flag.key, "variant": variant,
              "expires_at": override.expires_at.isoformat()},
    )  # fmt: skip
    return override


def _human(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


@transaction.atomic
def override_revert(*, override: FlagOverride, actor: AbstractBaseUser | None) -> FlagOverride:
    now = timezone.now()
    ended = FlagOverride.objects.filter(
        pk=override.pk, reverted_at__isnull=True, expires_at__gt=now
    ).update(reverted_at=now, reverted_by=actor, expiry_recorded=True)
    if not ended:
        raise ActionError("This override has already ended.", field="override")
    flags_changed()
    override.refresh_from_db()
    event_record(
        session=override.session,
        kind="flag.revert",
        actor=actor,
        message=f"Reverted flag {override.flag.key} → {override.variant} for {override.target}",
        data={"override": override.pk, "flag": override.flag.key},
    )
    return override


@transaction.atomic
def override_extend(
    *, override: FlagOverride, duration_s: int, actor: AbstractBaseUser
) -> FlagOverride:
    lifetime = _duration(duration_s)
    now = timezone.now()
    current = FlagOverride.objects.select_for_update().get(pk=override.pk)
    if not current.is_active(now):
        raise ActionError("This override has already ended; create a new one.", field="override")
    new_expiry = min(current.expires_at + lifetime, now + timedelta(seconds=MAX_OVERRIDE_S))
    FlagOverride.objects.filter(pk=current.pk).update(expires_at=new_expiry)
    flags_changed()
    current.refresh_from_db()
    event_record(
        session=current.session,
        kind="flag.extend",
        actor=actor,
        message=f"Extended flag {current.flag.key} → {current.variant} for {current.target} "
        f"until {timezone.localtime(new_expiry):%H:%M:%S}",
        data={"override": current.pk, "expires_at": new_expiry.isoformat()},
    )
    return current


def overrides_record_expired() -> int:
    """Beat: put expiries on the timeline. Matching already stopped at expires_at; this
    only records it, once per override, whichever sweeper gets there first."""
    now = timezone.now()
    recorded = 0
    due = FlagOverride.objects.filter(
        reverted_at__isnull=True, expiry_recorded=False, expires_at__lte=now
    ).select_related("flag", "session")
    for override in due:
        with transaction.atomic():
            claimed = FlagOverride.objects.filter(pk=override.pk, expiry_recorded=False).update(
                expiry_recorded=True
            )
            if not claimed:
                continue
            event_record(
                session=override.session,
                kind="flag.expired",
                message=f"Expired: flag {override.flag.key} → {override.variant} for "
                f"{override.target}",
                data={"override": override.pk, "flag": override.flag.key},
            )
            recorded += 1
    return recorded


def overrides_revert_for_session(
    session: DebugSession, actor: AbstractBaseUser | None
) -> list[str]:
    ended = []
    for override in FlagOverride.objects.filter(
        session=session, reverted_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("flag"):
        override_revert(override=override, actor=actor)
        ended.append(f"flag {override.flag.key} → {override.variant} for {override.target}")
    return ended
