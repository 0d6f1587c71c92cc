import pytest

from flags.models import FlagOverride
from tests.factories import make_session

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def test_turn_on_extend_and_revert_from_the_session_page(client_for, responder, debug_flag):
    session = make_session(responder)
    client = client_for(responder)
    page = client.get(f"/sessions/{session.pk}/").content.decode()
    assert 'id="interventions-panel"' in page and "debug-mode → on" in page
    response = client.post(
        f"/flags/sessions/{session.pk}/overrides",
        {"flag_variant": "debug-mode|on", "attribute": "targetingKey", "operator": "in",
         "values": "user_123, user_456", "duration_min": 10, "reason": "repro"},
        **HX,
    )  # fmt: skip
    assert response.status_code == 200
    override = FlagOverride.objects.get()
    assert override.values == ["user_123", "user_456"]
    assert 'class="countdown"' in response.content.decode()
    before = override.expires_at
    client.post(f"/flags/overrides/{override.pk}/extend", {"minutes": 15}, **HX)
    override.refresh_from_db()
    assert (override.expires_at - before).total_seconds() == 900
    client.post(f"/flags/overrides/{override.pk}/revert", **HX)
    override.refresh_from_db()
    assert override.reverted_by == responder


def test_bad_override_form_shows_the_error(client_for, responder, viewer, debug_flag) -> None:
    session = make_session(responder)
    data = {"flag_variant": "debug-mode|maybe", "attribute": "targetingKey", "operator": "in",
            "values": "u1", "duration_min": 10}  # fmt: skip
    response = client_for(responder).post(f"/flags/sessions/{session.pk}/overrides", data, **HX)
    assert response.status_code == 400 and "no variant" in response.content.decode()
    denied = client_for(viewer).post(f"/flags/sessions/{session.pk}/overrides", data, **HX)
    assert denied.status_code == 403
    assert FlagOverride.objects.count() == 0


def test_evaluate_box_explains_each_flag(client_for, viewer, responder, tier_flag) -> None:
    session = make_session(responder)
    response = client_for(viewer).post(
        f"/flags/sessions/{session.pk}/evaluate",
        {"context": "targetingKey=user_1\nemail=bo@corp.example"}, **HX,
    )  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200
    assert "beta" in body and "rule 1 (email ends_with @corp.example)" in body
    bad = client_for(viewer).post(f"/flags/sessions/{session.pk}/evaluate", {"context": "{oops"})
    assert bad.status_code == 400 and "Not valid JSON" in bad.content.decode()


def test_flag_pages_and_admin_only_changes(client_for, admin, responder, debug_flag) -> None:
    assert "debug-mode" in client_for(responder).get("/flags/").content.decode()
    assert client_for(responder).get("/flags/new").status_code == 403
    rule = {"attribute": "email", "operator": "ends_with", "values": "@x.example", "variant": "on"}
    assert client_for(responder).post("/flags/debug-mode/rules", rule).status_code == 403
    assert client_for(admin).post("/flags/debug-mode/rules", rule).status_code == 302
    assert debug_flag.rules.count() == 1
    bad = client_for(admin).post("/flags/debug-mode/rules", {**rule, "variant": "maybe"})
    assert bad.status_code == 400 and debug_flag.rules.count() == 1
