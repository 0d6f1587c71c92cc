import pytest

from services import actions
from services.models import HealthCheck, Service

pytestmark = pytest.mark.django_db


def _shop() -> Service:
    return actions.service_create(
        name="shop", base_url="http://127.0.0.1:9", admin_token="s3cr3t-tok"
    )


def test_everyone_sees_the_list_but_only_admins_register(client_for, viewer, responder, admin):
    _shop()
    assert "shop" in client_for(viewer).get("/services/").content.decode()
    for user in (viewer, responder):
        assert client_for(user).get("/services/new").status_code == 403
        data = {"name": "x", "base_url": "http://x"}
        assert client_for(user).post("/services/new", data).status_code == 403
    response = client_for(admin).post(
        "/services/new", {"name": "Search", "base_url": "http://127.0.0.1:9200", "admin_token": "t"}
    )
    assert response.status_code == 302
    assert Service.objects.get(slug="search").has_admin_token


def test_the_token_is_never_rendered(client_for, admin) -> None:
    _shop()
    for path in ("/services/shop/", "/services/shop/edit", "/services/"):
        body = client_for(admin).get(path).content.decode()
        assert "s3cr3t-tok" not in body, path
    assert "set" in client_for(admin).get("/services/shop/").content.decode()


def test_editing_keeps_the_token_unless_replaced_or_cleared(client_for, admin) -> None:
    service = _shop()
    form = {"name": "shop", "base_url": "http://127.0.0.1:9"}
    client_for(admin).post("/services/shop/edit", form)
    service.refresh_from_db()
    assert service.admin_token() == "s3cr3t-tok"
    client_for(admin).post("/services/shop/edit", {**form, "clear_admin_token": "on"})
    service.refresh_from_db()
    assert not service.has_admin_token


def test_check_form_errors_are_shown_and_nothing_is_saved(client_for, admin) -> None:
    _shop()
    response = client_for(admin).post(
        "/services/shop/checks", {"kind": "tcp", "target": "db:70000", "timeout_ms": 2000,
                                  "method": "GET", "expect_status": "200"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "out of range" in response.content.decode()
    assert HealthCheck.objects.count() == 0


def test_admin_adds_and_removes_checks(client_for, admin, responder) -> None:
    service = _shop()
    data = {"kind": "http", "target": "http://127.0.0.1:9/health", "timeout_ms": 500,
            "method": "GET", "expect_status": "200"}  # fmt: skip
    assert client_for(responder).post("/services/shop/checks", data).status_code == 403
    assert client_for(admin).post("/services/shop/checks", data).status_code == 302
    check = service.checks.get()
    assert check.timeout_ms == 500
    url = f"/services/shop/checks/{check.pk}/delete"
    assert client_for(responder).post(url).status_code == 403
    assert client_for(admin).post(url).status_code == 302
    assert not service.checks.exists()
