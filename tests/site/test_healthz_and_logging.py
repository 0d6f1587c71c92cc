import json
import logging

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/health+json"
    body = response.json()
    assert body["status"] == "pass"
    assert body["checks"]["database:responseTime"][0]["status"] == "pass"
    assert body["checks"]["broker:responseTime"][0]["status"] == "pass"
    # No worker ran a heartbeat in this test: visible, but not fatal.
    assert body["checks"]["worker:heartbeat"][0]["status"] == "warn"


def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch) -> None:
    from celery import Celery

    # A real Celery app pointed at a closed port: the probe must say so, not hang.
    dead = Celery("dead", broker="redis://127.0.0.1:1/0", set_as_current=False)
    dead.conf.broker_connection_timeout = 1
    monkeypatch.setattr("prodbug_site.healthz.celery_app", dead)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["broker:responseTime"][0]["status"] == "fail"
    assert body["checks"]["database:responseTime"][0]["status"] == "pass"


def test_request_id_is_echoed_or_generated(client) -> None:
    given = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz")
    assert len(generated["X-Request-ID"]) == 32
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert hostile["X-Request-ID"] != "bad id\nwith newline"


def test_logs_are_json_with_request_and_trace_ids(client, caplog) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{trace}-00f067aa0ba902b7-01"
    with caplog.at_level(logging.INFO, logger="prodbug.request"):
        client.get("/healthz", HTTP_X_REQUEST_ID="req-1", HTTP_TRACEPARENT=traceparent)
    record = next(r for r in caplog.records if r.name == "prodbug.request")
    # Render it through the handler `make run` uses, as it would reach the log.
    formatter = logging.getLogger().handlers[0].formatter
    assert formatter is not None
    line = json.loads(formatter.format(record))
    assert line["event"] == "request" and line["path"] == "/healthz" and line["status"] == 200
    assert line["request_id"] == "req-1"
    assert line["trace_id"] == trace


def test_security_headers(client, responder) -> None:
    client.force_login(responder)
    response = client.get("/sessions/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    body = response.content.decode()
    assert "<script>" not in body  # no inline scripts anywhere
    assert 'hx-headers=\'{"X-CSRFToken"' in body
