"""Every write of the profiling app: starting, cancelling and executing runs, and their files."""

import hashlib
import json
from datetime import timedelta

import structlog
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from profiling import agent, flamegraph
from profiling.models import (
    ARTIFACT_FORMATS,
    MAX_DURATION_S,
    MAX_RATE_HZ,
    MIN_DURATION_S,
    MIN_RATE_HZ,
    ArtifactKind,
    ProfileArtifact,
    ProfileRun,
)
from services.models import Service
from sessions.actions import ActionError, event_record
from sessions.models import DebugSession

log = structlog.get_logger(__name__)

State = ProfileRun.State
# Rendering and storing the artifacts after py-spy stops; part of the task's time limits.
RENDER_MARGIN_S = 25
# Static for the task (Celery limits cannot vary per run): the longest run and its margins.
TASK_SOFT_LIMIT_S = MAX_DURATION_S + int(agent.MARGIN_S + agent.STOP_GRACE_S) + RENDER_MARGIN_S
TASK_HARD_LIMIT_S = TASK_SOFT_LIMIT_S + 15
# The downloadable SVG draws up to this many frames, the widest (it is not interactive, so
# it can afford more than the page).
SVG_MAX_FRAMES = 20_000
# Any fixed number: every web process takes the same PostgreSQL advisory lock ("prof").
_START_LOCK = 0x70726F66


class ProfileRefused(ActionError):
    """The request is valid but cannot run now (a run is active, the cap is reached)."""


# --- Start and cancel -----------------------------------------------------------------------


def _check_range(value: int, low: int, high: int, *, field: str, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ActionError(f"Give {low}–{high} {unit}.", field=field)


def _lock_starts() -> None:
    """Serialise the cap check across web processes (SQLite's IMMEDIATE transactions already
    do; PostgreSQL needs a lock, and there is no row to take it on)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_START_LOCK])


def _refuse_if_busy(service: Service) -> None:
    active = ProfileRun.objects.filter(state__in=ProfileRun.ACTIVE)
    current = active.filter(service=service).select_related("requested_by").first()
    if current is not None:
        who = current.requested_by.get_username() if current.requested_by else "prodbug"
        raise ProfileRefused(
            f"{service.name} is being profiled already (run {current.pk}, {current.state}, "
            f"requested by {who}); one run per process at a time.",
            field="service",
        )
    limit = settings.PRODBUG_PROFILE_MAX_CONCURRENT
    if active.count() >= limit:
        raise ProfileRefused(
            f"{limit} profile{'s are' if limit != 1 else ' is'} running already, the most at "
            "once (PRODBUG_PROFILE_MAX_CONCURRENT); wait for one to finish or cancel it.",
            field="service",
        )


@transaction.atomic
def profile_start(
    *,
    session: DebugSession,
    service: Service,
    actor: AbstractBaseUser,
    duration_s: int = 30,
    rate_hz: int = 100,
    idle: bool = False,
    native: bool = False,
    subprocesses: bool = False,
    gil: bool = False,
) -> ProfileRun:
    """Queue a run for the agent on the service's host (queue `profiling.<agent>`)."""
    _check_range(duration_s, MIN_DURATION_S, MAX_DURATION_S, field="duration_s", unit="seconds")
    _check_range(rate_hz, MIN_RATE_HZ, MAX_RATE_HZ, field="rate_hz", unit="samples per second")
    if not session.is_open:
        raise ActionError("The session is resolved; reopen it to profile.", field="session")
    if not session.services.filter(pk=service.pk).exists():
        raise ActionError(
            f"{service.name} is not among the session's affected services; add it first.",
            field="service",
        )
    if not service.can_profile:
        raise ActionError(
            f"{service.name} has no profiling target; an admin sets its process_selector.",
            field="service",
        )
    _lock_starts()
    _refuse_if_busy(service)
    try:
        with transaction.atomic():
            run = ProfileRun.objects.create(
                session=session,
                service=service,
                service_name=service.name,
                requested_by=actor,
                agent=service.agent,
                selector=service.process_selector,
                duration_s=duration_s,
                rate_hz=rate_hz,
                idle=idle,
                native=native,
                subprocesses=subprocesses,
                gil=gil,
            )
    except IntegrityError as exc:  # a concurrent request won the race for this service
        raise ProfileRefused(
            f"{service.name} is being profiled already; one run per process at a time.",
            field="service",
        ) from exc
    options = f" ({', '.join(run.options)})" if run.options else ""
    event_record(
        session=session,
        kind="profile.requested",
        actor=actor,
        message=f"Requested a {duration_s} s profile of {service.name} at {rate_hz} Hz{options}",
        data={"run": run.pk, "service": service.slug, "agent": service.agent},
    )
    from profiling.tasks import profile_run  # tasks import actions

    queue = f"profiling.{service.agent}"
    transaction.on_commit(lambda: profile_run.apply_async(args=[run.pk], queue=queue))
    return run


@transaction.atomic
def profile_cancel(*, run: ProfileRun, actor: AbstractBaseUser) -> ProfileRun:
    """A queued run ends here and now; a running one is stopped by its agent (it polls the
    flag), which keeps what py-spy sampled so far."""
    now = timezone.now()
    dropped = ProfileRun.objects.filter(pk=run.pk, state=State.QUEUED).update(
        state=State.CANCELLED, cancel_requested=True, finished_at=now
    )
    if not dropped:
        asked = ProfileRun.objects.filter(pk=run.pk, state=State.RUNNING).update(
            cancel_requested=True
        )
        if not asked:
            run.refresh_from_db()
            raise ProfileRefused(f"The run has ended already ({run.state}).", field="state")
    run.refresh_from_db()
    event_record(
        session=run.session,
        kind="profile.cancelled" if dropped else "profile.cancel_requested",
        actor=actor,
        message=f"Cancelled the profile of {run.service_name}"
        + ("" if dropped else ": stopping py-spy, keeping what it sampled"),
        data={"run": run.pk},
    )
    return run


# --- Execution (on the agent) ---------------------------------------------------------------


def _claim(run_id: int) -> ProfileRun | None:
    claimed = ProfileRun.objects.filter(pk=run_id, state=State.QUEUED).update(
        state=State.RUNNING, started_at=timezone.now()
    )
    return ProfileRun.objects.select_related("session").get(pk=run_id) if claimed else None


@transaction.atomic
def _record_target(run: ProfileRun, target: agent.Target) -> None:
    ProfileRun.objects.filter(pk=run.pk).update(pid=target.pid, command=target.command[:300])
    run.pid, run.command = target.pid, target.command[:300]
    event_record(
        session=run.session,
        kind="profile.started",
        message=f"Profiling {run.service_name}: PID {target.pid} ({target.command[:80]}) "
        f"for {run.duration_s} s at {run.rate_hz} Hz",
        data={"run": run.pk, "pid": target.pid},
    )


def profile_execute(*, run_id: int) -> ProfileRun | None:
    """Claim a queued run and carry it out on this host. None when it was not queued any more
    (a redelivered task, a cancel, or the stale sweeper got there first)."""
    run = _claim(run_id)
    if run is None:
        return None
    log.info("profile.claimed", run=run_id, agent=run.agent)
    try:
        target = agent.resolve(run.selector)
        _record_target(run, target)
        recording = agent.record(
            agent.Request(
                pid=target.pid,
                duration_s=run.duration_s,
                rate_hz=run.rate_hz,
                idle=run.idle,
                native=run.native,
                subprocesses=run.subprocesses,
                gil=run.gil,
            ),
            pyspy=agent.pyspy_path(settings.PRODBUG_PYSPY),
            should_cancel=lambda: ProfileRun.objects.filter(
                pk=run_id, cancel_requested=True
            ).exists(),
        )
        return _finish(run, recording)
    except agent.SelectorError as exc:
        return _end(run, State.FAILED, error=str(exc))
    except SoftTimeLimitExceeded:
        return _end(run, State.TIMED_OUT, error="The agent's time limit for the run passed.")
    except Exception as exc:  # a bug or a storage failure: the run must still end
        log.exception("profile.failed", run=run_id)
        return _end(run, State.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])


_OUTCOME_STATE = {
    agent.Outcome.FINISHED: State.SUCCEEDED,
    agent.Outcome.CANCELLED: State.CANCELLED,
    agent.Outcome.TIMED_OUT: State.TIMED_OUT,
    agent.Outcome.FAILED: State.FAILED,
}


def _finish(run: ProfileRun, recording: agent.Recording) -> ProfileRun:
    stacks = flamegraph.parse_collapsed(recording.collapsed)
    samples = flamegraph.total_samples(stacks)
    if samples:  # also for a cancelled or timed-out run: partial evidence is evidence
        _store_artifacts(run, stacks, recording.collapsed, samples)
    error = recording.error
    if recording.outcome == agent.Outcome.FINISHED and not samples:
        error = (
            "No samples: the process was idle the whole time. Turn on “idle” to include "
            "waiting threads; for a pre-fork server (gunicorn, Celery) selected by its master, "
            "turn on “subprocesses” to reach the workers."
        )
    return _end(
        run,
        _OUTCOME_STATE[recording.outcome],
        samples=samples,
        sampled_s=round(recording.sampled_s, 2),
        error=error,
        exited_early=recording.exited_early,
    )


def _artifact_title(run: ProfileRun, samples: int) -> str:
    when = timezone.localtime(run.started_at or run.created_at).strftime("%Y-%m-%d %H:%M:%S %Z")
    return f"{run.service_name} · run {run.pk} · {samples:,} samples at {run.rate_hz} Hz · {when}"


def _store_artifacts(run: ProfileRun, stacks: flamegraph.Stacks, raw: str, samples: int) -> None:
    tree = flamegraph.build_tree(stacks)
    svg_layout = flamegraph.analyze(tree, max_frames=SVG_MAX_FRAMES).layout
    title = _artifact_title(run, samples)
    speedscope = flamegraph.to_speedscope(stacks, name=title, rate_hz=run.rate_hz)
    contents = {
        ArtifactKind.COLLAPSED: raw if raw.endswith("\n") else raw + "\n",
        ArtifactKind.SPEEDSCOPE: json.dumps(speedscope, separators=(",", ":")),
        ArtifactKind.SVG: flamegraph.render_svg(svg_layout, title=title),
    }
    for kind, text in contents.items():
        data = text.encode()
        artifact = ProfileArtifact(
            run=run, kind=kind, size=len(data), sha256=hashlib.sha256(data).hexdigest()
        )
        artifact.file.save(f"{kind}{ARTIFACT_FORMATS[kind][0]}", ContentFile(data), save=False)
        artifact.save()


@transaction.atomic
def _end(
    run: ProfileRun,
    state: str,
    *,
    samples: int = 0,
    sampled_s: float | None = None,
    error: str = "",
    exited_early: bool = False,
) -> ProfileRun:
    ended = ProfileRun.objects.filter(pk=run.pk, state=State.RUNNING).update(
        state=state,
        samples=samples,
        sampled_s=sampled_s,
        error=error,
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    if not ended:  # the sweeper gave up on it meanwhile; its event says so
        return run
    # The checklist's profiling items tick themselves after commit (sessions.evidence).
    _record_end(run, exited_early=exited_early)
    log.info("profile.ended", run=run.pk, state=state, samples=samples)
    return run


def _record_end(run: ProfileRun, *, exited_early: bool) -> None:
    name = run.service_name
    if run.state == State.SUCCEEDED:
        early = f" (the process exited after {run.sampled_s:.0f} s)" if exited_early else ""
        message = f"Profile of {name} finished: {run.samples:,} samples{early}"
        if not run.samples:
            message = f"Profile of {name} finished without samples: {run.error}"
    elif run.state == State.CANCELLED:
        message = f"Profile of {name} cancelled; kept {run.samples:,} samples"
    elif run.state == State.TIMED_OUT:
        message = f"Profile of {name} timed out: {run.error} Kept {run.samples:,} samples"
    else:
        message = f"Profile of {name} failed: {run.error}"
    event_record(
        session=run.session,
        kind=f"profile.{run.state}",
        message=message,
        data={"run": run.pk, "samples": run.samples, "state": run.state},
    )


# --- Housekeeping ---------------------------------------------------------------------------


def profile_fail_stale() -> int:
    """End runs nobody will finish: queued with no agent listening on their queue, or running
    past every time limit (the agent died). Each gets an event saying what to check."""
    now = timezone.now()
    queued_cutoff = now - timedelta(seconds=settings.PRODBUG_PROFILE_QUEUE_TIMEOUT_S)
    running_cutoff = now - timedelta(seconds=TASK_HARD_LIMIT_S + 30)
    stale = ProfileRun.objects.filter(
        Q(state=State.QUEUED, created_at__lt=queued_cutoff)
        | Q(state=State.RUNNING, started_at__lt=running_cutoff)
    ).select_related("session")
    ended = 0
    for run in stale:
        if run.state == State.QUEUED:
            error = (
                f"No profiling agent took the run within "
                f"{settings.PRODBUG_PROFILE_QUEUE_TIMEOUT_S} s: is a worker consuming the queue "
                f"profiling.{run.agent} running? (`make run` starts one for the agent “local”.)"
            )
        else:
            error = "The profiling agent stopped answering (its worker was restarted or killed)."
        with transaction.atomic():
            if not ProfileRun.objects.filter(pk=run.pk, state=run.state).update(
                state=State.FAILED, error=error, finished_at=now
            ):
                continue
            run.refresh_from_db()
            _record_end(run, exited_early=False)
            ended += 1
    return ended
