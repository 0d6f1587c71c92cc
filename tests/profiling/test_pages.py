"""The Profiles panel, the flamegraph and diff pages, downloads and speedscope, per role."""

import re

import pytest

from profiling.models import ProfileRun
from tests.profiling.conftest import KNOWN

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
State = ProfileRun.State


def _panel(html: str) -> str:
    match = re.search(r'<section id="profiles-panel".*?</section>', html, re.S)
    assert match, "no Profiles panel"
    return match.group(0)


def test_the_session_page_shows_the_panel_and_the_form_to_responders(
    shop_session, client_for, responder, viewer
) -> None:
    session, _ = shop_session({"pid": 1})
    page = client_for(responder).get(f"/sessions/{session.pk}/").content.decode()
    panel = _panel(page)
    assert "Profile a service…" in panel and '<option value="shop">shop (agent local)' in panel

    seen = _panel(client_for(viewer).get(f"/sessions/{session.pk}/").content.decode())
    assert "Profile a service" not in seen and "hx-post" not in seen


def test_a_session_without_profiling_targets_says_how_to_get_one(
    shop_session, client_for, responder
) -> None:
    session, _ = shop_session({})
    panel = _panel(client_for(responder).get(f"/sessions/{session.pk}/").content.decode())
    assert "None of the session's services has a profiling target" in panel


def test_responders_start_a_profile_from_the_panel(shop_session, client_for, responder, viewer):
    session, _ = shop_session({"pid": 1})
    url = f"/profiles/sessions/{session.pk}/start"
    form = {"service": "shop", "duration_s": "20", "rate_hz": "50", "native": "on"}
    assert client_for(viewer).post(url, form, **HX).status_code == 403
    assert not ProfileRun.objects.exists()

    response = client_for(responder).post(url, form, **HX)
    assert response.status_code == 200
    run = ProfileRun.objects.get()
    assert (run.duration_s, run.rate_hz, run.native, run.idle, run.requested_by) == (
        20, 50, True, False, responder,
    )  # fmt: skip
    html = response.content.decode()
    assert f'id="profile-run-{run.pk}"' in html and 'hx-trigger="every 1s"' in html
    assert "queued for agent “local”" in html

    again = client_for(responder).post(url, form, **HX)
    assert again.status_code == 409
    assert "shop is being profiled already" in again.content.decode()
    bad = client_for(responder).post(url, {**form, "duration_s": "500"}, **HX)
    assert bad.status_code == 400 and "duration_s" in bad.content.decode()
    assert ProfileRun.objects.count() == 1


def test_the_progress_poll_shows_elapsed_time_and_stops_when_done(
    shop_session, client_for, responder, recorded
) -> None:
    session, _ = shop_session({"pid": 1})
    client = client_for(responder)
    client.post(f"/profiles/sessions/{session.pk}/start", {"service": "shop", "duration_s": 30,
                "rate_hz": 100}, **HX)  # fmt: skip
    run = ProfileRun.objects.get()
    ProfileRun.objects.filter(pk=run.pk).update(state=State.RUNNING, pid=42)
    with_progress = client.get(f"/profiles/{run.pk}/progress", **HX)
    assert with_progress.status_code == 200
    html = with_progress.content.decode()
    assert '<progress max="30" value="0.' in html and "0/30 s" in html and "PID 42" in html

    ProfileRun.objects.filter(pk=run.pk).update(state=State.FAILED, error="No process")
    done = client.get(f"/profiles/{run.pk}/progress", **HX)
    assert done.status_code == 286  # htmx: stop polling
    assert "hx-trigger" not in done.content.decode() and "No process" in done.content.decode()
    page_poll = client.get(f"/profiles/{run.pk}/progress?in=page", **HX)
    assert page_poll.status_code == 286 and page_poll["HX-Refresh"] == "true"


def test_cancel_from_the_panel(shop_session, client_for, responder, viewer) -> None:
    session, _ = shop_session({"pid": 1})
    client_for(responder).post(f"/profiles/sessions/{session.pk}/start", {"service": "shop",
                               "duration_s": 30, "rate_hz": 100}, **HX)  # fmt: skip
    run = ProfileRun.objects.get()
    assert client_for(viewer).post(f"/profiles/{run.pk}/cancel", **HX).status_code == 403
    response = client_for(responder).post(f"/profiles/{run.pk}/cancel", **HX)
    assert response.status_code == 200 and "cancelled" in response.content.decode()
    run.refresh_from_db()
    assert run.state == State.CANCELLED
    again = client_for(responder).post(f"/profiles/{run.pk}/cancel", **HX)
    assert again.status_code == 409 and "ended already" in again.content.decode()


def test_the_flamegraph_page(recorded, client_for, viewer) -> None:
    run = recorded()
    response = client_for(viewer).get(f"/profiles/{run.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="fg-svg"' in html and 'data-total="100"' in html
    assert 'class="fg-names">["all", "main (app.py:1)"' in html
    # Top functions: query has the most self time, main the most total.
    self_table = html[html.index("Top functions by self time") :]
    assert re.search(
        r"query \(db\.py:10\)</td><td class=\"num\">50</td><td class=\"num\">50\.0", self_table
    )
    for kind in ("svg", "speedscope", "collapsed"):
        assert f'href="/profiles/{run.pk}/download/{kind}"' in html
    assert (
        f'href="/profiles/speedscope/#profileURL=%2Fprofiles%2F{run.pk}%2Fdownload%2Fspeedscope'
        in html
    )
    assert "<script>" not in html and "style=" not in html


def test_downloads_have_names_types_and_a_sandboxed_svg(recorded, client_for, viewer) -> None:
    run = recorded()
    stamp = run.started_at.strftime("%Y%m%d-%H%M%S")
    expected = {
        "svg": ("image/svg+xml", ".svg"),
        "speedscope": ("application/json", ".speedscope.json"),
        "collapsed": ("text/plain; charset=utf-8", ".collapsed.txt"),
    }
    client = client_for(viewer)
    for kind, (content_type, ext) in expected.items():
        response = client.get(f"/profiles/{run.pk}/download/{kind}")
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == (
            f'attachment; filename="shop-{run.pk}-{stamp}{ext}"'
        )
        body = b"".join(response.streaming_content)
        assert len(body) == run.artifacts.get(kind=kind).size
    svg = client.get(f"/profiles/{run.pk}/download/svg")
    assert svg["Content-Security-Policy"] == "sandbox"
    assert svg["X-Content-Type-Options"] == "nosniff"
    assert b"".join(client.get(f"/profiles/{run.pk}/download/collapsed").streaming_content) == (
        KNOWN.encode()
    )
    assert client.get(f"/profiles/{run.pk}/download/exe").status_code == 404
    assert client_for(None).get(f"/profiles/{run.pk}/download/svg").status_code == 302


def test_the_differential_flamegraph(recorded, client_for, viewer, responder) -> None:
    before = recorded(KNOWN)
    after = recorded(KNOWN.replace("50", "150"), session=before.session)
    response = client_for(viewer).get(f"/profiles/diff?a={before.pk}&b={after.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-total="200" data-base-total="100"' in html
    assert re.search(r'class="fg-f dp5"[^>]*data-v="150" data-s="150" data-b="50"', html)
    assert '<td class="num grew">+25.0</td>' in html  # query: 50 % → 75 %
    client = client_for(viewer)
    assert client.get("/profiles/diff?a=x&b=2").status_code == 400
    assert client.get(f"/profiles/diff?a={before.pk}&b=99999").status_code == 404
    ProfileRun.objects.filter(pk=before.pk).update(state=State.CANCELLED)
    assert client.get(f"/profiles/diff?a={before.pk}&b={after.pk}").status_code == 400
    # The panel offers the comparison once two runs succeeded.
    ProfileRun.objects.filter(pk=before.pk).update(state=State.SUCCEEDED)
    page = client_for(responder).get(f"/sessions/{before.session_id}/").content.decode()
    assert 'action="/profiles/diff"' in _panel(page)


def test_speedscope_is_served_with_its_own_csp(client_for, viewer) -> None:
    response = client_for(viewer).get("/profiles/speedscope/")
    assert response.status_code == 200, "speedscope is built by `make static`"
    csp = response["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in csp
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert '<base href="/static/vendor/speedscope/">' in response.content.decode()


def test_the_report_lists_the_profiles(recorded, client_for, viewer) -> None:
    run = recorded()
    report = client_for(viewer).get(f"/sessions/{run.session_id}/report.md").content.decode()
    # Markdown escaping aside (the report's business), the row and the hottest function:
    section = report[report.index("## Profiles") :].replace("\\", "")
    assert (
        f"| [#{run.pk}](/profiles/{run.pk}/) | shop | rita | 30 s at 100 Hz | Succeeded | 100"
        in section
    )
    assert "query (db.py:10) (50.0 %)" in section
