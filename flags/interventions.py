from django.db.models import Q
from django.utils import timezone

from flags.models import FlagOverride, LogLevelOverride
from sessions import evidence, interventions
from sessions.models import DebugSession


def _active_overrides(session: DebugSession) -> list[str]:
    live = FlagOverride.objects.filter(
        session=session, reverted_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("flag")
    return [f"flag {o.flag.key} → {o.variant} for {o.target} is still on" for o in live]


def _live_log_levels(session: DebugSession) -> list[str]:
    # Anything not verifiably back to its old level, including failed reverts.
    rows = (
        LogLevelOverride.objects.filter(session=session)
        .filter(
            Q(state__in=["pending", "applied"]) | Q(state="revert_failed", handled_at__isnull=True)
        )
        .select_related("service")
    )
    return [
        f"log level {o.level} for {o.logger} on {o.service.name}: "
        + (f"revert failed ({o.error})" if o.state == "revert_failed" else f"{o.state}, reverting")
        for o in rows
    ]


def _settle_log_levels(session: DebugSession, deadline: float) -> None:
    from flags.actions import loglevel_settle

    loglevel_settle(session=session, deadline=deadline)


def _flag_override_applied(session: DebugSession) -> str | None:
    o = session.flag_overrides.select_related("flag").order_by("id").first()
    return f"flag {o.flag.key} → {o.variant} for {o.target}" if o else None


def _no_active_flag_override(session: DebugSession) -> str | None:
    if not session.flag_overrides.exists() or _active_overrides(session):
        return None
    return "every flag override of this session has ended"


def _log_level_applied(session: DebugSession) -> str | None:
    o = (
        session.log_overrides.filter(applied_at__isnull=False)
        .select_related("service")
        .order_by("id")
        .first()
    )
    return f"{o.level} applied to {o.logger} on {o.service.name}" if o else None


def _log_levels_restored(session: DebugSession) -> str | None:
    applied = session.log_overrides.filter(applied_at__isnull=False)
    if not applied.exists() or applied.exclude(state="reverted", verified=True).exists():
        return None
    if session.log_overrides.filter(state="pending").exists():
        return None
    return f"{applied.count()} log-level change(s) reverted and verified"


def register() -> None:
    from flags.actions import loglevels_revert_for_session, overrides_revert_for_session

    evidence.register("flag_override_applied", _flag_override_applied)
    evidence.register("no_active_flag_override", _no_active_flag_override)
    evidence.register("log_level_applied", _log_level_applied)
    evidence.register("log_levels_restored", _log_levels_restored)

    interventions.register(
        interventions.InterventionKind(
            name="flag override",
            revert_all=overrides_revert_for_session,
            remaining=_active_overrides,
        )
    )
    interventions.register(
        interventions.InterventionKind(
            name="log level",
            revert_all=loglevels_revert_for_session,
            remaining=_live_log_levels,
            settle=_settle_log_levels,
        )
    )
