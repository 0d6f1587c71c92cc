from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from accounts.roles import can_act, can_configure
from flags import actions
from flags.models import Flag, FlagOverride, LogLevelOverride
from services.models import Service
from sessions.actions import ActionError
from sessions.models import DebugSession

router = Router(tags=["flags"])

OperatorName = Literal["in", "not_in", "equals", "contains", "starts_with", "ends_with", "matches"]


class FlagIn(Schema):
    key: str = Field(min_length=1, max_length=100)
    type: Literal["boolean", "string", "number", "object"]
    variants: dict[str, Any]
    default_variant: str
    description: str = Field("", max_length=10_000)
    enabled: bool = True


class FlagOut(Schema):
    key: str
    type: str
    variants: dict[str, Any]
    default_variant: str
    description: str
    enabled: bool


class OverrideIn(Schema):
    flag: str
    variant: str
    attribute: str
    operator: OperatorName
    values: list[str | int | float | bool] = Field(min_length=1, max_length=100)
    duration_s: int = Field(actions.DEFAULT_OVERRIDE_S, ge=60, le=24 * 3600)
    reason: str = Field("", max_length=500)


class ExtendIn(Schema):
    duration_s: int = Field(ge=60, le=24 * 3600, description="Log levels: at most 4 h.")


class OverrideOut(Schema):
    id: int
    session: int
    flag: str
    variant: str
    attribute: str
    operator: str
    values: list[str]
    reason: str
    created_by: str | None
    created_at: datetime
    expires_at: datetime
    reverted_at: datetime | None
    active: bool

    @staticmethod
    def from_override(o: FlagOverride) -> "OverrideOut":
        return OverrideOut(
            id=o.pk,
            session=o.session_id,
            flag=o.flag.key,
            variant=o.variant,
            attribute=o.attribute,
            operator=o.operator,
            values=o.values,
            reason=o.reason,
            created_by=o.created_by.get_username() if o.created_by else None,
            created_at=o.created_at,
            expires_at=o.expires_at,
            reverted_at=o.reverted_at,
            active=o.is_active(),
        )


class ErrorOut(Schema):
    detail: str


def _bad(exc: ActionError) -> HttpError:
    return HttpError(400, f"{exc.field}: {exc.message}")


def _flag_out(flag: Flag) -> FlagOut:
    return FlagOut(
        key=flag.key,
        type=flag.type,
        variants=flag.variants,
        default_variant=flag.default_variant,
        description=flag.description,
        enabled=flag.enabled,
    )


@router.get("/flags", response=list[FlagOut])
def list_flags(request: HttpRequest) -> list[FlagOut]:
    return [_flag_out(f) for f in Flag.objects.all()]


@router.post("/flags", response={201: FlagOut, 400: ErrorOut, 403: ErrorOut})
def create_flag(request: HttpRequest, payload: FlagIn) -> Status[FlagOut]:
    if not can_configure(request.user):
        raise HttpError(403, "This needs the admin role.")
    try:
        flag = actions.flag_create(
            key=payload.key,
            flag_type=payload.type,
            variants=payload.variants,
            default_variant=payload.default_variant,
            description=payload.description,
            enabled=payload.enabled,
        )
    except ActionError as exc:
        raise _bad(exc) from exc
    return Status(201, _flag_out(flag))


def _responder(request: HttpRequest) -> Any:
    if not can_act(request.user):
        raise HttpError(403, "This needs the responder role.")
    return request.user


@router.post(
    "/sessions/{session_id}/flag-overrides",
    response={201: OverrideOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def create_override(
    request: HttpRequest, session_id: int, payload: OverrideIn
) -> Status[OverrideOut]:
    actor = _responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    flag = Flag.objects.filter(key=payload.flag).first()
    if flag is None:
        raise HttpError(400, f"flag: no flag {payload.flag!r}.")
    try:
        override = actions.override_create(
            session=session,
            flag=flag,
            variant=payload.variant,
            attribute=payload.attribute,
            operator=payload.operator,
            values=list(payload.values),
            duration_s=payload.duration_s,
            reason=payload.reason,
            actor=actor,
        )
    except ActionError as exc:
        raise _bad(exc) from exc
    return Status(201, OverrideOut.from_override(override))


def _override(override_id: int) -> FlagOverride:
    return get_object_or_404(FlagOverride.objects.select_related("flag", "session"), pk=override_id)


@router.get("/flag-overrides/{override_id}", response=OverrideOut)
def get_override(request: HttpRequest, override_id: int) -> OverrideOut:
    return OverrideOut.from_override(_override(override_id))


@router.post(
    "/flag-overrides/{override_id}/revert",
    response={200: OverrideOut, 400: ErrorOut, 403: ErrorOut},
)
def revert_override(request: HttpRequest, override_id: int) -> OverrideOut:
    actor = _responder(request)
    try:
        override = actions.override_revert(override=_override(override_id), actor=actor)
    except ActionError as exc:
        raise _bad(exc) from exc
    return OverrideOut.from_override(override)


@router.post(
    "/flag-overrides/{override_id}/extend",
    response={200: OverrideOut, 400: ErrorOut, 403: ErrorOut},
)
def extend_override(request: HttpRequest, override_id: int, payload: ExtendIn) -> OverrideOut:
    actor = _responder(request)
    try:
        override = actions.override_extend(
            override=_override(override_id), duration_s=payload.duration_s, actor=actor
        )
    except ActionError as exc:
        raise _bad(exc) from exc
    return OverrideOut.from_override(override)


# --- Log-level overrides -----------------------------------------------------------------


class LogLevelIn(Schema):
    service: str
    logger: str
    level: str
    duration_s: int = actions.DEFAULT_LOG_S
    reason: str = Field("", max_length=500)


class LogLevelOut(Schema):
    id: int
    session: int
    service: str
    logger: str
    level: str
    state: Literal["pending", "applied", "reverted", "failed", "revert_failed"]
    partial: bool
    previous_level: str | None
    applied_at: datetime | None
    expires_at: datetime
    reverted_at: datetime | None
    verified: bool
    error: str
    revert_attempts: int
    handled: bool

    @staticmethod
    def from_override(o: LogLevelOverride) -> "LogLevelOut":
        return LogLevelOut(
            id=o.pk,
            session=o.session_id,
            service=o.service.slug,
            logger=o.logger,
            level=o.level,
            state=o.state,  # type: ignore[arg-type]
            partial=o.partial,
            previous_level=o.previous_level,
            applied_at=o.applied_at,
            expires_at=o.expires_at,
            reverted_at=o.reverted_at,
            verified=o.verified,
            error=o.error,
            revert_attempts=o.revert_attempts,
            handled=o.handled_at is not None,
        )


LOG_CHANGED = {200: LogLevelOut, 400: ErrorOut, 403: ErrorOut}


@router.post(
    "/sessions/{session_id}/log-level-overrides",
    response={201: LogLevelOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def create_log_override(
    request: HttpRequest, session_id: int, payload: LogLevelIn
) -> Status[LogLevelOut]:
    actor = _responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    service = Service.objects.filter(slug=payload.service).first()
    if service is None:
        raise HttpError(400, f"service: no service {payload.service!r}.")
    try:
        override = actions.loglevel_create(
            session=session,
            service=service,
            logger=payload.logger,
            level=payload.level,
            duration_s=payload.duration_s,
            reason=payload.reason,
            actor=actor,
        )
    except ActionError as exc:
        raise _bad(exc) from exc
    return Status(201, LogLevelOut.from_override(override))


def _log_override(override_id: int) -> LogLevelOverride:
    return get_object_or_404(
        LogLevelOverride.objects.select_related("service", "session"), pk=override_id
    )


@router.get("/log-level-overrides/{override_id}", response=LogLevelOut)
def get_log_override(request: HttpRequest, override_id: int) -> LogLevelOut:
    return LogLevelOut.from_override(_log_override(override_id))


@router.post("/log-level-overrides/{override_id}/revert", response=LOG_CHANGED)
def revert_log_override(request: HttpRequest, override_id: int) -> LogLevelOut:
    actor = _responder(request)
    try:
        o = actions.loglevel_revert_request(override=_log_override(override_id), actor=actor)
    except ActionError as exc:
        raise _bad(exc) from exc
    return LogLevelOut.from_override(o)


@router.post("/log-level-overrides/{override_id}/extend", response=LOG_CHANGED)
def extend_log_override(request: HttpRequest, override_id: int, payload: ExtendIn) -> LogLevelOut:
    actor = _responder(request)
    try:
        o = actions.loglevel_extend(
            override=_log_override(override_id), duration_s=payload.duration_s, actor=actor
        )
    except ActionError as exc:
        raise _bad(exc) from exc
    return LogLevelOut.from_override(o)


@router.post("/log-level-overrides/{override_id}/handled", response=LOG_CHANGED)
def handled_log_override(request: HttpRequest, override_id: int) -> LogLevelOut:
    actor = _responder(request)
    o = _log_override(override_id)
    try:
        actions.loglevel_mark_handled(override=o, actor=actor)
    except ActionError as exc:
        raise _bad(exc) from exc
    return LogLevelOut.from_override(_log_override(override_id))
