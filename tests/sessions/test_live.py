import pytest

from sessions import actions
from sessions.queries import session_version
from tests.factories import make_session

pytestmark = pytest.mark.django_db


def test_unchanged_poll_answers_204_to_a_matching_version(client_for, responder) -> None:
    session = make_session(responder)
    version = session_version(session.pk)
    response = client_for(responder).get(f"/sessions/{session.pk}/live", {"v": version})
    assert response.status_code == 204
    assert response.content == b""


def test_unchanged_poll_answers_304_to_a_matching_etag(client_for, responder) -> None:
    session = make_session(responder)
    client = client_for(responder)
    first = client.get(f"/sessions/{session.pk}/live")
    assert first.status_code == 200
    again = client.get(f"/sessions/{session.pk}/live", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_a_change_makes_the_poll_send_fresh_fragments(client_for, responder, teammate) -> None:
    session = make_session(responder)
    old = session_version(session.pk)
    item = session.items.first()
    actions.item_update(item=item, actor=teammate, change=actions.ItemChange(state="done"))
    response = client_for(responder).get(f"/sessions/{session.pk}/live", {"v": old})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="item-{item.pk}" class="item state-done" hx-swap-oob="true"' in body
    assert 'id="timeline-events"' in body and "Ticked" in body
    assert f'"v": "{session_version(session.pk)}"' in body  # the poller moves on


def test_the_poll_does_not_grow_queries_with_nothing_to_say(
    client_for, responder, django_assert_max_num_queries
) -> None:
    session = make_session(responder)
    client = client_for(responder)
    version = session_version(session.pk)
    # session + user lookups for the login, then one for the version.
    with django_assert_max_num_queries(3):
        assert client.get(f"/sessions/{session.pk}/live", {"v": version}).status_code == 204


def test_poll_of_missing_session_is_404(client_for, responder) -> None:
    assert client_for(responder).get("/sessions/4242/live").status_code == 404


def test_status_moves_forward_and_records_times(client_for, responder) -> None:
    session = make_session(responder)
    client = client_for(responder)
    assert (
        client.post(f"/sessions/{session.pk}/status", {"status": "identified"}).status_code == 302
    )
    assert client.post(f"/sessions/{session.pk}/status", {"status": "resolved"}).status_code == 302
    session.refresh_from_db()
    assert session.status == "resolved"
    assert session.identified_at and session.resolved_at and session.mitigated_at is None
    kinds = list(session.events.values_list("message", flat=True))
    assert "Status: identified → resolved" in kinds


def test_invalid_status_is_rejected(client_for, responder) -> None:
    session = make_session(responder)
    response = client_for(responder).post(
        f"/sessions/{session.pk}/status", {"status": "exploded"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "Unknown status" in response.content.decode()
    session.refresh_from_db()
    assert session.status == "investigating"
    assert session.events.count() == 1


def test_notes_are_markdown_and_sanitised(client_for, responder) -> None:
    session = make_session(responder)
    text = "**p99 up** <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=y>"
    response = client_for(responder).post(
        f"/sessions/{session.pk}/notes", {"text": text}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    event = session.events.get(kind="note")
    assert event.message == text
    assert "<strong>p99 up</strong>" in event.html
    for bad in ("<script", 'href="javascript:', "<img"):
        assert bad not in event.html
    page = client_for(responder).get(f"/sessions/{session.pk}/").content.decode()
    assert "<strong>p99 up</strong>" in page and "<script>alert(1)" not in page


def test_empty_note_is_rejected(client_for, responder, viewer) -> None:
    session = make_session(responder)
    response = client_for(responder).post(
        f"/sessions/{session.pk}/notes", {"text": "   "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert (
        client_for(viewer).post(f"/sessions/{session.pk}/notes", {"text": "hi"}).status_code == 403
    )
    assert session.events.count() == 1
