"""Reads shared by the pages, the live poll and the API."""

from dataclasses import dataclass, field
from itertools import groupby

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Value, When

from services import links
from services.models import LinkTemplate
from sessions.models import (
    ChecklistItem,
    DebugSession,
    ItemState,
    Phase,
    Status,
    TimelineEvent,
    TraceRef,
)

TIMELINE_PAGE = 100


def sessions_for_list(status: str = "open") -> QuerySet[DebugSession]:
    """Open sessions first, newest first, with checklist progress, in one query."""
    qs = DebugSession.objects.select_related("commander").annotate(
        items_total=Count("items"),
        items_closed=Count("items", filter=Q(items__state__in=[ItemState.DONE, ItemState.SKIPPED])),
        open_rank=Case(
            When(status=Status.RESOLVED, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
    )
    if status == "open":
        qs = qs.exclude(status=Status.RESOLVED)
    elif status in Status.values:
        qs = qs.filter(status=status)
    return qs.order_by("open_rank", "severity", "-opened_at")


def session_version(session_id: int) -> int | None:
    """The id of the newest timeline event: every change writes one, so it is the version
    the live poll compares against. None when the session does not exist."""
    return TimelineEvent.objects.filter(session_id=session_id).aggregate(v=Max("id"))["v"]


@dataclass
class PhaseView:
    number: int
    label: str
    items: list[ChecklistItem] = field(default_factory=list)

    @property
    def closed(self) -> int:
        return sum(1 for i in self.items if i.is_closed)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def percent(self) -> int:
        return round(100 * self.closed / self.total) if self.total else 0


def checklist_phases(session: DebugSession, *, phase: int | None = None) -> list[PhaseView]:
    """The checklist grouped by phase; only `phase` when given (an item's own phase)."""
    items = session.items.select_related("assignee", "done_by").order_by("phase", "order", "id")
    if phase is not None:
        items = items.filter(phase=phase)
    return [
        PhaseView(number=phase, label=Phase(phase).label, items=list(group))
        for phase, group in groupby(items, key=lambda i: i.phase)
    ]


def timeline(session: DebugSession, *, limit: int | None = TIMELINE_PAGE) -> list[TimelineEvent]:
    events = session.events.select_related("actor").order_by("-id")
    return list(events[:limit] if limit else events)


def assignable_users() -> list[AbstractBaseUser]:
    return list(get_user_model().objects.filter(is_active=True).order_by("username"))


def trace_links(ref: TraceRef, templates: list[LinkTemplate] | None = None) -> list[links.Link]:
    if templates is None:
        templates = list(LinkTemplate.objects.all())
    return links.links(
        trace_id=ref.trace_id, span_id=ref.span_id, service=ref.service, at=ref.created_at,
        all_templates=templates,
    )  # fmt: skip


def trace_rows(session: DebugSession) -> list[tuple[TraceRef, list[links.Link]]]:
    """Each trace ref with its deep links, in two queries however many there are."""
    refs = list(session.traces.select_related("service", "created_by").order_by("-id"))
    templates = list(LinkTemplate.objects.all()) if refs else []
    return [(ref, trace_links(ref, templates)) for ref in refs]
