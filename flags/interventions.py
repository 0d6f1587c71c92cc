from django.db.models import Q
from django.utils import timezone

from flags.models import FlagOverride, LogLevelOverride
from sessions import interventions
from sessions.models import DebugSession


def _active_overrides(session: DebugSession) -> int:
    return FlagOverride.objects.filter(
        session=session, reverted_at__isnull=True, expires_at__gt=timezone.now()
    ).count()


def _live_log_levels(session: DebugSession) -> int:
    # Anything not verifiably back to its old level counts, including failed reverts.
    return (
        LogLevelOverride.objects.filter(session=session)
        .filter(
            Q(state__in=["pending", "applied"]) | Q(state="revert_failed", handled_at__isnull=True)
        )
        .count()
    )


def register() -> None:
    from flags.actions import loglevels_revert_for_session, overrides_revert_for_session

    interventions.register(
        interventions.InterventionKind(
            name="flag override",
            revert_all=overrides_revert_for_session,
            active_count=_active_overrides,
        )
    )
    interventions.register(
        interventions.InterventionKind(
            name="log level",
            revert_all=loglevels_revert_for_session,
            active_count=_live_log_levels,
        )
    )
