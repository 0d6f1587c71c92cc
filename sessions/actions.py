"""Every write to a debug session: one transaction, one timeline event, typed keyword args."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sessions.markdown import render_markdown
from sessions.models import (
    ChecklistItem,
    ChecklistTemplate,
    DebugSession,
    ItemState,
    Severity,
    Status,
    TimelineEvent,
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
        + (f", checklist “{template.name}”" if template else ""),
        data={"severity": severity, "template": template.name if template else None},
    )
    return session


@transaction.atomic
def session_set_status(
    *, session: DebugSession, status: str, actor: AbstractBaseUser
) -> DebugSession:
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
    if len(text) > 20_000:
        raise ActionError("A note is limited to 20,000 characters.", field="text")
    return event_record(
        session=session, kind="note", actor=actor, message=text, html=render_markdown(text)
    )
