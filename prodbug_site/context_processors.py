from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.roles import can_act, can_configure
from prodbug_site.models import Heartbeat


def _revert_failures() -> list[object]:
    from flags.models import LogLevelOverride

    return list(
        LogLevelOverride.objects.filter(state="revert_failed", handled_at__isnull=True)
        .select_related("service")
        .order_by("id")[:10]
    )


def roles(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "can_act": can_act(user),
        "can_configure": can_configure(user),
        "poll_interval_s": settings.PRODBUG_POLL_INTERVAL_S,
        # A callable, so only full pages (which show the banner) pay for the query.
        "worker_stale": Heartbeat.is_stale,
        "revert_failures": _revert_failures,
    }
