"""Thin Celery wrappers: load by id, call one action."""

from celery import shared_task

from services.actions import RUN_MARGIN_S, health_run_execute, health_run_fail_stale
from services.models import HealthRun
from sessions import actions
from sessions.models import DebugSession, Status

# Longest check timeout (10 s) + margin; the hard limit kills a worker stuck past it.
HEALTH_SOFT_LIMIT_S = 10 + RUN_MARGIN_S + 2
HEALTH_HARD_LIMIT_S = HEALTH_SOFT_LIMIT_S + 5


@shared_task(
    ignore_result=True, soft_time_limit=HEALTH_SOFT_LIMIT_S, time_limit=HEALTH_HARD_LIMIT_S
)
def session_health_run(run_id: int, session_id: int) -> None:
    run = health_run_execute(run_id=run_id)
    if run is None:  # already claimed: a redelivery
        return
    session = DebugSession.objects.get(pk=session_id)
    actions.session_health_record(session=session, run=run)


@shared_task(ignore_result=True)
def health_recheck_open_sessions() -> None:
    """Beat: re-check the services of every open session (PRODBUG_HEALTH_INTERVAL_S)."""
    health_run_fail_stale()
    busy = HealthRun.objects.filter(state__in=[HealthRun.State.QUEUED, HealthRun.State.RUNNING])
    sessions = (
        DebugSession.objects.exclude(status=Status.RESOLVED)
        .filter(services__checks__isnull=False)
        .exclude(health_runs__in=busy)
        .distinct()
    )
    for session in sessions:
        try:
            actions.session_health_run_start(session=session, actor=None, periodic=True)
        except actions.ActionError:
            continue
