"""Every write to a debug session: one transaction, one timeline event, typed keyword args."""

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from services.actions import health_run_create
from services.models import HealthCheck, HealthRun, Service
from sessions import evidence, interventions, traces
from sessions.markdown import render_markdown
from sessions.models import (
    ChecklistItem,
    ChecklistTemplate,
    DebugSession,
    FollowUp,
    ItemState,
    Severity,
    Status,
    TimelineEvent,
    TraceRef,
)


class ActionError(Exception):
    """A request that cannot be carried out; `field` names the offending input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ItemConflict(ActionError):
    """Someone else changed the item since the caller read it."""

    def __init__(self, item: ChecklistItem, actor_name: str) -> None:
        super().__init__(
            f"{actor_name or 'Someone'} changed “{item.title}” a moment ago; "
            "here is the current state — your change was not applied.",
            field="version",
        )
        self.item = item


class _Unset:
    pass


UNSET: Any = _Unset()


def event_record(
    *,
    session: DebugSession,
    kind: str,
    message: str,
    actor: AbstractBaseUser | None = None,
    data: dict[str, Any] | None = None,
    html: str = "",
) -> TimelineEvent:
    """Append to the timeline; call inside the transaction of the change it records."""
    event = TimelineEvent.objects.create(
        session=session, kind=kind, message=message, actor=actor, data=data or {}, html=html
    )
    if actor is not None and actor.is_authenticated:
        session.participants.add(actor)
    if kind != "item.auto":  # any change may be the evidence an item waits for
        _autotick_after_commit(session.pk)
    return event


def _name(user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None else "nobody"


@transaction.atomic
def session_open(
    *,
    title: str,
    severity: str,
    actor: AbstractBaseUser,
    summary: str = "",
    commander: AbstractBaseUser | None = None,
    template: ChecklistTemplate | None = None,
    services: list[Service] | None = None,
) -> DebugSession:
    title = title.strip()
    if not title:
        raise ActionError("A session needs a title.", field="title")
    if severity not in Severity.values:
        raise ActionError(f"Unknown severity {severity!r}.", field="severity")
    template = template or ChecklistTemplate.objects.filter(is_default=True).first()
    session = DebugSession.objects.create(
        title=title,
        summary=summary,
        severity=severity,
        commander=commander or actor,
        created_by=actor,
    )
    affected = (
        services if services is not None else list(Service.objects.filter(affected_by_default=True))
    )
    session.services.set(affected)
    if template is not None:
        ChecklistItem.objects.bulk_create(
            ChecklistItem(
                session=session,
                phase=t.phase,
                title=t.title,
                help=t.help,
                order=t.order,
                auto_rule=t.auto_rule,
            )
            for t in template.items.all()
        )
    event_record(
        session=session,
        kind="session.opened",
        actor=actor,
        message=f"Opened {severity} session “{title}”, commander {_name(session.commander)}"
        + (f", checklist “{template.name}”" if template else "")
        + (f", services {', '.join(s.slug for s in affected)}" if affected else ""),
        data={
            "severity": severity,
            "template": template.name if template else None,
            "services": [s.slug for s in affected],
        },
    )
    return session


@transaction.atomic
def session_set_status(
    *, session: DebugSession, status: str, actor: AbstractBaseUser, switch_off: bool = True
) -> DebugSession:
    """Change the status. Resolving switches off what the session switched on, unless the
    caller (session_resolve) has done so already."""
    session = DebugSession.objects.select_for_update().get(pk=session.pk)
    if status not in Status.values:
        raise ActionError(f"Unknown status {status!r}.", field="status")
    if status == session.status:
        raise ActionError(f"The session is already {status}.", field="status")
    if status not in session.allowed_statuses():
        raise ActionError(f"Cannot go from {session.status} to {status}.", field="status")
    previous = session.status
    now = timezone.now()
    session.status = status
    fields = ["status"]
    stamp = {
        Status.IDENTIFIED: "identified_at",
        Status.MITIGATED: "mitigated_at",
        Status.RESOLVED: "resolved_at",
    }.get(Status(status))
    if stamp and getattr(session, stamp) is None:
        setattr(session, stamp, now)
        fields.append(stamp)
    if previous == Status.RESOLVED:
        session.resolved_at = None
        fields.append("resolved_at")
    session.save(update_fields=fields)
    if status == Status.RESOLVED and switch_off:
        # Nothing a session switched on outlives it.
        for kind in interventions.kinds():
            kind.revert_all(session, actor)
    verb = "Reopened" if previous == Status.RESOLVED else "Status"
    event_record(
        session=session,
        kind="session.status",
        actor=actor,
        message=f"{verb}: {previous} → {status}",
        data={"from": previous, "to": status},
    )
    return session


@dataclass(frozen=True)
class ItemChange:
    state: str | None = None
    assignee: AbstractBaseUser | _Unset | None = UNSET
    note: str | None = None


@transaction.atomic
def item_update(
    *,
    item: ChecklistItem,
    actor: AbstractBaseUser,
    change: ItemChange,
    expected_version: int | None = None,
) -> ChecklistItem:
    """Apply `change` if nobody changed the item since `expected_version` (None: last write
    wins, for API clients that do not send a version)."""
    if change.state is not None and change.state not in ItemState.values:
        raise ActionError(f"Unknown state {change.state!r}.", field="state")
    _require_open(item.session, "change the checklist")
    current = (
        ChecklistItem.objects.select_for_update(of=("self",))
        .select_related("assignee")
        .get(pk=item.pk)
    )
    if expected_version is not None and current.version != expected_version:
        last = current.session.events.filter(kind__startswith="item.").select_related("actor")
        last_event = last.first()
        raise ItemConflict(current, _name(last_event.actor) if last_event else "")

    updates: dict[str, Any] = {}
    messages: list[str] = []
    if change.state is not None and change.state != current.state:
        updates["state"] = change.state
        if current.auto_done and current.state == ItemState.DONE:
            # A human disagrees with the evidence: leave the item to humans from now on.
            updates.update(auto_done=False, auto_suppressed=True)
        if change.state == ItemState.DONE:
            updates.update(done_by=actor, done_at=timezone.now())
        elif current.state == ItemState.DONE:
            updates.update(done_by=None, done_at=None)
        messages.append(
            {
                ItemState.DONE: "Ticked",
                ItemState.SKIPPED: "Skipped",
                ItemState.DOING: "Started",
                ItemState.TODO: "Reopened" if current.is_closed else "Reset",
            }[ItemState(change.state)]
        )
    if not isinstance(change.assignee, _Unset) and change.assignee != current.assignee:
        updates["assignee"] = change.assignee
        messages.append(
            f"Assigned to {_name(change.assignee)}" if change.assignee else "Unassigned"
        )
    if change.note is not None and change.note.strip() != current.note:
        updates["note"] = change.note.strip()
        messages.append("Note updated" if change.note.strip() else "Note cleared")
    if not updates:
        return current

    ChecklistItem.objects.filter(pk=current.pk).update(**updates, version=F("version") + 1)
    current.refresh_from_db()
    event_record(
        session=current.session,
        kind="item.updated",
        actor=actor,
        message=f"{', '.join(messages)}: “{current.title}”",
        data={
            "item": current.pk,
            **{
                k: (v.get_username() if hasattr(v, "get_username") else v)
                for k, v in updates.items()
                if k not in ("done_at", "done_by")
            },
        },
    )
    return current


@transaction.atomic
def session_add_note(*, session: DebugSession, actor: AbstractBaseUser, text: str) -> TimelineEvent:
    text = text.strip()
    if not text:
        raise ActionError("A note cannot be empty.", field="text")
    _require_open(session, "add notes")
    if len(text) > 20_000:
        raise ActionError("A note is limited to 20,000 characters.", field="text")
    return event_record(
        session=session, kind="note", actor=actor, message=text, html=render_markdown(text)
    )


# --- Affected services and health runs ------------------------------------------------------


@transaction.atomic
def session_set_services(
    *, session: DebugSession, services: list[Service], actor: AbstractBaseUser
) -> DebugSession:
    _require_open(session, "change the affected services")
    before = set(session.services.values_list("slug", flat=True))
    after = {s.slug for s in services}
    if before == after:
        return session
    session.services.set(services)
    added, removed = sorted(after - before), sorted(before - after)
    parts = ([f"added {', '.join(added)}"] if added else []) + (
        [f"removed {', '.join(removed)}"] if removed else []
    )
    event_record(
        session=session,
        kind="session.services",
        actor=actor,
        message=f"Affected services: {'; '.join(parts)}",
        data={"added": added, "removed": removed},
    )
    return session


@transaction.atomic
def session_health_run_start(
    *, session: DebugSession, actor: AbstractBaseUser | None, periodic: bool = False
) -> HealthRun:
    """Queue one run over every check of the session's services (executed by a worker)."""
    if not periodic:
        _require_open(session, "run health checks")
    checks = list(HealthCheck.objects.filter(service__sessions=session).select_related("service"))
    if not checks:
        raise ActionError(
            "None of the session's services has a health check; add services or checks first.",
            field="services",
        )
    run = health_run_create(checks=checks, actor=actor, periodic=periodic)
    session.health_runs.add(run)
    from sessions.tasks import session_health_run  # tasks import actions

    transaction.on_commit(lambda: session_health_run.delay(run.pk, session.pk))
    return run


def _summary(run: HealthRun) -> str:
    results = list(
        run.results.select_related("health_check__service")
        .filter(ok=False)
        .order_by("health_check__service__name", "health_check_id")
    )
    head = f"Health run: {run.passed}/{run.passed + run.failed} passing"
    if run.state == HealthRun.State.FAILED:
        return f"Health run failed: {run.error}"
    if not results:
        return head
    shown = [f"{r.health_check.label}: {r.error}" for r in results[:3]]
    more = f" (+{len(results) - 3} more)" if len(results) > 3 else ""
    return f"{head} — {'; '.join(shown)}{more}"


@transaction.atomic
def session_health_record(*, session: DebugSession, run: HealthRun) -> None:
    """Put a finished run on the timeline: a summary for a run someone asked for; for the
    periodic re-check, only the checks whose state changed since their previous result."""
    if not run.periodic:
        event_record(
            session=session,
            kind="health.run",
            actor=run.requested_by,
            message=_summary(run),
            data={"run": run.pk, "passed": run.passed, "failed": run.failed},
        )
        return
    for result in run.results.select_related("health_check__service"):
        previous = result.health_check.results.filter(id__lt=result.pk).order_by("-id").first()
        was_ok = previous.ok if previous else True
        if was_ok == result.ok:
            continue
        state = "recovered" if result.ok else f"failing — {result.error}"
        event_record(
            session=session,
            kind="health.change",
            message=f"{result.health_check.label}: {state}",
            data={"run": run.pk, "check": result.health_check_id, "ok": result.ok},
        )


# --- Read-only once resolved ------------------------------------------------------------


def _require_open(session: DebugSession, what: str) -> None:
    if DebugSession.objects.filter(pk=session.pk, status=Status.RESOLVED).exists():
        raise ActionError(f"The session is resolved; reopen it to {what}.", field="session")


# --- Traces, findings, follow-ups ---------------------------------------------------------


@transaction.atomic
def trace_add(
    *,
    session: DebugSession,
    actor: AbstractBaseUser,
    traceparent: str = "",
    trace_id: str = "",
    span_id: str = "",
    service: Service | None = None,
    note: str = "",
) -> TraceRef:
    _require_open(session, "record traces")
    try:
        parsed = traces.parse(traceparent=traceparent, trace_id=trace_id, span_id=span_id)
    except traces.TraceError as exc:
        raise ActionError(str(exc), field="traceparent" if traceparent else "trace_id") from exc
    ref = TraceRef.objects.create(
        session=session,
        trace_id=parsed.trace_id,
        span_id=parsed.span_id,
        service=service,
        note=note.strip()[:500],
        created_by=actor,
    )
    event_record(
        session=session,
        kind="trace.added",
        actor=actor,
        message=f"Trace {parsed.trace_id}"
        + (f" span {parsed.span_id}" if parsed.span_id else "")
        + (f" on {service.name}" if service else "")
        + (f": {ref.note}" if ref.note else ""),
        data={"trace": ref.pk, "trace_id": parsed.trace_id},
    )
    return ref


def trace_opened(*, ref: TraceRef) -> None:
    """A responder followed a link: evidence that logs and traces were correlated."""
    if ref.opened_at is None:
        TraceRef.objects.filter(pk=ref.pk, opened_at__isnull=True).update(opened_at=timezone.now())
        _autotick_after_commit(ref.session_id)


@transaction.atomic
def findings_set(*, session: DebugSession, actor: AbstractBaseUser, text: str) -> DebugSession:
    text = text.strip()
    if len(text) > 50_000:
        raise ActionError("Findings are limited to 50,000 characters.", field="findings")
    if text == session.findings:
        return session
    DebugSession.objects.filter(pk=session.pk).update(
        findings=text, findings_html=render_markdown(text)
    )
    session.refresh_from_db()
    event_record(
        session=session,
        kind="findings.updated",
        actor=actor,
        message="Findings updated" if text else "Findings cleared",
        data={"length": len(text)},
    )
    return session


@transaction.atomic
def followup_add(
    *,
    session: DebugSession,
    actor: AbstractBaseUser,
    title: str,
    owner: AbstractBaseUser | None = None,
    due: date | None = None,
    url: str = "",
) -> FollowUp:
    title = title.strip()
    if not title:
        raise ActionError("A follow-up needs a title.", field="title")
    if url and not url.startswith(("http://", "https://")):
        raise ActionError("The link must be an http(s) URL.", field="url")
    follow_up = FollowUp.objects.create(
        session=session, title=title[:200], owner=owner, due=due, url=url, created_by=actor
    )
    event_record(
        session=session,
        kind="followup.added",
        actor=actor,
        message=f"Follow-up: {follow_up.title}"
        + (f" (owner {_name(owner)})" if owner else "")
        + (f", due {due:%Y-%m-%d}" if due else ""),
        data={"follow_up": follow_up.pk},
    )
    return follow_up


@transaction.atomic
def followup_set_state(*, follow_up: FollowUp, actor: AbstractBaseUser, state: str) -> FollowUp:
    if state not in FollowUp.State.values:
        raise ActionError(f"Unknown state {state!r}.", field="state")
    if state == follow_up.state:
        return follow_up
    FollowUp.objects.filter(pk=follow_up.pk).update(state=state)
    follow_up.state = state
    event_record(
        session=follow_up.session,
        kind="followup.state",
        actor=actor,
        message=f"Follow-up “{follow_up.title}” → {follow_up.get_state_display()}",
        data={"follow_up": follow_up.pk, "state": state},
    )
    return follow_up


# --- Resolution ---------------------------------------------------------------------------

RESOLVE_WAIT_S = 10.0


@dataclass(frozen=True)
class Resolution:
    ended: list[str]
    remaining: list[str]


def session_resolve(
    *, session: DebugSession, actor: AbstractBaseUser, wait_s: float = RESOLVE_WAIT_S
) -> Resolution:
    """Resolve, switch off everything the session switched on, wait (bounded) for the
    verified reverts, and record what could not be cleaned up."""
    with transaction.atomic():
        session = DebugSession.objects.select_for_update().get(pk=session.pk)
        if session.status == Status.RESOLVED:
            raise ActionError("The session is already resolved.", field="status")
        ended = [line for kind in interventions.kinds()
                 for line in kind.revert_all(session, actor)]  # fmt: skip
        session_set_status(session=session, status=Status.RESOLVED, actor=actor, switch_off=False)
    deadline = time.monotonic() + wait_s
    for kind in interventions.kinds():
        if kind.settle is not None:
            kind.settle(session, deadline)
    remaining = [line for kind in interventions.kinds() for line in kind.remaining(session)]
    with transaction.atomic():
        if remaining:
            message = "Resolution clean-up incomplete — " + "; ".join(remaining)
        elif ended:
            message = f"Resolution clean-up: {len(ended)} intervention(s) switched off and verified"
        else:
            message = "Resolution clean-up: nothing was left switched on"
        event_record(
            session=session, kind="session.cleanup", actor=actor, message=message,
            data={"ended": ended, "remaining": remaining},
        )  # fmt: skip
    session_autotick(session_id=session.pk)
    return Resolution(ended=ended, remaining=remaining)


# --- Automatic checklist items ---------------------------------------------------------------


def session_autotick(*, session_id: int) -> list[ChecklistItem]:
    """Tick every open item whose evidence now exists; each tick names its evidence on the
    timeline. Items a human unticked after an auto-tick stay as the human left them."""
    pending = list(
        ChecklistItem.objects.filter(
            session_id=session_id,
            state__in=[ItemState.TODO, ItemState.DOING],
            auto_suppressed=False,
        ).exclude(auto_rule="")
    )
    if not pending:
        return []
    session = DebugSession.objects.get(pk=session_id)
    found: dict[str, str | None] = {}
    ticked = []
    for item in pending:
        check = evidence.rule(item.auto_rule)
        if check is None:
            continue
        if item.auto_rule not in found:
            found[item.auto_rule] = check(session)
        proof = found[item.auto_rule]
        if not proof:
            continue
        with transaction.atomic():
            updated = ChecklistItem.objects.filter(pk=item.pk, version=item.version).update(
                state=ItemState.DONE, done_at=timezone.now(), done_by=None, auto_done=True,
                version=F("version") + 1,
            )  # fmt: skip
            if updated:
                event_record(
                    session=session, kind="item.auto",
                    message=f"Auto-ticked “{item.title}” — evidence: {proof}",
                    data={"item": item.pk, "rule": item.auto_rule, "evidence": proof},
                )  # fmt: skip
                ticked.append(item)
    return ticked


def _autotick_after_commit(session_id: int) -> None:
    transaction.on_commit(lambda: session_autotick(session_id=session_id))
