import pytest
from django.contrib.auth.models import User

from sessions.models import ChecklistItem, DebugSession, ItemState, TimelineEvent
from tests.factories import make_session

pytestmark = pytest.mark.django_db


def test_it_requires_login_everywhere_but_login_and_healthz(client) -> None:
    for path in ["/sessions/", "/sessions/new", "/sessions/1/", "/sessions/1/report.md"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)


def test_it_logs_in_with_the_login_form(client, responder: User) -> None:
    response = client.post(
        "/accounts/login/", {"username": "rita", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert client.get("/sessions/").status_code == 200


def test_it_lists_open_sessions_first_with_progress(client_for, responder: User) -> None:
    closed = make_session(responder, title="Old one", severity="SEV1")
    DebugSession.objects.filter(pk=closed.pk).update(status="resolved")
    live = make_session(responder, title="Payments down", severity="SEV1")
    item = live.items.first()
    ChecklistItem.objects.filter(pk=item.pk).update(state=ItemState.DONE)

    page = client_for(responder).get("/sessions/?status=all").content.decode()
    assert page.index("Payments down") < page.index("Old one")
    assert "1/21" in page

    open_only = client_for(responder).get("/sessions/").content.decode()
    assert "Payments down" in open_only and "Old one" not in open_only
    resolved = client_for(responder).get("/sessions/?status=resolved").content.decode()
    assert "Old one" in resolved and "Payments down" not in resolved


def test_it_starts_a_session_with_the_default_checklist(client_for, responder, teammate) -> None:
    response = client_for(responder).post(
        "/sessions/new",
        {"title": "Checkout 500s", "severity": "SEV1", "summary": "EU only", "commander": "tom"},
    )
    assert response.status_code == 302
    session = DebugSession.objects.get()
    assert (session.title, session.severity, session.commander) == (
        "Checkout 500s",
        "SEV1",
        teammate,
    )
    assert session.items.count() == 21
    assert list(session.items.values_list("phase", flat=True).distinct().order_by("phase")) == [
        1, 2, 3, 4, 5,
    ]  # fmt: skip
    assert session.events.get().kind == "session.opened"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "", "severity": "SEV1"}, "title"),
        ({"title": "x", "severity": "SEV9"}, "severity"),
        ({"title": "x", "severity": "SEV1", "commander": "nobody"}, "commander"),
    ],
)
def test_it_rejects_bad_session_input_and_writes_nothing(
    client_for, responder, data, field
) -> None:
    response = client_for(responder).post("/sessions/new", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert DebugSession.objects.count() == 0
    assert TimelineEvent.objects.count() == 0


def test_viewers_cannot_start_sessions(client_for, viewer) -> None:
    assert client_for(viewer).get("/sessions/new").status_code == 403
    response = client_for(viewer).post("/sessions/new", {"title": "x", "severity": "SEV1"})
    assert response.status_code == 403
    assert DebugSession.objects.count() == 0


def test_the_session_page_shows_checklist_by_phase_and_timeline(client_for, responder) -> None:
    session = make_session(responder, title="Slow search")
    page = client_for(responder).get(f"/sessions/{session.pk}/").content.decode()
    for phase in ["Pre-investigation", "Investigation", "Data collection", "Debugging actions",
                  "Resolution"]:  # fmt: skip
        assert phase in page
    assert "Find the trace ID of a failing request" in page
    assert "Opened SEV2 session" in page
    assert 'id="poller"' in page


def test_viewers_see_the_page_without_controls(client_for, responder, viewer) -> None:
    session = make_session(responder)
    page = client_for(viewer).get(f"/sessions/{session.pk}/").content.decode()
    assert "Find the trace ID" in page
    # Only read-only controls (the flag evaluator) are offered to viewers.
    for control in ('class="tick"', "Run health checks", "Turn on a flag", "Mark identified"):
        assert control not in page, control


def test_the_page_escapes_user_text(client_for, responder) -> None:
    session = make_session(responder, title="<script>alert(1)</script>")
    page = client_for(responder).get(f"/sessions/{session.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unknown_session_is_404(client_for, responder) -> None:
    assert client_for(responder).get("/sessions/999/").status_code == 404
