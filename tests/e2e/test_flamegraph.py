"""The interactive flamegraph in Chromium: zoom, search, tooltip, diff, and speedscope, with
the site's CSP in force (a blocked script or style shows up as a console error)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_collaboration import log_in, watch_console
from tests.profiling import conftest as profiling
from tests.profiling.conftest import KNOWN

# Fixtures of tests/profiling, shared here.
media = profiling.media
recorded = profiling.recorded

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEEP = KNOWN + "main (app.py:1);handle (app.py:5);query (db.py:10);fetch (db.py:40) 25\n"


def frame(page: Page, name: str):
    index = page.evaluate(
        "name => JSON.parse(document.querySelector('script.fg-names').textContent).indexOf(name)",
        name,
    )
    assert index >= 0, name
    return page.locator(f'svg.fg-f[data-n="{index}"]')


def test_zoom_search_and_hover_the_flamegraph(
    live_server, browser, recorded, responder, screenshots
) -> None:
    run = recorded(DEEP)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_console(page)
    log_in(page, live_server.url, "rita")
    page.goto(f"{live_server.url}/profiles/{run.pk}/")
    expect(page.locator(".flamegraph[data-ready=true]")).to_be_visible()

    handle, idle = frame(page, "handle (app.py:5)"), frame(page, "idle (app.py:9)")
    expect(handle).to_have_attribute("width", "84.0000%")
    page.screenshot(path=str(screenshots / "flamegraph.png"), full_page=True)

    # Zoom into handle: it fills the width, its callees scale, the sibling disappears.
    handle.locator("rect").click()
    expect(handle).to_have_attribute("width", "100.0000%")
    expect(frame(page, "query (db.py:10)")).to_have_attribute("width", "71.4286%")
    expect(idle).to_be_hidden()
    expect(page.locator(".fg-zoomed")).to_contain_text("Zoomed into handle (app.py:5)")
    # The zoomed frames are wide enough for labels now.
    expect(frame(page, "fetch (db.py:40)").locator("text")).to_have_text("fetch (db.py:40)")
    page.screenshot(path=str(screenshots / "flamegraph-zoomed.png"))
    page.click("button.fg-reset")
    expect(handle).to_have_attribute("width", "84.0000%")
    expect(idle).to_be_visible()

    # Search highlights and sums the matches; nested matches count once.
    search = page.locator("#fg-search")
    search.fill("query|render")
    expect(page.locator(".fg-matched")).to_have_text("105 samples, 84.0 %")
    expect(page.locator("svg.fg-f.fg-match")).to_have_count(2)
    search.fill("main|fetch")
    expect(page.locator(".fg-matched")).to_have_text("125 samples, 100.0 %")
    search.fill("[db")  # not a regular expression: searched as text
    expect(page.locator(".fg-matched")).to_have_text("0 samples, 0.0 %")
    search.fill("")
    expect(page.locator("svg.fg-f.fg-match")).to_have_count(0)

    frame(page, "query (db.py:10)").locator("rect").hover()
    tip = page.locator(".fg-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("query (db.py:10)")
    expect(tip).to_contain_text("75 samples, 60.0 % of all")
    expect(tip).to_contain_text("self 50 samples, 40.0 %")
    assert problems == []
    context.close()


def test_diff_and_speedscope_pages_load_under_the_csp(
    live_server, browser, recorded, responder, screenshots
) -> None:
    before = recorded(KNOWN)
    after = recorded(DEEP.replace(" 50\n", " 150\n"), session=before.session)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch_console(page)
    log_in(page, live_server.url, "rita")

    page.goto(f"{live_server.url}/sessions/{before.session_id}/")
    panel = page.locator("#profiles-panel")
    expect(panel.locator(f"#profile-run-{after.pk}")).to_contain_text("Succeeded")
    panel.locator("summary:has-text('Profile a service')").click()
    panel.screenshot(path=str(screenshots / "session-profiles-panel.png"))
    panel.locator("button:has-text('Differential flamegraph')").click()
    expect(page).to_have_url(re.compile(rf"/profiles/diff\?a={before.pk}&b={after.pk}"))
    expect(page.locator(".flamegraph[data-ready=true]")).to_be_visible()
    # render shrank from 30 % to 13 % of all samples: blue; fetch is new: red.
    expect(frame(page, "render (tpl.py:3)")).to_have_class(re.compile(r"\bdm\d"))
    expect(frame(page, "fetch (db.py:40)")).to_have_class(re.compile(r"\bdp\d"))
    frame(page, "render (tpl.py:3)").locator("rect").hover()
    expect(page.locator(".fg-tip")).to_contain_text(
        "before 30.00 % → after 13.33 % (-16.67 points)"
    )
    page.screenshot(path=str(screenshots / "flamegraph-diff.png"), full_page=True)

    page.goto(f"{live_server.url}/profiles/{after.pk}/")
    with context.expect_page() as opened:
        page.click("text=Open in speedscope")
    speedscope = opened.value
    more = watch_console(speedscope)
    speedscope.wait_for_load_state()
    # speedscope shows the profile once it has fetched and parsed our download.
    expect(speedscope.locator("body")).to_contain_text(f"shop #{after.pk}", timeout=10_000)
    expect(speedscope.locator("canvas").first).to_be_visible()
    speedscope.screenshot(path=str(screenshots / "speedscope.png"))
    assert problems == [] and more == []
    context.close()
