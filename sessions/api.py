from datetime import date, datetime
from typing import Literal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from accounts.roles import can_act
from services.models import Service
from sessions import actions, queries
from sessions.models import ChecklistItem, DebugSession, TimelineEvent

router = Router(tags=["sessions"])

SeverityName = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
StatusName = Literal["investigating", "identified", "mitigated", "resolved"]
StateName = Literal["todo", "doing", "done", "skipped"]


class ItemOut(Schema):
    id: int
    phase: int
    phase_name: str
    title: str
    state: StateName
    assignee: str | None
    note: str
    version: int

    @staticmethod
    def from_item(item: ChecklistItem) -> "ItemOut":
        return ItemOut(
            id=item.pk,
            phase=item.phase,
            phase_name=item.get_phase_display(),
            title=item.title,
            state=item.state,  # type: ignore[arg-type]
            assignee=item.assignee.get_username() if item.assignee else None,
            note=item.note,
            version=item.version,
        )


class EventOut(Schema):
    id: int
    at: datetime
    actor: str | None
    kind: str
    message: str

    @staticmethod
    def from_event(event: TimelineEvent) -> "EventOut":
        return EventOut(
            id=event.pk,
            at=event.at,
            actor=event.actor.get_username() if event.actor else None,
            kind=event.kind,
            message=event.message,
        )


class SessionOut(Schema):
    id: int
    title: str
    severity: SeverityName
    status: StatusName
    summary: str
    commander: str | None
    opened_at: datetime
    identified_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    items: list[ItemOut]
    timeline: list[EventOut] | None = None

    @staticmethod
    def from_session(session: DebugSession, *, with_timeline: bool = True) -> "SessionOut":
        return SessionOut(
            id=session.pk,
            title=session.title,
            severity=session.severity,  # type: ignore[arg-type]
            status=session.status,  # type: ignore[arg-type]
            summary=session.summary,
            commander=session.commander.get_username() if session.commander else None,
            opened_at=session.opened_at,
            identified_at=session.identified_at,
            mitigated_at=session.mitigated_at,
            resolved_at=session.resolved_at,
            items=[ItemOut.from_item(i) for i in session.items.all()],
            timeline=[EventOut.from_event(e) for e in queries.timeline(session, limit=None)]
            if with_timeline
            else None,
        )


class SessionIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    severity: SeverityName
    summary: str = Field("", max_length=10_000)
    commander: str | None = None
    services: list[str] | None = Field(
        None, description="Affected service slugs; default: the services marked affected."
    )


class ItemPatch(Schema):
    state: StateName | None = None
    assignee: str | None = None
    note: str | None = Field(None, max_length=5000)
    version: int | None = Field(None, ge=1, description="Reject the change if the item moved on.")


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=20_000)


class StatusIn(Schema):
    status: StatusName


class ErrorOut(Schema):
    detail: str


def _require_responder(request: HttpRequest) -> AbstractBaseUser:
    if not can_act(request.user):
        raise HttpError(403, "This needs the responder role.")
    return request.user  # type: ignore[return-value]


def _user(username: str, *, field: str) -> AbstractBaseUser:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise HttpError(400, f"{field}: no active user named {username!r}.")
    return user


def _load(session_id: int) -> DebugSession:
    items = ChecklistItem.objects.select_related("assignee").order_by("phase", "order", "id")
    return get_object_or_404(
        DebugSession.objects.select_related("commander").prefetch_related(
            Prefetch("items", queryset=items)
        ),
        pk=session_id,
    )


@router.get("", response=list[SessionOut])
def list_sessions(request: HttpRequest, status: str = "open") -> list[SessionOut]:
    items = ChecklistItem.objects.select_related("assignee").order_by("phase", "order", "id")
    sessions = queries.sessions_for_list(status).prefetch_related(Prefetch("items", queryset=items))
    return [SessionOut.from_session(s, with_timeline=False) for s in sessions]


@router.post("", response={201: SessionOut, 400: ErrorOut, 403: ErrorOut})
def create_session(request: HttpRequest, payload: SessionIn) -> Status[SessionOut]:
    actor = _require_responder(request)
    commander = _user(payload.commander, field="commander") if payload.commander else None
    services = None
    if payload.services is not None:
        services = list(Service.objects.filter(slug__in=payload.services))
        unknown = sorted(set(payload.services) - {s.slug for s in services})
        if unknown:
            raise HttpError(400, f"services: unknown service {', '.join(unknown)}.")
    try:
        session = actions.session_open(
            services=services,
            title=payload.title,
            severity=payload.severity,
            summary=payload.summary,
            commander=commander,
            actor=actor,
        )
    except actions.ActionError as exc:
        raise HttpError(400, f"{exc.field}: {exc.message}") from exc
    return Status(201, SessionOut.from_session(_load(session.pk)))


@router.get("/{session_id}", response=SessionOut)
def get_session(request: HttpRequest, session_id: int) -> SessionOut:
    return SessionOut.from_session(_load(session_id))


@router.patch(
    "/{session_id}/items/{item_id}",
    response={200: ItemOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def patch_item(request: HttpRequest, session_id: int, item_id: int, payload: ItemPatch) -> ItemOut:
    actor = _require_responder(request)
    item = ChecklistItem.objects.filter(pk=item_id, session_id=session_id).first()
    if item is None:
        raise HttpError(404, f"item_id: no item {item_id} in session {session_id}.")
    sent = payload.model_fields_set
    assignee = actions.UNSET
    if "assignee" in sent:
        assignee = _user(payload.assignee, field="assignee") if payload.assignee else None
    change = actions.ItemChange(
        state=payload.state if "state" in sent else None,
        assignee=assignee,
        note=payload.note if "note" in sent else None,
    )
    try:
        item = actions.item_update(
            item=item, actor=actor, change=change, expected_version=payload.version
        )
    except actions.ItemConflict as exc:
        raise HttpError(409, exc.message) from exc
    except actions.ActionError as exc:
        raise HttpError(400, f"{exc.field}: {exc.message}") from exc
    return ItemOut.from_item(item)


@router.post("/{session_id}/notes", response={201: EventOut, 400: ErrorOut, 403: ErrorOut})
def add_note(request: HttpRequest, session_id: int, payload: NoteIn) -> Status[EventOut]:
    actor = _require_responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    try:
        event = actions.session_add_note(session=session, actor=actor, text=payload.text)
    except actions.ActionError as exc:
        raise HttpError(400, f"{exc.field}: {exc.message}") from exc
    return Status(201, EventOut.from_event(event))


@router.post("/{session_id}/status", response={200: SessionOut, 400: ErrorOut, 403: ErrorOut})
def set_status(request: HttpRequest, session_id: int, payload: StatusIn) -> SessionOut:
    actor = _require_responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    try:
        if payload.status == "resolved":
            actions.session_resolve(session=session, actor=actor)
        else:
            actions.session_set_status(session=session, status=payload.status, actor=actor)
    except actions.ActionError as exc:
        raise HttpError(400, f"{exc.field}: {exc.message}") from exc
    return SessionOut.from_session(_load(session_id))


class ServicesIn(Schema):
    services: list[str]


class RunCreated(Schema):
    id: int
    state: str


@router.post("/{session_id}/services", response={200: list[str], 400: ErrorOut, 403: ErrorOut})
def set_services(request: HttpRequest, session_id: int, payload: ServicesIn) -> list[str]:
    actor = _require_responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    chosen = list(Service.objects.filter(slug__in=payload.services))
    unknown = sorted(set(payload.services) - {s.slug for s in chosen})
    if unknown:
        raise HttpError(400, f"services: unknown service {', '.join(unknown)}.")
    actions.session_set_services(session=session, services=chosen, actor=actor)
    return sorted(s.slug for s in chosen)


@router.post("/{session_id}/health-runs", response={202: RunCreated, 400: ErrorOut, 403: ErrorOut})
def start_health_run(request: HttpRequest, session_id: int) -> Status[RunCreated]:
    actor = _require_responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    try:
        run = actions.session_health_run_start(session=session, actor=actor)
    except actions.ActionError as exc:
        raise HttpError(400, f"{exc.field}: {exc.message}") from exc
    return Status(202, RunCreated(id=run.pk, state=run.state))


# --- Traces, findings, follow-ups, resolution ---------------------------------------------


class TraceIn(Schema):
    traceparent: str | None = Field(None, max_length=200)
    trace_id: str | None = Field(None, max_length=64)
    span_id: str | None = Field(None, max_length=32)
    service: str | None = None
    note: str = Field("", max_length=500)


class LinkOut(Schema):
    label: str
    url: str


class TraceOut(Schema):
    id: int
    trace_id: str
    span_id: str
    service: str | None
    note: str
    links: list[LinkOut]


class FollowUpIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    owner: str | None = None
    due: date | None = None
    url: str = Field("", max_length=500)


class FollowUpOut(Schema):
    id: int
    title: str
    owner: str | None
    due: date | None
    url: str
    state: str


class FindingsIn(Schema):
    findings: str = Field(max_length=50_000)


class ResolutionOut(Schema):
    status: str
    ended: list[str]
    remaining: list[str]


@router.post("/{session_id}/traces", response={201: TraceOut, 400: ErrorOut, 403: ErrorOut})
def add_trace(request: HttpRequest, session_id: int, payload: TraceIn) -> Status[TraceOut]:
    actor = _require_responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    service = None
    if payload.service:
        service = Service.objects.filter(slug=payload.service).first()
        if service is None:
            raise HttpError(400, f"service: unknown service {payload.service!r}.")
    try:
        ref = actions.trace_add(
            session=session, actor=actor, traceparent=payload.traceparent or "",
            trace_id=payload.trace_id or "", span_id=payload.span_id or "", service=service,
            note=payload.note,
        )  # fmt: skip
    except actions.ActionError as exc:
        raise HttpError(400, f"{exc.field}: {exc.message}") from exc
    return Status(201, TraceOut(
        id=ref.pk, trace_id=ref.trace_id, span_id=ref.span_id,
        service=service.slug if service else None, note=ref.note,
        links=[LinkOut(label=link.label, url=link.url) for link in queries.trace_links(ref)],
    ))  # fmt: skip


@router.put("/{session_id}/findings", response={200: FindingsIn, 403: ErrorOut})
def set_findings(request: HttpRequest, session_id: int, payload: FindingsIn) -> FindingsIn:
    actor = _require_responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    session = actions.findings_set(session=session, actor=actor, text=payload.findings)
    return FindingsIn(findings=session.findings)


@router.post("/{session_id}/follow-ups", response={201: FollowUpOut, 400: ErrorOut, 403: ErrorOut})
def add_follow_up(
    request: HttpRequest, session_id: int, payload: FollowUpIn
) -> Status[FollowUpOut]:
    actor = _require_responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    owner = _user(payload.owner, field="owner") if payload.owner else None
    try:
        f = actions.followup_add(session=session, actor=actor, title=payload.title, owner=owner,
                                 due=payload.due, url=payload.url)  # fmt: skip
    except actions.ActionError as exc:
        raise HttpError(400, f"{exc.field}: {exc.message}") from exc
    return Status(201, FollowUpOut(id=f.pk, title=f.title, owner=payload.owner, due=f.due,
                                   url=f.url, state=f.state))  # fmt: skip


RESOLVED = {200: ResolutionOut, 400: ErrorOut, 403: ErrorOut}


@router.post("/{session_id}/resolve", response=RESOLVED)
def resolve(request: HttpRequest, session_id: int) -> ResolutionOut:
    actor = _require_responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    try:
        result = actions.session_resolve(session=session, actor=actor)
    except actions.ActionError as exc:
        raise HttpError(400, f"{exc.field}: {exc.message}") from exc
    return ResolutionOut(status="resolved", ended=result.ended, remaining=result.remaining)
