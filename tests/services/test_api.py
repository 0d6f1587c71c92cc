import logging

import pytest

from services.models import HealthCheck, Service
from tests.api import call
from tests.factories import make_session

pytestmark = pytest.mark.django_db


def test_admin_registers_a_service_and_the_token_stays_secret(admin, token_for, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"name": "Payments API", "base_url": "http://127.0.0.1:9/", "admin_token": "tok-123456"}
    response = call("post", "/services", token_for(admin), body)
    assert response.status_code == 201
    data = response.json()
    assert data["slug"] == "payments-api" and data["admin_token_set"] is True
    assert "tok-123456" not in response.content.decode()
    service = Service.objects.get()
    assert "tok-123456" not in service.admin_token_encrypted  # encrypted at rest
    assert service.admin_token() == "tok-123456"
    assert "tok-123456" not in caplog.text

    got = call("get", "/services/payments-api", token_for(admin)).content.decode()
    assert "tok-123456" not in got and '"admin_token_set": true' in got
    patched = call("patch", "/services/payments-api", token_for(admin), {"admin_token": None})
    assert patched.json()["admin_token_set"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "base_url": "ftp://x"}, "base_url"),
        ({"name": "x", "base_url": "http://169.254.169.254/"}, "base_url"),
        ({"name": "", "base_url": "http://x"}, "name"),
        ({"base_url": "http://x"}, "name"),
    ],
)
def test_bad_service_input_writes_nothing(admin, token_for, body, field) -> None:
    response = call("post", "/services", token_for(admin), body)
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert Service.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"kind": "http", "target": "gopher://x"}, "target", "http://"),
        ({"kind": "tcp", "target": "db:99999"}, "target", "out of range"),
        ({"kind": "postgres", "target": "host=db port"}, "target", "Cannot parse"),
        ({"kind": "redis", "target": "http://cache"}, "target", "redis://"),
        ({"kind": "http", "target": "http://x", "timeout_ms": 50}, "timeout_ms", ""),
        ({"kind": "http", "target": "http://x", "expect_status": "2xx"}, "expect_status", ""),
        ({"kind": "smtp", "target": "x"}, "kind", ""),
        ({"kind": "http", "target": "http://169.254.169.254/"}, "target", "metadata"),
    ],
)
def test_bad_checks_are_rejected(admin, token_for, body, field, message) -> None:
    call("post", "/services", token_for(admin), {"name": "shop", "base_url": "http://x"})
    response = call("post", "/services/shop/checks", token_for(admin), body)
    assert response.status_code == 400
    assert field in response.json()["detail"] and message in response.json()["detail"]
    assert HealthCheck.objects.count() == 0


def test_check_dsn_passwords_are_encrypted_and_redacted(admin, token_for) -> None:
    call("post", "/services", token_for(admin), {"name": "shop", "base_url": "http://x"})
    dsn = "postgresql://app:pa55word@127.0.0.1:5432/shop"
    response = call("post", "/services/shop/checks", token_for(admin),
                    {"kind": "postgres", "target": dsn})  # fmt: skip
    assert response.status_code == 201
    assert response.json()["target"] == "postgresql://app:***@127.0.0.1:5432/shop"
    check = HealthCheck.objects.get()
    assert "pa55word" not in check.target and "pa55word" not in check.target_encrypted
    assert check.real_target() == dsn


def test_permission_matrix(admin, responder, viewer, token_for) -> None:
    body = {"name": "shop", "base_url": "http://x"}
    assert call("post", "/services", None, body).status_code == 401
    assert call("post", "/services", token_for(viewer), body).status_code == 403
    assert call("post", "/services", token_for(responder), body).status_code == 403
    assert call("post", "/services", token_for(admin), body).status_code == 201
    check = {"kind": "tcp", "target": "127.0.0.1:5432"}
    assert call("post", "/services/shop/checks", token_for(responder), check).status_code == 403
    assert call("patch", "/services/shop", token_for(responder), {"name": "y"}).status_code == 403
    assert call("get", "/services/shop", token_for(viewer)).status_code == 200
    session = make_session(responder)
    path = f"/sessions/{session.pk}"
    assert (
        call("post", f"{path}/services", token_for(viewer), {"services": ["shop"]}).status_code
        == 403
    )
    assert call("post", f"{path}/health-runs", token_for(viewer)).status_code == 403
    assert call(
        "post", f"{path}/services", token_for(responder), {"services": ["shop"]}
    ).json() == ["shop"]


def test_session_services_and_health_run_creation(admin, responder, token_for) -> None:
    call("post", "/services", token_for(admin), {"name": "shop", "base_url": "http://x"})
    session = make_session(responder)
    token = token_for(responder)
    bad = call("post", f"/sessions/{session.pk}/services", token, {"services": ["ghost"]})
    assert bad.status_code == 400 and "ghost" in bad.json()["detail"]
    call("post", f"/sessions/{session.pk}/services", token, {"services": ["shop"]})
    no_checks = call("post", f"/sessions/{session.pk}/health-runs", token)
    assert no_checks.status_code == 400 and "health check" in no_checks.json()["detail"]
    call("post", "/services/shop/checks", token_for(admin), {"kind": "system"})
    started = call("post", f"/sessions/{session.pk}/health-runs", token)
    assert started.status_code == 202
    run = call("get", f"/health-runs/{started.json()['id']}", token).json()
    assert run["state"] == "queued" and run["results"] == []
    assert session.events.filter(kind="session.services").exists()
