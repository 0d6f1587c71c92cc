from celery import shared_task

from flags import actions


@shared_task(ignore_result=True)
def record_expired_overrides() -> int:
    return actions.overrides_record_expired()
