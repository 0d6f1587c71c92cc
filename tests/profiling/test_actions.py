"""Starting, refusing, executing, cancelling and sweeping runs, with real py-spy where it runs."""

import hashlib
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from profiling import actions, agent, queries
from profiling.models import ProfileArtifact, ProfileRun
from profiling.tasks import profile_run
from sessions.actions import ActionError
from sessions.models import ItemState
from tests.profiling.conftest import FUNCTION, make_profiled_service

pytestmark = pytest.mark.django_db
State = ProfileRun.State


@pytest.fixture
def sent(monkeypatch) -> list[tuple[list[int], str]]:
    """What profile_start hands to Celery (args, queue), instead of the broker."""
    calls: list[tuple[list[int], str]] = []
    monkeypatch.setattr(profile_run, "apply_async", lambda args, queue: calls.append((args, queue)))
    return calls


def test_start_queues_the_run_for_the_services_agent(
    shop_session, responder, sent, django_capture_on_commit_callbacks
) -> None:
    session, service = shop_session({"pid": 1})
    service.agent = "db-host-1"
    service.save(update_fields=["agent"])
    with django_capture_on_commit_callbacks(execute=True):
        run = actions.profile_start(
            session=session, service=service, actor=responder, duration_s=45, rate_hz=50, idle=True
        )
    assert sent == [([run.pk], "profiling.db-host-1")]
    run.refresh_from_db()
    assert (run.state, run.agent, run.selector, run.duration_s, run.rate_hz, run.idle) == (
        State.QUEUED, "db-host-1", {"pid": 1}, 45, 50, True,
    )  # fmt: skip
    event = session.events.get(kind="profile.requested")
    assert event.message == "Requested a 45 s profile of shop at 50 Hz (idle)"
    assert event.actor == responder


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"duration_s": 0}, "duration_s"),
        ({"duration_s": 121}, "duration_s"),
        ({"rate_hz": 0}, "rate_hz"),
        ({"rate_hz": 251}, "rate_hz"),
    ],
)
def test_out_of_range_settings_name_the_field(shop_session, responder, changes, field) -> None:
    session, service = shop_session({"pid": 1})
    with pytest.raises(ActionError) as caught:
        actions.profile_start(session=session, service=service, actor=responder, **changes)
    assert caught.value.field == field
    assert ProfileRun.objects.count() == 0


def test_it_refuses_services_it_cannot_profile(shop_session, responder) -> None:
    session, service = shop_session({})
    with pytest.raises(ActionError, match="no profiling target"):
        actions.profile_start(session=session, service=service, actor=responder)
    other = make_profiled_service({"pid": 1}, name="other")
    with pytest.raises(ActionError, match="not among the session's affected services"):
        actions.profile_start(session=session, service=other, actor=responder)
    assert ProfileRun.objects.count() == 0


def test_one_run_per_process_and_a_global_cap(shop_session, responder, settings) -> None:
    settings.PRODBUG_PROFILE_MAX_CONCURRENT = 2
    session, shop = shop_session({"pid": 1})
    first = actions.profile_start(session=session, service=shop, actor=responder)
    with pytest.raises(
        actions.ProfileRefused, match=f"shop is being profiled already \\(run {first.pk}"
    ):
        actions.profile_start(session=session, service=shop, actor=responder)

    second, third = (make_profiled_service({"pid": 1}, name=n) for n in ("api", "db"))
    session.services.add(second, third)
    actions.profile_start(session=session, service=second, actor=responder)
    with pytest.raises(actions.ProfileRefused, match="2 profiles are running already"):
        actions.profile_start(session=session, service=third, actor=responder)
    assert ProfileRun.objects.count() == 2

    # A finished run frees its slot.
    ProfileRun.objects.filter(pk=first.pk).update(state=State.SUCCEEDED)
    actions.profile_start(session=session, service=third, actor=responder)
    assert ProfileRun.objects.filter(state=State.QUEUED).count() == 2


def _start(session, service, actor, **options) -> ProfileRun:
    return actions.profile_start(session=session, service=service, actor=actor, **options)


def test_execute_profiles_the_process_and_stores_the_artifacts(
    busy, pyspy, media, shop_session, responder, django_capture_on_commit_callbacks
) -> None:
    target = busy()
    session, service = shop_session({"cmdline_regex": target.marker})
    run = _start(session, service, responder, duration_s=2)

    with django_capture_on_commit_callbacks(execute=True):  # the checklist's auto-ticks
        run = actions.profile_execute(run_id=run.pk)
    assert run.state == State.SUCCEEDED, run.error
    assert run.pid == target.pid and FUNCTION in run.command
    # ~200 at 100 Hz for 2 s; fewer when the busy target loses its CPU on a loaded machine.
    assert 20 <= run.samples <= 220 and run.error == ""
    assert run.started_at and run.finished_at and run.sampled_s >= 2

    artifacts = {a.kind: a for a in run.artifacts.all()}
    assert set(artifacts) == {"svg", "speedscope", "collapsed"}
    for artifact in artifacts.values():
        data = Path(artifact.file.path).read_bytes()
        assert artifact.size == len(data) and artifact.sha256 == hashlib.sha256(data).hexdigest()
        assert artifact.file.name.startswith(f"profiles/run-{run.pk}/")
    collapsed = Path(artifacts["collapsed"].file.path).read_text()
    assert FUNCTION in collapsed
    speedscope = json.loads(Path(artifacts["speedscope"].file.path).read_text())
    assert FUNCTION in {f["name"] for f in speedscope["shared"]["frames"]}
    assert sum(speedscope["profiles"][0]["weights"]) == pytest.approx(run.samples / 100)
    assert FUNCTION in Path(artifacts["svg"].file.path).read_text()

    kinds = list(session.events.order_by("id").values_list("kind", "message"))
    assert [k for k, _ in kinds[-4:]] == [
        "profile.requested", "profile.started", "profile.succeeded", "item.auto",
    ]  # fmt: skip
    assert f"PID {target.pid}" in kinds[-3][1]
    assert kinds[-2][1] == f"Profile of shop finished: {run.samples:,} samples"
    # The checklist's "Collect profiling data" ticks itself; the 30 s item does not (2 s run).
    assert kinds[-1][1].endswith(f"evidence: profile #{run.pk} of shop, {run.samples:,} samples")
    ticked = session.items.filter(state=ItemState.DONE).values_list("auto_rule", flat=True)
    assert list(ticked) == ["profile_succeeded"]
    assert session.items.get(auto_rule="profile_30s_succeeded").state == ItemState.TODO


def test_only_a_full_length_profile_is_evidence_of_a_30_s_profile(shop_session, responder):
    session, service = shop_session({"pid": 1})
    run = _start(session, service, responder, duration_s=30)
    assert queries.evidence_profile(session) is None
    ProfileRun.objects.filter(pk=run.pk).update(state=State.SUCCEEDED, samples=90, sampled_s=9.0)
    assert queries.evidence_profile(session) == f"profile #{run.pk} of shop, 90 samples"
    assert queries.evidence_profile_30s(session) is None  # the target exited after 9 s
    ProfileRun.objects.filter(pk=run.pk).update(samples=3000, sampled_s=30.2)
    assert queries.evidence_profile_30s(session) == f"profile #{run.pk} of shop, 3,000 samples"
    ProfileRun.objects.filter(pk=run.pk).update(state=State.CANCELLED)
    assert queries.evidence_profile(session) is None


def test_a_redelivered_task_does_nothing(shop_session, responder) -> None:
    session, service = shop_session({"pid": 1})
    run = _start(session, service, responder)
    ProfileRun.objects.filter(pk=run.pk).update(state=State.RUNNING)
    assert actions.profile_execute(run_id=run.pk) is None
    assert actions.profile_execute(run_id=999_999) is None


def test_selector_errors_fail_the_run_before_py_spy_starts(busy, shop_session, responder) -> None:
    first = busy()
    busy(marker=first.marker)
    session, service = shop_session({"cmdline_regex": first.marker})
    run = actions.profile_execute(run_id=_start(session, service, responder).pk)
    assert run.state == State.FAILED and run.pid is None
    assert run.error.startswith(f"2 processes match /{first.marker}/")
    assert not run.artifacts.exists()
    assert session.events.filter(kind="profile.started").count() == 0
    assert session.events.get(kind="profile.failed").message.startswith(
        "Profile of shop failed: 2 processes match"
    )


def test_a_target_that_exits_mid_run_stops_the_run_on_time(
    busy, pyspy, media, shop_session, responder
) -> None:
    target = busy(seconds=1.5)
    session, service = shop_session({"pid": target.pid})
    run = _start(session, service, responder, duration_s=60)
    run = actions.profile_execute(run_id=run.pk)
    assert run.state == State.SUCCEEDED and run.samples > 0
    assert (run.finished_at - run.started_at) < timedelta(seconds=6)
    assert "the process exited after" in session.events.get(kind="profile.succeeded").message


def test_a_hung_py_spy_times_out(busy, media, shop_session, responder, settings, tmp_path) -> None:
    fake = tmp_path / "py-spy"
    fake.write_text("#!/bin/sh\nexec sleep 1000\n")
    fake.chmod(0o755)
    settings.PRODBUG_PYSPY = str(fake)
    target = busy()
    session, service = shop_session({"pid": target.pid})
    run = actions.profile_execute(run_id=_start(session, service, responder, duration_s=1).pk)
    assert run.state == State.TIMED_OUT
    assert run.finished_at - run.started_at < timedelta(seconds=1 + agent.MARGIN_S + 4)
    assert run.error == f"py-spy did not finish within {1 + agent.MARGIN_S:.0f} s and was stopped."
    assert session.events.get(kind="profile.timed_out").message.startswith(
        "Profile of shop timed out"
    )


@pytest.mark.django_db(transaction=True)
def test_cancel_while_running_keeps_the_partial_profile(
    busy, pyspy, media, shop_session, responder, teammate
) -> None:
    target = busy()
    session, service = shop_session({"pid": target.pid})
    run = _start(session, service, responder, duration_s=60)

    def cancel_soon() -> None:
        # Once running (claimed), as a teammate pressing Cancel a second later.
        try:
            for _ in range(50):
                current = ProfileRun.objects.get(pk=run.pk)
                if current.state == State.RUNNING and current.pid:
                    break
                threading.Event().wait(0.1)
            threading.Event().wait(1.0)
            actions.profile_cancel(run=current, actor=teammate)
        finally:
            connection.close()  # this thread's own connection

    canceller = threading.Thread(target=cancel_soon)
    canceller.start()
    result = actions.profile_execute(run_id=run.pk)
    canceller.join()
    assert result.state == State.CANCELLED
    assert 0 < result.samples < 500 and result.finished_at - result.started_at < timedelta(
        seconds=8
    )
    assert result.artifacts.count() == 3
    kinds = list(session.events.values_list("kind", flat=True))
    assert "profile.cancel_requested" in kinds and "profile.cancelled" in kinds
    assert session.items.filter(state=ItemState.DONE).count() == 0  # not evidence of success


def test_cancel_a_queued_run_ends_it_at_once(shop_session, responder) -> None:
    session, service = shop_session({"pid": 1})
    run = actions.profile_cancel(run=_start(session, service, responder), actor=responder)
    assert (run.state, run.cancel_requested) == (State.CANCELLED, True)
    assert actions.profile_execute(run_id=run.pk) is None  # the agent finds nothing to do
    with pytest.raises(actions.ProfileRefused, match="ended already"):
        actions.profile_cancel(run=run, actor=responder)


def test_the_sweeper_fails_runs_no_agent_took_or_finished(shop_session, responder) -> None:
    session, service = shop_session({"pid": 1})
    queued = _start(session, service, responder)
    other = make_profiled_service({"pid": 1}, name="api")
    session.services.add(other)
    running = _start(session, other, responder)
    ProfileRun.objects.filter(pk=running.pk).update(state=State.RUNNING, started_at=timezone.now())
    assert actions.profile_fail_stale() == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=130)):
        assert actions.profile_fail_stale() == 1
    queued.refresh_from_db()
    assert queued.state == State.FAILED and "profiling.local" in queued.error
    with time_machine.travel(timezone.now() + timedelta(seconds=actions.TASK_HARD_LIMIT_S + 31)):
        assert actions.profile_fail_stale() == 1
    running.refresh_from_db()
    assert running.state == State.FAILED and "stopped answering" in running.error
    assert session.events.filter(kind="profile.failed").count() == 2


def test_deleting_a_run_or_its_session_removes_the_files(
    busy, pyspy, media, shop_session, responder, django_capture_on_commit_callbacks
) -> None:
    target = busy()
    session, service = shop_session({"pid": target.pid})
    run = actions.profile_execute(run_id=_start(session, service, responder, duration_s=1).pk)
    paths = [Path(a.file.path) for a in run.artifacts.all()]
    assert len(paths) == 3 and all(p.exists() for p in paths)
    with django_capture_on_commit_callbacks(execute=True):
        session.delete()
    assert not ProfileArtifact.objects.exists()
    assert not any(p.exists() for p in paths)
