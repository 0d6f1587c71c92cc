"""Thin Celery wrappers: load by id, call one action."""

from celery import shared_task

from profiling import actions


@shared_task(
    ignore_result=True,
    # Static limits for the longest allowed run; each run's own budget (duration + margin) is
    # enforced by the py-spy subprocess timeout. Only the prefork pool enforces these.
    soft_time_limit=actions.TASK_SOFT_LIMIT_S,
    time_limit=actions.TASK_HARD_LIMIT_S,
    # Never re-run a profile after a worker crash: the sweeper fails it instead.
    acks_late=False,
)
def profile_run(run_id: int) -> None:
    actions.profile_execute(run_id=run_id)


@shared_task(ignore_result=True)
def profile_fail_stale() -> int:
    """Beat: end runs no agent took or finished (see actions.profile_fail_stale)."""
    return actions.profile_fail_stale()
