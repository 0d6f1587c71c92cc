from django.utils import timezone

from flags.models import FlagOverride
from sessions import interventions
from sessions.models import DebugSession


def _active_overrides(session: DebugSession) -> int:
    return FlagOverride.objects.filter(
        session=session, reverted_at__isnull=True, expires_at__gt=timezone.now()
    ).count()


def register() -> None:
    from flags.actions import overrides_revert_for_session

    interventions.register(
        interventions.InterventionKind(
            name="flag override",
            revert_all=overrides_revert_for_session,
            active_count=_active_overrides,
        )
    )
