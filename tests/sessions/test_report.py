import io
import re
import zipfile
from datetime import date

import pytest

from flags import actions as flag_actions
from services import actions as service_actions
from services.models import HealthCheck, HealthResult, HealthRun
from sessions import actions
from sessions.reports import Attachment, Section, report_sections
from tests.factories import make_session

pytestmark = pytest.mark.django_db
HOSTILE = (
    "<script>alert(1)</script> | # heading `tick` [x](javascript:alert(2)) <img src=x onerror=y>"
)
TID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def full_session(responder, teammate):
    """A session exercising every section, with hostile text in every free-text field."""
    service = service_actions.service_create(name="payments", base_url="http://127.0.0.1:9")
    data = service_actions.CheckInput(kind="tcp", name=HOSTILE[:100], target="127.0.0.1:9")
    check = service_actions.check_create(service=service, data=data)
    summary = f"EU users\n# Impact\n{HOSTILE}"
    session = make_session(
        responder, title=f"Checkout {HOSTILE}", severity="SEV1", summary=summary,
        services=[service],
    )  # fmt: skip
    item = session.items.order_by("phase", "order").first()
    change = actions.ItemChange(state="done", assignee=teammate, note=HOSTILE)
    actions.item_update(item=item, actor=teammate, change=change)
    actions.session_add_note(session=session, actor=teammate, text=HOSTILE)
    actions.trace_add(session=session, actor=responder, trace_id=TID, service=service, note=HOSTILE)
    actions.findings_set(session=session, actor=responder, text=f"## Root cause\n{HOSTILE}")
    actions.followup_add(session=session, actor=responder, title=HOSTILE, owner=teammate,
                         due=date(2026, 12, 1), url="https://tickets.example/PAY-1")  # fmt: skip
    flag = flag_actions.flag_create(
        key="debug-mode", flag_type="boolean", variants={"on": True, "off": False},
        default_variant="off",
    )  # fmt: skip
    flag_actions.override_create(session=session, flag=flag, variant="on", attribute="email",
                                 operator="ends_with", values=["@example.com"], actor=responder,
                                 reason=HOSTILE)  # fmt: skip
    run = HealthRun.objects.create(check_ids=[check.pk], state="done", passed=0, failed=1)
    session.health_runs.add(run)
    HealthResult.objects.create(run=run, health_check=check, ok=False, latency_ms=3.0,
                                error="connection refused")  # fmt: skip
    actions.session_set_status(session=session, status="identified", actor=responder)
    return session


def test_markdown_report_has_every_section_and_escapes_user_text(
    client_for, responder, full_session
):
    response = client_for(responder).get(f"/sessions/{full_session.pk}/report.md")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="prodbug-{full_session.pk}-checkout'
    )
    body = response.content.decode()
    for heading in ["Summary and impact", "Severity, status and times", "People", "Findings",
                    "Interventions", "Health checks", "Trace ids", "Follow-ups", "Checklist",
                    "Timeline"]:  # fmt: skip
        assert f"\n## {heading}\n" in body, heading
    # Exactly the headings we made: user text never adds one.
    assert [line for line in body.splitlines() if line.startswith("## ")] == [
        line for line in body.splitlines() if line.startswith("## ") and "script" not in line
    ]
    assert "\n# Impact" not in body and "\\# Impact" in body  # escaped, not a heading
    assert "> \\#\\# Root cause" not in body and "> ## Root cause" in body  # findings: Markdown
    assert not re.search(r"(?<!\\)<(script|img)", body)  # only escaped forms remain
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in body
    assert "- **Time to identify:**" in body
    assert "rita" in body and "tom" in body
    assert "connection refused" in body and TID in body and "tickets.example/PAY-1" in body
    assert "debug-mode" in body


def test_html_report_is_self_contained_and_runs_nothing(
    client_for, responder, full_session
) -> None:
    response = client_for(responder).get(f"/sessions/{full_session.pk}/report.html")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.html"')
    assert response["Content-Security-Policy"].startswith("sandbox")
    html = response.content.decode()
    for bad in ("<script", 'href="javascript', "<img src=x", "onerror=y>"):
        assert bad not in html, bad
    assert "&lt;script&gt;" in html
    assert "http://" not in html.replace("http://127.0.0.1:9", "")  # no external requests
    assert "<table>" in html and "<h2>Timeline</h2>" in html
    assert "<style>" in html  # inline CSS: prints and opens offline


def test_zip_bundles_reports_and_artifacts(client_for, responder, full_session):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>'
    figure = Attachment("figures/one.svg", "image/svg+xml", svg, "one")
    section = Section("Test figures", lambda s: "figure below", attachments=lambda s: [figure])
    report_sections.append(section)
    try:
        response = client_for(responder).get(f"/sessions/{full_session.pk}/report.zip")
        html = client_for(responder).get(f"/sessions/{full_session.pk}/report.html").content
    finally:
        report_sections.remove(section)
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    base = f"prodbug-{full_session.pk}-checkout"
    assert any(n.startswith(base) and n.endswith("/report.md") for n in names)
    assert any(n.endswith("/report.html") for n in names)
    assert any(n.endswith("/figures/one.svg") for n in names)
    assert b"data:image/svg+xml;base64," in html  # figures embedded, not linked


def test_report_queries_do_not_grow_with_events(client_for, responder, full_session,
                                                django_assert_max_num_queries):  # fmt: skip
    client = client_for(responder)
    client.get(f"/sessions/{full_session.pk}/report.md")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(f"/sessions/{full_session.pk}/report.md")
    for n in range(300):
        actions.session_add_note(session=full_session, actor=responder, text=f"note {n}")
    with CaptureQueriesContext(connection) as many:
        client.get(f"/sessions/{full_session.pk}/report.md")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_reports_need_login(client, responder) -> None:
    session = make_session(responder)
    for fmt in ("md", "html", "zip"):
        assert client.get(f"/sessions/{session.pk}/report.{fmt}").status_code == 302
    assert HealthCheck.objects.count() == 0
