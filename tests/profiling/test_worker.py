"""The whole path: the session page queues a run, the agent's worker (queue profiling.local)
profiles a real busy process with a real py-spy, the page shows the result."""

import json
from pathlib import Path

import pytest

from profiling.models import ProfileRun
from tests.conftest import wait_for
from tests.profiling.conftest import FUNCTION

pytestmark = pytest.mark.worker
HX = {"HTTP_HX_REQUEST": "true"}


def _ended(run: ProfileRun) -> bool:
    run.refresh_from_db()
    return not run.is_active


def test_a_profile_requested_on_the_page_runs_on_the_agent(
    profiling_worker, busy, pyspy, shop_session, client_for, responder
) -> None:
    target = busy()
    session, _ = shop_session({"cmdline_regex": target.marker})
    client = client_for(responder)
    response = client.post(
        f"/profiles/sessions/{session.pk}/start",
        {"service": "shop", "duration_s": "2", "rate_hz": "100"},
        **HX,
    )
    assert response.status_code == 200
    run = ProfileRun.objects.get()
    wait_for(lambda: run.refresh_from_db() or run.state == ProfileRun.State.RUNNING, timeout=20)
    progress = client.get(f"/profiles/{run.pk}/progress", **HX)
    assert progress.status_code == 200 and "<progress" in progress.content.decode()

    wait_for(lambda: _ended(run), timeout=30)
    assert run.state == ProfileRun.State.SUCCEEDED, run.error
    assert run.pid == target.pid and 20 <= run.samples <= 220  # ~200, fewer under load
    files = {a.kind: Path(a.file.path) for a in run.artifacts.all()}
    assert FUNCTION in files["collapsed"].read_text()
    frames = json.loads(files["speedscope"].read_text())["shared"]["frames"]
    assert FUNCTION in {f["name"] for f in frames}

    done = client.get(f"/profiles/{run.pk}/progress", **HX)
    assert done.status_code == 286
    page = client.get(f"/profiles/{run.pk}/").content.decode()
    assert FUNCTION in page and 'class="fg-svg"' in page
    # The checklist's "Collect profiling data" ticks itself once the run's result is committed.
    wait_for(lambda: session.events.filter(kind="item.auto").exists(), timeout=5)
    kinds = list(session.events.order_by("id").values_list("kind", flat=True))
    assert kinds[-4:] == [
        "profile.requested",
        "profile.started",
        "profile.succeeded",
        "item.auto",
    ]

    session.delete()  # also removes the files
    assert not any(path.exists() for path in files.values())
