import pytest

from flags.models import Flag, FlagOverride
from tests.api import call
from tests.factories import make_session

pytestmark = pytest.mark.django_db


FLAG = {"key": "debug-mode", "type": "boolean", "variants": {"on": True, "off": False},
        "default_variant": "off"}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": "bad key"}, "key"),
        ({"type": "list"}, "type"),
        ({"variants": {"on": "yes"}, "default_variant": "on"}, "variants"),
        ({"default_variant": "maybe"}, "default_variant"),
        ({"variants": {}}, "variants"),
    ],
)
def test_bad_flags_are_refused(admin, token_for, change, field) -> None:
    response = call("post", "/flags", token_for(admin), {**FLAG, **change})
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert Flag.objects.count() == 0


def test_override_lifecycle_through_the_api(admin, responder, viewer, token_for) -> None:
    assert call("post", "/flags", token_for(responder), FLAG).status_code == 403
    assert call("post", "/flags", token_for(admin), FLAG).status_code == 201
    session = make_session(responder)
    body = {"flag": "debug-mode", "variant": "on", "attribute": "email",
            "operator": "ends_with", "values": ["@example.com"], "duration_s": 600,
            "reason": "trace EU checkout"}  # fmt: skip
    path = f"/sessions/{session.pk}/flag-overrides"
    assert call("post", path, token_for(viewer), body).status_code == 403
    created = call("post", path, token_for(responder), body)
    assert created.status_code == 201
    data = created.json()
    assert data["active"] and data["expires_at"] and data["values"] == ["@example.com"]
    oid = data["id"]
    assert call("post", f"/flag-overrides/{oid}/revert", token_for(viewer)).status_code == 403
    extended = call("post", f"/flag-overrides/{oid}/extend", token_for(responder),
                    {"duration_s": 300})  # fmt: skip
    assert extended.status_code == 200 and extended.json()["expires_at"] > data["expires_at"]
    reverted = call("post", f"/flag-overrides/{oid}/revert", token_for(responder))
    assert reverted.status_code == 200 and reverted.json()["active"] is False
    again = call("post", f"/flag-overrides/{oid}/revert", token_for(responder))
    assert again.status_code == 400 and "already ended" in again.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"flag": "nope"}, "flag"),
        ({"variant": "maybe"}, "variant"),
        ({"operator": "like"}, "operator"),
        ({"duration_s": 30}, "duration_s"),
        ({"values": []}, "values"),
        ({"attribute": "two words"}, "attribute"),
    ],
)
def test_bad_overrides_name_the_field(admin, responder, token_for, change, field) -> None:
    call("post", "/flags", token_for(admin), FLAG)
    session = make_session(responder)
    body = {"flag": "debug-mode", "variant": "on", "attribute": "targetingKey",
            "operator": "in", "values": ["u1"], **change}  # fmt: skip
    response = call("post", f"/sessions/{session.pk}/flag-overrides", token_for(responder), body)
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert FlagOverride.objects.count() == 0
    assert session.events.count() == 1
