import pytest

from flags.models import LogLevelOverride
from services import actions as service_actions
from tests.api import call
from tests.factories import make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(admin, token_for):
    response = call("post", "/services", token_for(admin), {
        "name": "shop", "base_url": "http://127.0.0.1:9", "admin_token": "s3cret",
        "log_level_protocol": "spring-actuator"})  # fmt: skip
    assert response.status_code == 201
    data = response.json()
    assert data["log_level_protocol"] == "spring-actuator" and data["admin_token_set"]
    assert "s3cret" not in response.content.decode()
    return service_actions.Service.objects.get(slug="shop")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"service": "ghost"}, "service"),
        ({"logger": "a b"}, "logger"),
        ({"logger": "x" * 201}, "logger"),
        ({"level": "WARNING"}, "level"),  # prodbug's name; Spring says WARN
        ({"duration_s": 59}, "duration_s"),
        ({"duration_s": 14401}, "duration_s"),
    ],
)
def test_bad_input_is_400_naming_the_field(responder, token_for, shop, change, field) -> None:
    session = make_session(responder, services=[shop])
    body = {"service": "shop", "logger": "com.shop", "level": "DEBUG", "duration_s": 600, **change}
    response = call("post", f"/sessions/{session.pk}/log-level-overrides", token_for(responder),
                    body)  # fmt: skip
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert LogLevelOverride.objects.count() == 0


def test_create_get_revert_and_permissions(responder, viewer, token_for, shop) -> None:
    session = make_session(responder, services=[shop])
    body = {"service": "shop", "logger": "com.shop", "level": "DEBUG", "duration_s": 600}
    path = f"/sessions/{session.pk}/log-level-overrides"
    assert call("post", path, None, body).status_code == 401
    assert call("post", path, token_for(viewer), body).status_code == 403
    created = call("post", path, token_for(responder), body)
    assert created.status_code == 201
    data = created.json()
    assert data["state"] == "pending" and data["previous_level"] is None
    got = call("get", f"/log-level-overrides/{data['id']}", token_for(viewer)).json()
    assert {"state", "previous_level", "applied_at", "expires_at", "reverted_at", "verified",
            "error"} <= got.keys()  # fmt: skip
    dup = call("post", path, token_for(responder), body)
    assert dup.status_code == 400 and "already has a live override" in dup.json()["detail"]
    revert = call("post", f"/log-level-overrides/{data['id']}/revert", token_for(responder))
    assert revert.status_code == 200 and revert.json()["state"] == "failed"  # never applied
    assert call("post", f"/log-level-overrides/{data['id']}/revert",
                token_for(viewer)).status_code == 403  # fmt: skip
