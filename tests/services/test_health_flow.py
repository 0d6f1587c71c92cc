"""Health runs through the real Celery path: a prefork worker on the real broker."""

import socket

import pytest

from services import actions
from services.models import HealthRun
from sessions.tasks import health_recheck_open_sessions
from tests.conftest import wait_for
from tests.factories import make_session

HX = {"HTTP_HX_REQUEST": "true"}


def _payments(http_target: str, closed_port: int):
    service = actions.service_create(name="payments", base_url=http_target)
    for data in (
        actions.CheckInput(kind="http", name="api", target=f"{http_target}/health"),
        actions.CheckInput(kind="tcp", name="db", target=f"127.0.0.1:{closed_port}"),
        actions.CheckInput(
            kind="http", name="slow", target=f"{http_target}/health?delay_ms=5000", timeout_ms=300
        ),
    ):
        actions.check_create(service=service, data=data)
    return service


def _finished(run: HealthRun) -> bool:
    run.refresh_from_db()
    return run.is_finished


@pytest.mark.worker
def test_run_health_checks_from_the_session_page(
    celery_worker, client_for, responder, viewer, http_target, closed_port
) -> None:
    service = _payments(http_target, closed_port)
    session = make_session(responder, services=[service])
    url = f"/sessions/{session.pk}/health-runs"
    assert client_for(viewer).post(url, **HX).status_code == 403

    response = client_for(responder).post(url, **HX)
    assert response.status_code == 200
    assert "Running 3 checks concurrently" in response.content.decode()
    run = session.health_runs.get()
    wait_for(lambda: _finished(run), timeout=30)
    assert (run.state, run.passed, run.failed) == ("done", 1, 2)
    errors = dict(run.results.values_list("health_check__name", "error"))
    assert errors == {"api": "", "db": "connection refused", "slow": "timed out after 300 ms"}

    event = session.events.get(kind="health.run")
    assert event.message == (
        "Health run: 1/3 passing — db: connection refused; slow: timed out after 300 ms"
    )
    assert event.actor == responder

    # A second run gives each check a latency history, drawn as a sparkline.
    client_for(responder).post(url, **HX)
    second = session.health_runs.order_by("-id").first()
    wait_for(lambda: _finished(second), timeout=30)
    panel = client_for(viewer).get(f"/sessions/{session.pk}/health").content.decode()
    assert "1/3 passing" in panel and "connection refused" in panel
    assert panel.count('<svg class="spark"') == 3


@pytest.mark.worker
def test_periodic_recheck_records_only_state_changes(
    celery_worker, responder, http_target, closed_port
) -> None:
    service = _payments(http_target, closed_port)
    session = make_session(responder, services=[service])
    health_recheck_open_sessions.delay()
    wait_for(lambda: session.health_runs.filter(state="done").count() == 1, timeout=30)
    first = {e.message for e in session.events.filter(kind="health.change")}
    # Checks never seen before count as previously healthy: the failures are news.
    assert first == {"db: failing — connection refused", "slow: failing — timed out after 300 ms"}

    # The database port comes up: the next re-check records the recovery, nothing else.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", closed_port))
    listener.listen(8)
    try:
        health_recheck_open_sessions.delay()
        wait_for(lambda: session.health_runs.filter(state="done").count() == 2, timeout=30)
    finally:
        listener.close()
    changes = list(session.events.filter(kind="health.change").values_list("message", flat=True))
    assert changes[0] == "db: recovered"
    assert len(changes) == 3
