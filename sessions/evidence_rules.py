"""Evidence rules for what the sessions app itself records (traces, findings, follow-ups,
health runs of the session's services)."""

from services.models import HealthResult, HealthRun
from sessions import evidence
from sessions.models import DebugSession


def _trace_recorded(session: DebugSession) -> str | None:
    ref = session.traces.select_related("created_by").order_by("id").first()
    if ref is None:
        return None
    who = f" by {ref.created_by.get_username()}" if ref.created_by else ""
    return f"trace {ref.trace_id} recorded{who}"


def _trace_correlated(session: DebugSession) -> str | None:
    opened = session.traces.filter(opened_at__isnull=False).order_by("opened_at").first()
    if opened:
        return f"a link of trace {opened.trace_id} was opened"
    ref = session.traces.filter(service__isnull=False).select_related("service").first()
    return f"trace {ref.trace_id} tied to {ref.service.name}" if ref and ref.service else None


def _health_run_done(session: DebugSession) -> str | None:
    run = session.health_runs.filter(state=HealthRun.State.DONE).order_by("-id").first()
    if run is None:
        return None
    return f"health run #{run.pk}: {run.passed}/{run.passed + run.failed} passing"


def _system_health_run(session: DebugSession) -> str | None:
    result = (
        HealthResult.objects.filter(run__sessions=session, health_check__kind="system")
        .select_related("health_check")
        .order_by("-id")
        .first()
    )
    if result is None:
        return None
    d = result.details
    return (
        f"system metrics from health run #{result.run_id}: CPU {d.get('cpu_percent')}%, "
        f"memory {d.get('memory_percent')}%, disk {d.get('disk_percent')}%"
    )


def _findings_written(session: DebugSession) -> str | None:
    return f"findings written ({len(session.findings)} characters)" if session.findings else None


def _follow_up_recorded(session: DebugSession) -> str | None:
    follow_up = session.follow_ups.order_by("id").first()
    return f"follow-up “{follow_up.title}”" if follow_up else None


def register() -> None:
    evidence.register("trace_recorded", _trace_recorded)
    evidence.register("trace_with_service", _trace_correlated)
    evidence.register("health_run_done", _health_run_done)
    evidence.register("system_health_run", _system_health_run)
    evidence.register("findings_written", _findings_written)
    evidence.register("follow_up_recorded", _follow_up_recorded)
