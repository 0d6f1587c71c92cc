import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection

from sessions import actions
from sessions.models import ChecklistItem, ItemState
from tests.factories import make_session

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _item(session) -> ChecklistItem:
    return session.items.order_by("phase", "order").first()


def _post(client, item: ChecklistItem, **data) -> object:
    data.setdefault("version", item.version)
    return client.post(f"/sessions/{item.session_id}/items/{item.pk}", data, **HX)


def test_it_ticks_and_unticks_an_item(client_for, responder: User) -> None:
    session = make_session(responder)
    item = _item(session)
    response = _post(client_for(responder), item, state="done")
    assert response.status_code == 200
    assert f'id="item-{item.pk}"' in response.content.decode()
    assert 'hx-swap-oob="true"' in response.content.decode()  # the phase progress
    item.refresh_from_db()
    assert (item.state, item.done_by, item.version) == (ItemState.DONE, responder, 2)
    assert session.events.filter(kind="item.updated").first().message.startswith("Ticked")

    _post(client_for(responder), item, state="todo")
    item.refresh_from_db()
    assert (item.state, item.done_by, item.done_at) == (ItemState.TODO, None, None)


def test_it_skips_assigns_and_notes(client_for, responder: User, teammate: User) -> None:
    session = make_session(responder)
    item = _item(session)
    client = client_for(responder)
    _post(client, item, state="skipped")
    item.refresh_from_db()
    _post(client, item, assignee="tom")
    item.refresh_from_db()
    _post(client, item, note="checked Grafana, nothing")
    item.refresh_from_db()
    assert (item.state, item.assignee, item.note) == (
        "skipped",
        teammate,
        "checked Grafana, nothing",
    )
    messages = list(session.events.values_list("message", flat=True))
    assert any(m.startswith("Assigned to tom") for m in messages)
    assert any(m.startswith("Note updated") for m in messages)
    assert responder in session.participants.all()


def test_assign_to_me_and_unassign(client_for, responder: User) -> None:
    item = _item(make_session(responder))
    _post(client_for(responder), item, assignee="rita")
    item.refresh_from_db()
    assert item.assignee == responder
    _post(client_for(responder), item, assignee="")
    item.refresh_from_db()
    assert item.assignee is None


def test_a_stale_version_gets_a_conflict_and_the_fresh_state(client_for, responder, teammate):
    item = _item(make_session(responder))
    stale_version = item.version
    assert _post(client_for(teammate), item, state="done").status_code == 200
    response = _post(client_for(responder), item, state="skipped", version=stale_version)
    assert response.status_code == 409
    body = response.content.decode()
    assert "tom changed" in body and "not applied" in body
    assert "Untick" in body  # the fresh state: the teammate's tick
    item.refresh_from_db()
    assert item.state == ItemState.DONE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"state": "finished"}, "state"),
        ({"assignee": "ghost"}, "assignee"),
        ({"version": "x", "state": "done"}, "version"),
    ],
)
def test_bad_item_input_is_rejected_and_changes_nothing(client_for, responder, data, message):
    session = make_session(responder)
    item = _item(session)
    response = _post(client_for(responder), item, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    item.refresh_from_db()
    assert (item.state, item.assignee, item.version) == ("todo", None, 1)
    assert session.events.count() == 1


def test_an_item_of_another_session_is_404(client_for, responder) -> None:
    one, other = make_session(responder), make_session(responder)
    item = _item(other)
    response = client_for(responder).post(
        f"/sessions/{one.pk}/items/{item.pk}", {"version": 1, "state": "done"}
    )
    assert response.status_code == 404


def test_viewers_and_anonymous_cannot_change_items(client_for, responder, viewer) -> None:
    item = _item(make_session(responder))
    assert _post(client_for(viewer), item, state="done").status_code == 403
    assert _post(client_for(None), item, state="done").status_code == 302
    item.refresh_from_db()
    assert item.state == ItemState.TODO


def test_the_item_menu_loads_on_demand(client_for, responder, viewer) -> None:
    item = _item(make_session(responder))
    response = client_for(responder).get(f"/sessions/{item.session_id}/items/{item.pk}/menu")
    assert response.status_code == 200
    assert "Assign to me" in response.content.decode()
    assert (
        client_for(viewer).get(f"/sessions/{item.session_id}/items/{item.pk}/menu").status_code
        == 403
    )


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_changes_one_wins_one_conflicts(responder: User, teammate: User) -> None:
    """Real concurrent transactions (separate connections): no update is lost silently."""
    item = _item(make_session(responder))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def change(actor: User, state: str) -> None:
        try:
            barrier.wait()
            actions.item_update(
                item=item, actor=actor, change=actions.ItemChange(state=state), expected_version=1
            )
            outcomes.append("ok")
        except actions.ItemConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=change, args=(responder, "done")),
        threading.Thread(target=change, args=(teammate, "skipped")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    item.refresh_from_db()
    assert item.version == 2
    assert item.session.events.filter(kind="item.updated").count() == 1
