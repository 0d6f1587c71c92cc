"""Writes to flags and overrides: each bumps FlagsVersion and, for overrides, records on
the session timeline in the same transaction."""

import asyncio
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import regex
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from flags import loglevels
from flags.models import (
    Flag,
    FlagOverride,
    FlagRule,
    FlagsVersion,
    FlagType,
    LogLevelOverride,
    Operator,
)
from prodbug_site.aio import run_sync
from services.models import Service
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


# --- Log-level overrides -----------------------------------------------------------------

LOGGER_RE = re.compile(r"^[A-Za-z0-9_.$\-]{1,200}$")
MIN_LOG_S = 60
MAX_LOG_S = 4 * 3600
DEFAULT_LOG_S = 15 * 60
LEASE = timedelta(seconds=60)
MAX_BACKOFF_S = 300
# A pending row no worker applied within this time is applied by the sweeper.
STALE_PENDING = timedelta(seconds=30)


def _log_duration(duration_s: int) -> timedelta:
    if not MIN_LOG_S <= duration_s <= MAX_LOG_S:
        raise ActionError("The duration must be 1 minute – 4 hours.", field="duration_s")
    return timedelta(seconds=duration_s)


def _lls(o: LogLevelOverride) -> str:
    return f"{o.logger} on {o.service.name}"


@transaction.atomic
def loglevel_create(
    *,
    session: DebugSession,
    service: Service,
    logger: str,
    level: str,
    actor: AbstractBaseUser,
    duration_s: int = DEFAULT_LOG_S,
    reason: str = "",
) -> LogLevelOverride:
    """Validate and record; a worker applies it (nothing is sent to the service here)."""
    session = DebugSession.objects.select_for_update().get(pk=session.pk)
    if not session.is_open:
        raise ActionError(
            "The session is resolved; reopen it to change log levels.", field="session"
        )
    if not LOGGER_RE.match(logger or ""):
        raise ActionError(
            "A logger name is 1–200 characters: letters, digits and . _ - $ (no spaces).",
            field="logger",
        )
    allowed = loglevels.levels_for(service.log_level_protocol)
    level = (level or "").upper()
    if level not in allowed:
        raise ActionError(
            f"{level or 'empty'} is not a level for {service.log_level_protocol}: use "
            f"{', '.join(allowed)}.",
            field="level",
        )
    lifetime = _log_duration(duration_s)
    busy = LogLevelOverride.objects.filter(
        service=service, logger=logger, state__in=["pending", "applied", "revert_failed"]
    ).exclude(state="revert_failed", handled_at__isnull=False)
    if busy.exists():
        raise ActionError(
            f"{logger} on {service.name} already has a live override; revert or extend it.",
            field="logger",
        )
    override = LogLevelOverride.objects.create(
        session=session,
        service=service,
        logger=logger,
        level=level,
        reason=reason.strip()[:500],
        created_by=actor,
        expires_at=timezone.now() + lifetime,
    )
    event_record(
        session=session,
        kind="loglevel.requested",
        actor=actor,
        message=f"Requested {level} for {_lls(override)} for {_human(duration_s)}"
        + (f": {override.reason}" if override.reason else ""),
        data={"override": override.pk, "service": service.slug, "logger": logger, "level": level},
    )
    from flags.tasks import apply_log_level

    transaction.on_commit(lambda: apply_log_level.delay(override.pk))
    return override


def _claim(override_id: int, *states: str) -> LogLevelOverride | None:
    """Take the row for one worker; None when another holds it or it moved on."""
    now = timezone.now()
    claimed = (
        LogLevelOverride.objects.filter(pk=override_id, state__in=states)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    if not claimed:
        return None
    return LogLevelOverride.objects.select_related("service", "session").get(pk=override_id)


def _endpoint(o: LogLevelOverride) -> loglevels.Endpoint:
    return loglevels.Endpoint(
        protocol=o.service.log_level_protocol,
        base_url=o.service.base_url,
        token=o.service.admin_token(),
        logger=o.logger,
    )


@dataclass
class _Outcome:
    ok: bool
    previous: loglevels.Reading | None = None
    seen: dict[str, int] = field(default_factory=dict)
    error: str = ""


async def _apply(endpoint: loglevels.Endpoint, level: str) -> _Outcome:
    """`previous` is set on a failure once the write was attempted: it may have landed."""
    async with loglevels.client() as client:
        try:
            previous = await endpoint.read(client)
        except loglevels.TargetError as exc:
            return _Outcome(False, error=str(exc))
        try:
            await endpoint.write(client, level)
            seen = await endpoint.read_back(client)
        except loglevels.TargetError as exc:
            return _Outcome(False, previous, error=str(exc))
    return _Outcome(True, previous, dict(seen))


def loglevel_apply(*, override_id: int) -> LogLevelOverride | None:
    """Read the current level, set the new one, read back several times. Idempotent: only a
    pending row is applied, by one worker."""
    o = _claim(override_id, LogLevelOverride.State.PENDING)
    if o is None:
        return None
    if o.expires_at <= timezone.now() or o.revert_requested_at:
        with transaction.atomic():
            LogLevelOverride.objects.filter(pk=o.pk).update(
                state="failed", error="Ended before it was applied: nothing was changed.",
                lease_until=None,
            )  # fmt: skip
            event_record(
                session=o.session, kind="loglevel.failed",
                message=f"Not applied: {_lls(o)} ended before a worker applied it",
                data={"override": o.pk},
            )  # fmt: skip
        return o
    result = run_sync(lambda: _apply(_endpoint(o), o.level))
    now = timezone.now()
    with transaction.atomic():
        if not result.ok and result.previous is None:
            # Nothing was sent: the level is as it was.
            LogLevelOverride.objects.filter(pk=o.pk).update(
                state="failed", error=result.error, lease_until=None
            )
            event_record(
                session=o.session, kind="loglevel.failed",
                message=f"Failed to set {o.level} for {_lls(o)}: {result.error}",
                data={"override": o.pk, "error": result.error},
            )  # fmt: skip
        elif not result.ok:
            # The write may have landed: treat it as applied and ask for the revert now, so
            # the sweeper restores and verifies the old level (or raises the banner).
            previous = result.previous
            assert previous is not None
            LogLevelOverride.objects.filter(pk=o.pk).update(
                state="applied", previous_level=previous.configured,
                previous_effective=previous.effective, applied_at=now, revert_requested_at=now,
                error=result.error, lease_until=None,
            )  # fmt: skip
            event_record(
                session=o.session, kind="loglevel.failed",
                message=f"Failed to set {o.level} for {_lls(o)}: {result.error} — restoring "
                f"{previous.effective} to be safe",
                data={"override": o.pk, "error": result.error, "previous": previous.configured},
            )  # fmt: skip
            transaction.on_commit(_sweep_now)
        else:
            previous = result.previous
            assert previous is not None
            matching = result.seen.get(o.level, 0)
            partial = matching < sum(result.seen.values())
            LogLevelOverride.objects.filter(pk=o.pk).update(
                state="applied",
                previous_level=previous.configured,
                previous_effective=previous.effective,
                partial=partial,
                applied_at=now,
                lease_until=None,
            )
            reads = ", ".join(f"{n}× {lvl}" for lvl, n in sorted(result.seen.items()))
            event_record(
                session=o.session,
                kind="loglevel.partial" if partial else "loglevel.applied",
                message=(
                    f"Partially applied {o.level} for {_lls(o)}: read-backs answered {reads} "
                    "(some workers did not take the change)"
                    if partial
                    else f"Applied {o.level} for {_lls(o)} (was {previous.effective}; "
                    f"verified by {sum(result.seen.values())} read-backs)"
                ),
                data={"override": o.pk, "previous": previous.configured, "reads": result.seen},
            )
    o.refresh_from_db()
    return o


async def _revert(endpoint: loglevels.Endpoint, restore: str | None, expect: str) -> _Outcome:
    async with loglevels.client() as client:
        try:
            await endpoint.write(client, restore)
            seen = await endpoint.read_back(client)
        except loglevels.TargetError as exc:
            return _Outcome(False, error=str(exc))
    if set(seen) != {expect}:
        reads = ", ".join(f"{n}× {lvl}" for lvl, n in sorted(seen.items()))
        return _Outcome(False, seen=dict(seen), error=f"read-backs answered {reads}, not {expect}")
    return _Outcome(True, seen=dict(seen))


async def _revert_many(jobs: list[tuple[loglevels.Endpoint, str | None, str]]) -> list[_Outcome]:
    limit = asyncio.Semaphore(20)

    async def one(job: tuple[loglevels.Endpoint, str | None, str]) -> _Outcome:
        async with limit:
            return await _revert(*job)

    return list(await asyncio.gather(*(one(job) for job in jobs)))


def _restore_target(o: LogLevelOverride) -> tuple[str | None, str]:
    """What to write back, and what the read-back must then show."""
    return o.previous_level, o.previous_effective or (o.previous_level or "")


def _sweep_now() -> None:
    from flags.tasks import revert_due_log_levels  # tasks import this module

    revert_due_log_levels.delay()


def loglevel_settle(*, session: DebugSession, deadline: float) -> None:
    """Resolution: revert this session's requested overrides now and wait (until the
    monotonic `deadline`) for any a sweeper is already reverting."""
    loglevel_revert_due(session=session)
    while time.monotonic() < deadline:
        busy = LogLevelOverride.objects.filter(
            session=session, state="applied", revert_requested_at__isnull=False
        )
        if not busy.exists():
            return
        time.sleep(0.2)
        loglevel_revert_due(session=session)


def loglevel_revert_due(*, session: DebugSession | None = None) -> int:
    """Beat: revert every applied override that expired or was asked to end, and retry
    failed reverts whose backoff is over. Claims each row first: two sweepers never revert
    the same row twice. Returns how many it reverted."""
    now = timezone.now()
    # Pending rows a worker never picked up (lost task, restarted worker).
    for stale in LogLevelOverride.objects.filter(
        state="pending", created_at__lt=now - STALE_PENDING
    ).values_list("pk", flat=True):
        loglevel_apply(override_id=stale)
    due = LogLevelOverride.objects.filter(
        Q(state="applied", expires_at__lte=now)
        | Q(state="applied", revert_requested_at__isnull=False)
        | Q(state="revert_failed", handled_at__isnull=True, next_attempt_at__lte=now)
    )
    if session is not None:
        due = due.filter(session=session)
    due = due.values_list("pk", flat=True)
    claimed = [o for pk in due if (o := _claim(pk, "applied", "revert_failed")) is not None]
    if not claimed:
        return 0
    jobs = [(_endpoint(o), *_restore_target(o)) for o in claimed]
    results = run_sync(lambda: _revert_many(jobs))
    reverted = 0
    for o, result in zip(claimed, results, strict=True):
        restore, expect = _restore_target(o)
        with transaction.atomic():
            if result.ok:
                LogLevelOverride.objects.filter(pk=o.pk).update(
                    state="reverted", verified=True, reverted_at=timezone.now(), error="",
                    lease_until=None,
                )  # fmt: skip
                reverted += 1
                event_record(
                    session=o.session, kind="loglevel.reverted",
                    message=f"Reverted {_lls(o)} to {expect} (verified by read-back)"
                    + (f" after {o.revert_attempts} failed attempts" if o.revert_attempts else ""),
                    data={"override": o.pk, "restored": restore},
                )  # fmt: skip
            else:
                attempts = o.revert_attempts + 1
                backoff = min(5 * 2 ** (attempts - 1), MAX_BACKOFF_S)
                LogLevelOverride.objects.filter(pk=o.pk).update(
                    state="revert_failed", error=result.error, revert_attempts=attempts,
                    next_attempt_at=timezone.now() + timedelta(seconds=backoff), lease_until=None,
                )  # fmt: skip
                if attempts == 1 or attempts % 10 == 0:  # no timeline flood while retrying
                    event_record(
                        session=o.session, kind="loglevel.revert_failed",
                        message=f"Could not revert {_lls(o)} to {expect}: {result.error} — "
                        f"retrying (attempt {attempts}, next in {backoff} s)",
                        data={"override": o.pk, "error": result.error, "attempts": attempts},
                    )  # fmt: skip
    return reverted


@transaction.atomic
def loglevel_revert_request(
    *, override: LogLevelOverride, actor: AbstractBaseUser | None
) -> LogLevelOverride:
    """End early: the sweeper reverts it right away (and retries if the service is down)."""
    now = timezone.now()
    o = LogLevelOverride.objects.select_for_update().select_related("service").get(pk=override.pk)
    if o.state == "pending":
        # Not applied yet: make sure it never is.
        o.state, o.error = "failed", "Reverted before it was applied: nothing was changed."
        o.save(update_fields=["state", "error"])
    elif o.state == "applied" and o.revert_requested_at is None:
        o.revert_requested_at, o.revert_requested_by = now, actor
        o.save(update_fields=["revert_requested_at", "revert_requested_by"])
    else:
        raise ActionError("This override is not live any more.", field="override")
    event_record(
        session=o.session, kind="loglevel.revert_requested", actor=actor,
        message=f"Revert requested for {_lls(o)}",
        data={"override": o.pk},
    )  # fmt: skip
    transaction.on_commit(_sweep_now)
    return o


@transaction.atomic
def loglevel_extend(
    *, override: LogLevelOverride, duration_s: int, actor: AbstractBaseUser
) -> LogLevelOverride:
    lifetime = _log_duration(duration_s)
    now = timezone.now()
    o = LogLevelOverride.objects.select_for_update().select_related("service").get(pk=override.pk)
    if not o.is_live or o.expires_at <= now or o.revert_requested_at:
        raise ActionError("This override has ended; create a new one.", field="override")
    o.expires_at = min(o.expires_at + lifetime, now + timedelta(seconds=MAX_LOG_S))
    o.save(update_fields=["expires_at"])
    event_record(
        session=o.session, kind="loglevel.extended", actor=actor,
        message=f"Extended {o.level} for {_lls(o)} until "
        f"{timezone.localtime(o.expires_at):%H:%M:%S}",
        data={"override": o.pk, "expires_at": o.expires_at.isoformat()},
    )  # fmt: skip
    return o


@transaction.atomic
def loglevel_mark_handled(*, override: LogLevelOverride, actor: AbstractBaseUser) -> None:
    updated = LogLevelOverride.objects.filter(
        pk=override.pk, state="revert_failed", handled_at__isnull=True
    ).update(handled_at=timezone.now(), handled_by=actor)
    if not updated:
        raise ActionError("Only a failed revert can be marked handled.", field="override")
    o = LogLevelOverride.objects.select_related("service", "session").get(pk=override.pk)
    event_record(
        session=o.session, kind="loglevel.handled", actor=actor,
        message=f"Marked handled: {_lls(o)} could not be reverted by Prodbug "
        f"(last error: {o.error}); retries stopped",
        data={"override": o.pk},
    )  # fmt: skip


def loglevels_revert_for_session(
    session: DebugSession, actor: AbstractBaseUser | None
) -> list[str]:
    ended = []
    for o in LogLevelOverride.objects.filter(
        session=session, state__in=["pending", "applied"], revert_requested_at__isnull=True
    ).select_related("service"):
        loglevel_revert_request(override=o, actor=actor)
        ended.append(f"log level {o.level} for {_lls(o)}")
    return ended
