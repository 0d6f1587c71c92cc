import pytest
from django.test import Client

from sessions.models import DebugSession, TimelineEvent
from tests.api import call
from tests.factories import make_session

pytestmark = pytest.mark.django_db


def test_it_creates_a_session_with_items(responder, teammate, token_for) -> None:
    response = call(
        "post", "/sessions", token_for(responder),
        {"title": "Search slow", "severity": "SEV2", "commander": "tom"},
    )  # fmt: skip
    assert response.status_code == 201
    data = response.json()
    assert data["title"] == "Search slow" and data["commander"] == "tom"
    assert data["status"] == "investigating"
    assert len(data["items"]) == 21
    assert {"id", "phase", "title", "state", "assignee", "note"} <= data["items"][0].keys()
    assert data["timeline"][0]["kind"] == "session.opened"
    assert DebugSession.objects.get().created_by == responder


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "severity": "SEV7"}, "severity"),
        ({"severity": "SEV1"}, "title"),
        ({"title": "x", "severity": "SEV1", "commander": "ghost"}, "commander"),
    ],
)
def test_bad_session_input_names_the_field(responder, token_for, body, field) -> None:
    response = call("post", "/sessions", token_for(responder), body)
    assert response.status_code == 400
    assert field in response.json()["detail"]
    assert DebugSession.objects.count() == 0


def test_broken_json_is_400(responder, token_for) -> None:
    response = call("post", "/sessions", token_for(responder), raw="{not json")
    assert response.status_code == 400
    assert DebugSession.objects.count() == 0


def test_get_list_and_detail(responder, viewer, token_for) -> None:
    session = make_session(responder, title="A")
    token = token_for(viewer)
    listed = call("get", "/sessions", token).json()
    assert [s["title"] for s in listed] == ["A"]
    detail = call("get", f"/sessions/{session.pk}", token).json()
    assert detail["id"] == session.pk
    assert detail["timeline"][0]["message"].startswith("Opened")
    assert call("get", "/sessions/999", token).status_code == 404


def test_patch_item_state_assignee_note(responder, teammate, token_for) -> None:
    session = make_session(responder)
    item = session.items.first()
    token = token_for(responder)
    response = call(
        "patch", f"/sessions/{session.pk}/items/{item.pk}", token,
        {"state": "done", "assignee": "tom", "note": "ok"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json() | {"version": 0} == response.json() | {
        "state": "done", "assignee": "tom", "note": "ok", "version": 0,
    }  # fmt: skip
    response = call("patch", f"/sessions/{session.pk}/items/{item.pk}", token, {"assignee": None})
    assert response.json()["assignee"] is None
    item.refresh_from_db()
    assert (item.state, item.assignee, item.note) == ("done", None, "ok")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"state": "finished"}, 400, "state"),
        ({"assignee": "ghost"}, 400, "assignee"),
        ({"state": "done", "version": 7}, 409, "changed"),
    ],
)
def test_bad_patch_changes_nothing(responder, token_for, body, status, field) -> None:
    session = make_session(responder)
    item = session.items.first()
    response = call("patch", f"/sessions/{session.pk}/items/{item.pk}", token_for(responder), body)
    assert response.status_code == status
    assert field in response.json()["detail"]
    item.refresh_from_db()
    assert (item.state, item.version) == ("todo", 1)
    assert session.events.count() == 1


def test_item_of_another_session_is_404(responder, token_for) -> None:
    one, other = make_session(responder), make_session(responder)
    item = other.items.first()
    response = call("patch", f"/sessions/{one.pk}/items/{item.pk}", token_for(responder),
                    {"state": "done"})  # fmt: skip
    assert response.status_code == 404
    assert "item_id" in response.json()["detail"]


def test_notes_and_status(responder, token_for) -> None:
    session = make_session(responder)
    token = token_for(responder)
    note = call("post", f"/sessions/{session.pk}/notes", token, {"text": "rolled back v42"})
    assert note.status_code == 201 and note.json()["kind"] == "note"
    status = call("post", f"/sessions/{session.pk}/status", token, {"status": "mitigated"})
    assert status.status_code == 200 and status.json()["status"] == "mitigated"
    bad = call("post", f"/sessions/{session.pk}/status", token, {"status": "done"})
    assert bad.status_code == 400 and "status" in bad.json()["detail"]
    same = call("post", f"/sessions/{session.pk}/status", token, {"status": "mitigated"})
    assert same.status_code == 400 and "already" in same.json()["detail"]
    assert session.events.count() == 3


def test_permission_matrix(responder, viewer, token_for) -> None:
    session = make_session(responder)
    item = session.items.first()
    writes = [
        ("post", "/sessions", {"title": "x", "severity": "SEV1"}),
        ("patch", f"/sessions/{session.pk}/items/{item.pk}", {"state": "done"}),
        ("post", f"/sessions/{session.pk}/notes", {"text": "x"}),
        ("post", f"/sessions/{session.pk}/status", {"status": "identified"}),
    ]
    viewer_token = token_for(viewer)
    for method, path, body in writes:
        assert call(method, path, None, body).status_code == 401, path
        assert call(method, path, "pb_wrong", body).status_code == 401, path
        assert call(method, path, viewer_token, body).status_code == 403, path
    assert call("get", "/sessions", None).status_code == 401
    assert call("get", "/sessions", viewer_token).status_code == 200
    assert TimelineEvent.objects.count() == 1


def test_ofrep_scoped_token_cannot_use_the_api(responder, token_for) -> None:
    token = token_for(responder, scope="ofrep")
    assert call("get", "/sessions", token).status_code == 401


def test_x_api_key_header_works(responder, token_for) -> None:
    token = token_for(responder)
    response = Client().get("/api/v1/sessions", HTTP_X_API_KEY=token)
    assert response.status_code == 200


def test_openapi_is_published(client) -> None:
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/sessions/{session_id}/items/{item_id}" in schema.json()["paths"]
    assert client.get("/api/v1/docs").status_code == 200
