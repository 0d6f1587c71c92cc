"""Resolving a session switches off everything it switched on, and the checklist ticks
what the system can prove."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from flags import actions
from flags.models import FlagOverride, LogLevelOverride
from services import actions as service_actions
from sessions import actions as session_actions
from tests.factories import make_session
from tests.flags.conftest import DEMO_TOKEN

pytestmark = pytest.mark.django_db


def _override(session, flag, user, value: str) -> FlagOverride:
    return actions.override_create(session=session, flag=flag, variant="on",
                                   attribute="targetingKey", operator="in", values=[value],
                                   actor=user)  # fmt: skip


def test_resolve_with_active_expired_and_failing_interventions(
    client_for, responder, debug_flag, demo_target, django_capture_on_commit_callbacks
) -> None:
    demo = service_actions.service_create(name="demo", base_url=demo_target.url,
                                          admin_token=DEMO_TOKEN)  # fmt: skip
    down = service_actions.service_create(name="down", base_url="http://127.0.0.1:9",
                                          admin_token=DEMO_TOKEN)  # fmt: skip
    session = make_session(responder, services=[demo, down])
    active = _override(session, debug_flag, responder, "u1")
    expired = _override(session, debug_flag, responder, "u2")
    FlagOverride.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))
    good = actions.loglevel_create(session=session, service=demo, logger="demo_shop.checkout",
                                   level="DEBUG", actor=responder)  # fmt: skip
    actions.loglevel_apply(override_id=good.pk)
    stuck = LogLevelOverride.objects.create(
        session=session, service=down, logger="shop.db", level="DEBUG", state="applied",
        previous_level="INFO", previous_effective="INFO", applied_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=10), created_by=responder,
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(responder).post(f"/sessions/{session.pk}/resolve", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "not everything could be switched off" in page and "shop.db on down" in page

    session.refresh_from_db()
    assert session.status == "resolved" and session.resolved_at
    active.refresh_from_db()
    assert active.reverted_at is not None
    good.refresh_from_db()
    assert (good.state, good.verified) == ("reverted", True)
    level = httpx.get(f"{demo_target.url}/admin/log-level", params={"module": "demo_shop.checkout"},
                      headers={"admin_token": DEMO_TOKEN}).json()["level"]  # fmt: skip
    assert level == "INFO"
    stuck.refresh_from_db()
    assert stuck.state == "revert_failed"
    cleanup = session.events.get(kind="session.cleanup").message
    assert cleanup.startswith("Resolution clean-up incomplete") and "shop.db on down" in cleanup
    # What the system can prove: debug mode is off; the log levels are not all restored.
    states = dict(session.items.values_list("auto_rule", "state"))
    assert states["no_active_flag_override"] == "done"
    assert states["log_levels_restored"] == "todo"


def test_resolved_sessions_are_read_only_but_findings_and_follow_ups(client_for, responder) -> None:
    session = make_session(responder)
    session_actions.session_resolve(session=session, actor=responder)
    item = session.items.first()
    with pytest.raises(session_actions.ActionError, match="resolved"):
        session_actions.item_update(item=item, actor=responder,
                                    change=session_actions.ItemChange(state="done"))  # fmt: skip
    with pytest.raises(session_actions.ActionError, match="resolved"):
        session_actions.session_add_note(session=session, actor=responder, text="late")
    with pytest.raises(session_actions.ActionError, match="resolved"):
        session_actions.trace_add(session=session, actor=responder, trace_id="a" * 32)
    session_actions.findings_set(session=session, actor=responder, text="root cause: pool")
    session_actions.followup_add(session=session, actor=responder, title="raise pool size")
    page = client_for(responder).get(f"/sessions/{session.pk}/").content.decode()
    assert 'class="tick"' not in page and "Edit findings" in page and "Reopen" in page
    session_actions.session_set_status(session=session, status="investigating", actor=responder)
    assert session.events.filter(message="Reopened: resolved → investigating").exists()


def test_auto_ticks_name_their_evidence_and_respect_a_human_untick(
    responder, debug_flag, django_capture_on_commit_callbacks
) -> None:
    session = make_session(responder)
    with django_capture_on_commit_callbacks(execute=True):
        session_actions.trace_add(session=session, actor=responder, trace_id="b" * 32)
    items = {i.auto_rule: i for i in session.items.exclude(auto_rule="")}
    trace_item = items["trace_recorded"]
    trace_item.refresh_from_db()
    assert (trace_item.state, trace_item.auto_done, trace_item.done_by) == ("done", True, None)
    auto = session.events.filter(kind="item.auto").values_list("message", flat=True)
    assert f"Auto-ticked “{trace_item.title}” — evidence: trace {'b' * 32} recorded by rita" in auto

    # A human disagrees: untick, and further evidence does not re-tick it.
    with django_capture_on_commit_callbacks(execute=True):
        session_actions.item_update(item=trace_item, actor=responder,
                                    change=session_actions.ItemChange(state="todo"))  # fmt: skip
        session_actions.trace_add(session=session, actor=responder, trace_id="c" * 32)
    trace_item.refresh_from_db()
    assert (trace_item.state, trace_item.auto_suppressed) == ("todo", True)

    with django_capture_on_commit_callbacks(execute=True):
        _override(session, debug_flag, responder, "u9")
        session_actions.followup_add(session=session, actor=responder, title="fix it")
        session_actions.findings_set(session=session, actor=responder, text="found it")
    done = set(session.items.filter(state="done").values_list("auto_rule", flat=True))
    assert {"flag_override_applied", "follow_up_recorded", "findings_written"} <= done
    assert "no_active_flag_override" not in done  # the override is still on


def test_resolving_cancels_queued_profiles(responder) -> None:
    from profiling.models import ProfileRun

    service = service_actions.service_create(name="svc", base_url="http://127.0.0.1:9")
    session = make_session(responder, services=[service])
    run = ProfileRun.objects.create(session=session, service=service, service_name="svc",
                                    agent="local", requested_by=responder)  # fmt: skip
    result = session_actions.session_resolve(session=session, actor=responder)
    run.refresh_from_db()
    assert run.state == "cancelled"
    assert result.ended == [f"profile #{run.pk} of svc"] and result.remaining == []
