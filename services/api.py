from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from accounts.roles import can_configure
from services import actions
from services.models import HealthCheck, HealthRun, Service

router = Router(tags=["services"])

KindName = Literal["http", "tcp", "postgres", "redis", "system"]
SELECTOR_HELP = (
    'How the agent finds the process to profile: {"pid": N}, {"pid_file": "/abs/path"} or '
    '{"cmdline_regex": "..."} (must match exactly one process on the agent\'s host).'
)


class CheckOut(Schema):
    id: int
    name: str
    kind: KindName
    target: str  # redacted for postgres/redis
    timeout_ms: int
    method: str
    expect_status: str
    body_contains: str
    follow_redirects: bool

    @staticmethod
    def from_check(check: HealthCheck) -> "CheckOut":
        return CheckOut(
            id=check.pk,
            name=check.name,
            kind=check.kind,  # type: ignore[arg-type]
            target=check.target,
            timeout_ms=check.timeout_ms,
            method=check.method,
            expect_status=check.expect_status,
            body_contains=check.body_contains,
            follow_redirects=check.follow_redirects,
        )


class ServiceOut(Schema):
    slug: str
    name: str
    base_url: str
    description: str
    owner_team: str
    affected_by_default: bool
    admin_token_set: bool
    log_level_protocol: Literal["prodbug", "spring-actuator"]
    agent: str
    process_selector: dict[str, Any]
    checks: list[CheckOut]

    @staticmethod
    def from_service(service: Service) -> "ServiceOut":
        return ServiceOut(
            slug=service.slug,
            name=service.name,
            base_url=service.base_url,
            description=service.description,
            owner_team=service.owner_team,
            affected_by_default=service.affected_by_default,
            admin_token_set=service.has_admin_token,
            log_level_protocol=service.log_level_protocol,  # type: ignore[arg-type]
            agent=service.agent,
            process_selector=service.process_selector,
            checks=[CheckOut.from_check(c) for c in service.checks.all()],
        )


class ServiceIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    base_url: str = Field(min_length=1, max_length=500)
    slug: str | None = Field(None, max_length=100)
    description: str = Field("", max_length=10_000)
    owner_team: str = Field("", max_length=100)
    affected_by_default: bool = False
    admin_token: str | None = Field(None, max_length=500, description="Write-only.")
    log_level_protocol: Literal["prodbug", "spring-actuator"] = "prodbug"
    agent: str = Field("local", description="Profiling agent (queue profiling.<agent>).")
    process_selector: dict[str, Any] | None = Field(None, description=SELECTOR_HELP)


class ServicePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    base_url: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=10_000)
    owner_team: str | None = Field(None, max_length=100)
    affected_by_default: bool | None = None
    admin_token: str | None = Field(None, max_length=500, description="Write-only; null clears.")
    log_level_protocol: Literal["prodbug", "spring-actuator"] | None = None
    agent: str | None = None
    process_selector: dict[str, Any] | None = Field(None, description=SELECTOR_HELP + " {} clears.")


class CheckIn(Schema):
    kind: KindName
    target: str = Field("", max_length=500)
    name: str = Field("", max_length=100)
    timeout_ms: int = Field(2000, ge=100, le=10_000)
    method: Literal["GET", "HEAD"] = "GET"
    expect_status: int | str = "200-399"
    body_contains: str = Field("", max_length=200)
    follow_redirects: bool = False


class ResultOut(Schema):
    check: int
    check_name: str
    service: str
    kind: str
    ok: bool
    latency_ms: float | None
    status_code: int | None
    error: str
    warning: str


class RunOut(Schema):
    id: int
    state: Literal["queued", "running", "done", "failed"]
    periodic: bool
    created_at: str
    finished_at: str | None
    passed: int
    failed: int
    error: str
    results: list[ResultOut]


class ErrorOut(Schema):
    detail: str


def _require_admin(request: HttpRequest) -> None:
    if not can_configure(request.user):
        raise HttpError(403, "This needs the admin role.")


def _service(slug: str) -> Service:
    return get_object_or_404(Service.objects.prefetch_related("checks"), slug=slug)


def _raise(exc: actions.ServiceError) -> HttpError:
    return HttpError(400, f"{exc.field}: {exc.message}")


@router.get("/services", response=list[ServiceOut])
def list_services(request: HttpRequest) -> list[ServiceOut]:
    return [ServiceOut.from_service(s) for s in Service.objects.prefetch_related("checks")]


@router.post("/services", response={201: ServiceOut, 400: ErrorOut, 403: ErrorOut})
def create_service(request: HttpRequest, payload: ServiceIn) -> Status[ServiceOut]:
    _require_admin(request)
    try:
        service = actions.service_create(**payload.dict())
    except actions.ServiceError as exc:
        raise _raise(exc) from exc
    return Status(201, ServiceOut.from_service(_service(service.slug)))


@router.get("/services/{slug}", response=ServiceOut)
def get_service(request: HttpRequest, slug: str) -> ServiceOut:
    return ServiceOut.from_service(_service(slug))


@router.patch("/services/{slug}", response={200: ServiceOut, 400: ErrorOut, 403: ErrorOut})
def patch_service(request: HttpRequest, slug: str, payload: ServicePatch) -> ServiceOut:
    _require_admin(request)
    service = _service(slug)
    changes = {k: getattr(payload, k) for k in payload.model_fields_set}
    for key in ("name", "base_url", "affected_by_default", "log_level_protocol", "agent"):
        if key in changes and changes[key] is None:
            raise HttpError(400, f"{key}: may not be null.")
    try:
        actions.service_update(service=service, changes=changes)
    except actions.ServiceError as exc:
        raise _raise(exc) from exc
    return ServiceOut.from_service(_service(service.slug))


@router.post("/services/{slug}/checks", response={201: CheckOut, 400: ErrorOut, 403: ErrorOut})
def add_check(request: HttpRequest, slug: str, payload: CheckIn) -> Status[CheckOut]:
    _require_admin(request)
    service = _service(slug)
    data = payload.dict()
    data["expect_status"] = str(data["expect_status"])
    try:
        check = actions.check_create(service=service, data=actions.CheckInput(**data))
    except actions.ServiceError as exc:
        raise _raise(exc) from exc
    return Status(201, CheckOut.from_check(check))


@router.get("/health-runs/{run_id}", response=RunOut)
def get_run(request: HttpRequest, run_id: int) -> RunOut:
    run = get_object_or_404(HealthRun, pk=run_id)
    results = run.results.select_related("health_check__service").order_by("health_check_id")
    return RunOut(
        id=run.pk,
        state=run.state,  # type: ignore[arg-type]
        periodic=run.periodic,
        created_at=run.created_at.isoformat(),
        finished_at=run.finished_at.isoformat() if run.finished_at else None,
        passed=run.passed,
        failed=run.failed,
        error=run.error,
        results=[
            ResultOut(
                check=r.health_check_id,
                check_name=r.health_check.label,
                service=r.health_check.service.slug,
                kind=r.health_check.kind,
                ok=r.ok,
                latency_ms=r.latency_ms,
                status_code=r.status_code,
                error=r.error,
                warning=r.warning,
            )
            for r in results
        ],
    )
