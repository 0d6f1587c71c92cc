from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from accounts.roles import can_act
from profiling import actions, queries
from profiling.models import (
    DEFAULT_DURATION_S,
    DEFAULT_RATE_HZ,
    MAX_DURATION_S,
    MAX_RATE_HZ,
    MIN_DURATION_S,
    MIN_RATE_HZ,
    ProfileRun,
)
from services.models import Service
from sessions.actions import ActionError
from sessions.models import DebugSession

router = Router(tags=["profiling"])

StateName = Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]


class ProfileIn(Schema):
    service: str = Field(description="Slug of one of the session's services.")
    duration_s: int = Field(DEFAULT_DURATION_S, ge=MIN_DURATION_S, le=MAX_DURATION_S)
    rate_hz: int = Field(DEFAULT_RATE_HZ, ge=MIN_RATE_HZ, le=MAX_RATE_HZ)
    idle: bool = False
    native: bool = False
    subprocesses: bool = False
    gil: bool = False


class ProfileCreated(Schema):
    id: int
    state: StateName


class ArtifactOut(Schema):
    kind: Literal["svg", "speedscope", "collapsed"]
    url: str
    size: int
    sha256: str


class ProfileOut(Schema):
    id: int
    session: int
    service: str
    state: StateName
    duration_s: int
    rate_hz: int
    options: list[str]
    pid: int | None
    samples: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str
    flamegraph_url: str
    artifacts: list[ArtifactOut]

    @staticmethod
    def from_run(request: HttpRequest, run: ProfileRun) -> "ProfileOut":
        def absolute(name: str, *args: object) -> str:
            return request.build_absolute_uri(reverse(name, args=args))

        return ProfileOut(
            id=run.pk,
            session=run.session_id,
            service=run.service.slug if run.service else run.service_name,
            state=run.state,  # type: ignore[arg-type]
            duration_s=run.duration_s,
            rate_hz=run.rate_hz,
            options=run.options,
            pid=run.pid,
            samples=run.samples,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            error=run.error,
            flamegraph_url=absolute("profiling:detail", run.pk),
            artifacts=[
                ArtifactOut(
                    kind=a.kind,  # type: ignore[arg-type]
                    url=absolute("profiling:download", run.pk, a.kind),
                    size=a.size,
                    sha256=a.sha256,
                )
                for a in run.artifacts.all()
            ],
        )


class ErrorOut(Schema):
    detail: str


def _require_responder(request: HttpRequest) -> None:
    if not can_act(request.user):
        raise HttpError(403, "This needs the responder role.")


def _run(run_id: int) -> ProfileRun:
    return get_object_or_404(queries.run_detail(run_id).prefetch_related("artifacts"))


def _refusal(exc: ActionError) -> HttpError:
    status = 409 if isinstance(exc, actions.ProfileRefused) else 400
    return HttpError(status, f"{exc.field}: {exc.message}" if exc.field else exc.message)


@router.post(
    "/sessions/{session_id}/profiles",
    response={202: ProfileCreated, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def start_profile(
    request: HttpRequest, session_id: int, payload: ProfileIn
) -> Status[ProfileCreated]:
    """Queue a py-spy profile of one of the session's services; poll GET /profiles/{id}."""
    _require_responder(request)
    session = get_object_or_404(DebugSession, pk=session_id)
    service = Service.objects.filter(slug=payload.service).first()
    if service is None:
        raise HttpError(400, f"service: no service {payload.service!r}.")
    try:
        run = actions.profile_start(
            session=session,
            actor=request.user,
            **payload.dict(exclude={"service"}),
            service=service,
        )
    except ActionError as exc:
        raise _refusal(exc) from exc
    return Status(202, ProfileCreated(id=run.pk, state=run.state))  # type: ignore[arg-type]


@router.get("/profiles/{run_id}", response=ProfileOut)
def get_profile(request: HttpRequest, run_id: int) -> ProfileOut:
    return ProfileOut.from_run(request, _run(run_id))


@router.post("/profiles/{run_id}/cancel", response={200: ProfileOut, 403: ErrorOut, 409: ErrorOut})
def cancel_profile(request: HttpRequest, run_id: int) -> ProfileOut:
    """Stop a queued or running profile; what was sampled so far is kept."""
    _require_responder(request)
    try:
        actions.profile_cancel(run=_run(run_id), actor=request.user)
    except ActionError as exc:
        raise _refusal(exc) from exc
    return ProfileOut.from_run(request, _run(run_id))
