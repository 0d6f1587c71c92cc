from celery import shared_task

from flags import actions


@shared_task(ignore_result=True)
def record_expired_overrides() -> int:
    return actions.overrides_record_expired()


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def apply_log_level(override_id: int) -> None:
    actions.loglevel_apply(override_id=override_id)


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def revert_due_log_levels() -> int:
    return actions.loglevel_revert_due()
