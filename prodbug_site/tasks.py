import socket

from celery import shared_task

from prodbug_site.models import Heartbeat


@shared_task(ignore_result=True, expires=60)
def heartbeat() -> None:
    """Proves a worker consumes tasks (and that beat sends them)."""
    Heartbeat.beat("worker")
    Heartbeat.beat(f"worker@{socket.gethostname()}")
