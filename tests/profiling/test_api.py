"""The profiling API and the services API's profiling target, per role."""

import pytest

from profiling.models import ProfileRun
from services.models import Service
from tests.api import call

pytestmark = pytest.mark.django_db


def test_start_poll_and_cancel_a_profile(shop_session, responder, viewer, token_for) -> None:
    session, _ = shop_session({"pid": 1})
    path = f"/sessions/{session.pk}/profiles"
    body = {"service": "shop", "duration_s": 10, "rate_hz": 200, "subprocesses": True}
    denied = call("post", path, token_for(viewer), body)
    assert denied.status_code == 403 and not ProfileRun.objects.exists()
    assert call("post", path, None, body).status_code == 401

    created = call("post", path, token_for(responder), body)
    assert created.status_code == 202
    run = ProfileRun.objects.get()
    assert created.json() == {"id": run.pk, "state": "queued"}
    assert (run.duration_s, run.rate_hz, run.subprocesses) == (10, 200, True)

    data = call("get", f"/profiles/{run.pk}", token_for(viewer)).json()
    assert data | {"created_at": None} == {
        "id": run.pk, "session": session.pk, "service": "shop", "state": "queued",
        "duration_s": 10, "rate_hz": 200, "options": ["subprocesses"], "pid": None,
        "samples": 0, "created_at": None, "started_at": None, "finished_at": None, "error": "",
        "flamegraph_url": f"http://testserver/profiles/{run.pk}/", "artifacts": [],
    }  # fmt: skip

    assert call("post", f"/profiles/{run.pk}/cancel", token_for(viewer)).status_code == 403
    cancelled = call("post", f"/profiles/{run.pk}/cancel", token_for(responder))
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    again = call("post", f"/profiles/{run.pk}/cancel", token_for(responder))
    assert again.status_code == 409 and "ended already" in again.json()["detail"]
    assert call("get", "/profiles/99999", token_for(viewer)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"service": "shop", "duration_s": 121}, "duration_s"),
        ({"service": "shop", "duration_s": 0}, "duration_s"),
        ({"service": "shop", "rate_hz": 251}, "rate_hz"),
        ({"service": "nope"}, "service"),
        ({"duration_s": 5}, "service"),
    ],
)
def test_bad_input_names_the_field(shop_session, responder, token_for, body, field) -> None:
    session, _ = shop_session({"pid": 1})
    response = call("post", f"/sessions/{session.pk}/profiles", token_for(responder), body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)
    assert not ProfileRun.objects.exists()


def test_a_busy_service_is_a_conflict(shop_session, responder, token_for) -> None:
    session, _ = shop_session({"pid": 1})
    path = f"/sessions/{session.pk}/profiles"
    assert call("post", path, token_for(responder), {"service": "shop"}).status_code == 202
    busy = call("post", path, token_for(responder), {"service": "shop"})
    assert busy.status_code == 409
    assert busy.json()["detail"].startswith("service: shop is being profiled already")


def test_artifacts_are_listed_with_urls_sizes_and_hashes(recorded, token_for, viewer) -> None:
    run = recorded()
    data = call("get", f"/profiles/{run.pk}", token_for(viewer)).json()
    assert data["state"] == "succeeded" and data["samples"] == 100
    by_kind = {a["kind"]: a for a in data["artifacts"]}
    assert set(by_kind) == {"svg", "speedscope", "collapsed"}
    for kind, artifact in by_kind.items():
        stored = run.artifacts.get(kind=kind)
        assert artifact == {
            "kind": kind,
            "url": f"http://testserver/profiles/{run.pk}/download/{kind}",
            "size": stored.size,
            "sha256": stored.sha256,
        }


def test_services_take_an_agent_and_a_process_selector(admin, responder, token_for) -> None:
    token = token_for(admin)
    body = {
        "name": "payments",
        "base_url": "http://127.0.0.1:8080",
        "agent": "db-1",
        "process_selector": {"cmdline_regex": "gunicorn: master \\[payments"},
    }
    assert call("post", "/services", token_for(responder), body).status_code == 403
    created = call("post", "/services", token, body)
    assert created.status_code == 201
    assert created.json()["agent"] == "db-1"
    assert created.json()["process_selector"] == {"cmdline_regex": "gunicorn: master \\[payments"}

    patched = call(
        "patch", "/services/payments", token, {"process_selector": {"pid_file": "/run/p.pid"}}
    )
    assert patched.status_code == 200
    assert Service.objects.get().process_selector == {"pid_file": "/run/p.pid"}
    cleared = call("patch", "/services/payments", token, {"process_selector": {}})
    assert cleared.json()["process_selector"] == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"process_selector": {"pid": 0}}, "process_selector"),
        ({"process_selector": {"pid": True}}, "process_selector"),
        ({"process_selector": {"pid_file": "relative/app.pid"}}, "process_selector"),
        ({"process_selector": {"cmdline_regex": "gunicorn[("}}, "process_selector"),
        ({"process_selector": {"cmdline_regex": "x" * 201}}, "process_selector"),
        ({"process_selector": {"pid": 1, "pid_file": "/a"}}, "process_selector"),
        ({"process_selector": {"name": "gunicorn"}}, "process_selector"),
        ({"agent": "Has Spaces"}, "agent"),
        ({"agent": None}, "agent"),
    ],
)
def test_bad_profiling_targets_name_the_field(admin, token_for, changes, field) -> None:
    token = token_for(admin)
    body = {"name": "payments", "base_url": "http://127.0.0.1:8080"}
    assert call("post", "/services", token, body).status_code == 201
    response = call("patch", "/services/payments", token, changes)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}:")
    service = Service.objects.get()
    assert (service.agent, service.process_selector) == ("local", {})
    created = call("post", "/services", token, {**body, "name": "other", **changes})
    assert created.status_code == 400 and Service.objects.count() == 1
