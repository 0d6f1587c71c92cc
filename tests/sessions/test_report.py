import pytest

from sessions import actions
from tests.factories import make_session

pytestmark = pytest.mark.django_db


def test_markdown_report_has_header_checklist_and_timeline(client_for, responder, teammate) -> None:
    session = make_session(responder, title="Checkout | broken", severity="SEV1", summary="EU")
    item = session.items.first()
    actions.item_update(
        item=item,
        actor=responder,
        change=actions.ItemChange(state="done", assignee=teammate, note="found | it"),
    )
    actions.session_add_note(session=session, actor=teammate, text="# not a heading")
    response = client_for(responder).get(f"/sessions/{session.pk}/report.md")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"] == (
        f'attachment; filename="prodbug-{session.pk}-checkout-broken.md"'
    )
    body = response.content.decode()
    assert body.startswith("# Incident report: Checkout \\| broken")
    assert "- **Severity:** SEV1" in body and "- **Commander:** rita" in body
    assert "### 1. Pre-investigation (1/4)" in body
    assert (
        "| Done | Find the trace ID of a failing request in the error logs | tom | found \\| it |"
        in body
    )
    assert "**tom** (note): \\# not a heading" in body
    assert body.index("Opened SEV1") < body.index("Ticked")  # timeline oldest first


def test_report_needs_login(client, responder) -> None:
    session = make_session(responder)
    assert client.get(f"/sessions/{session.pk}/report.md").status_code == 302
