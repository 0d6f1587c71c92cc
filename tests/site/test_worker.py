"""A real prefork Celery worker on the real broker (Redis in CI, filesystem locally)."""

import pytest
from django.db import transaction

from prodbug_site.models import Heartbeat
from prodbug_site.tasks import heartbeat
from tests.conftest import wait_for


@pytest.mark.worker
def test_the_worker_runs_heartbeats_and_healthz_sees_them(celery_worker, client) -> None:
    assert client.get("/healthz").json()["checks"]["worker:heartbeat"][0]["status"] == "warn"
    with transaction.atomic():
        transaction.on_commit(heartbeat.delay)
    wait_for(lambda: Heartbeat.objects.filter(name="worker").exists(), timeout=30)
    names = set(Heartbeat.objects.values_list("name", flat=True))
    assert any(n.startswith("worker@") for n in names)
    assert client.get("/healthz").json()["checks"]["worker:heartbeat"][0]["status"] == "pass"
