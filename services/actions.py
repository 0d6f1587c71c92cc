"""Writes to the service registry and the execution of health runs."""

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any

import structlog
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from services import runners, targets
from services.models import (
    CheckKind,
    HealthCheck,
    HealthResult,
    HealthRun,
    LogLevelProtocol,
    Service,
)

log = structlog.get_logger(__name__)

# A run may take as long as its slowest check plus this margin, and no longer.
RUN_MARGIN_S = 1.0
MAX_TIMEOUT_MS = 10_000
MIN_TIMEOUT_MS = 100


class ServiceError(Exception):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _unique_slug(name: str, *, exclude: int | None = None) -> str:
    base = slugify(name)[:90] or "service"
    slug, n = base, 2
    while Service.objects.filter(slug=slug).exclude(pk=exclude).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _validate_base_url(value: str) -> str:
    try:
        return targets.parse_http_url(value)
    except targets.TargetError as exc:
        raise ServiceError(str(exc), field="base_url") from exc


_AGENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
MAX_SELECTOR_REGEX = 200


def _validate_agent(value: object) -> str:
    # It becomes part of a Celery queue name: `profiling.<agent>`.
    if not isinstance(value, str) or not _AGENT.match(value):
        raise ServiceError(
            "Use 1–50 lowercase letters, digits, '-' or '_' (the agent's queue is "
            "profiling.<agent>).",
            field="agent",
        )
    return value


def _validate_selector(value: object) -> dict[str, object]:
    """{} (no profiling target) or exactly one of {"pid": N}, {"pid_file": "/abs/path"},
    {"cmdline_regex": "..."}; resolved on the agent's host when a profile runs."""
    if value is None or value == {}:
        return {}
    usage = 'Give one of {"pid": N}, {"pid_file": "/path"}, {"cmdline_regex": "..."}.'
    if not isinstance(value, dict) or len(value) != 1:
        raise ServiceError(usage, field="process_selector")
    kind, item = next(iter(value.items()))
    if kind == "pid":
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            raise ServiceError("pid must be a positive integer.", field="process_selector")
    elif kind == "pid_file":
        if not isinstance(item, str) or not PurePosixPath(item).is_absolute() or len(item) > 500:
            raise ServiceError("pid_file must be an absolute path.", field="process_selector")
    elif kind == "cmdline_regex":
        if not isinstance(item, str) or not item or len(item) > MAX_SELECTOR_REGEX:
            raise ServiceError(
                f"cmdline_regex must be 1–{MAX_SELECTOR_REGEX} characters.",
                field="process_selector",
            )
        try:
            re.compile(item)
        except re.error as exc:
            raise ServiceError(f"cmdline_regex: {exc}.", field="process_selector") from exc
    else:
        raise ServiceError(usage, field="process_selector")
    return {kind: item}


@transaction.atomic
def service_create(
    *,
    name: str,
    base_url: str,
    description: str = "",
    owner_team: str = "",
    affected_by_default: bool = False,
    admin_token: str | None = None,
    slug: str | None = None,
    log_level_protocol: str = LogLevelProtocol.PRODBUG,
    agent: str = "local",
    process_selector: dict[str, object] | None = None,
) -> Service:
    name = name.strip()
    if not name:
        raise ServiceError("A service needs a name.", field="name")
    if Service.objects.filter(name__iexact=name).exists():
        raise ServiceError(f"A service named {name!r} exists already.", field="name")
    if slug is not None and (not slug or slugify(slug) != slug):
        raise ServiceError("Use lowercase letters, digits and hyphens.", field="slug")
    if slug and Service.objects.filter(slug=slug).exists():
        raise ServiceError(f"The slug {slug!r} is taken.", field="slug")
    if log_level_protocol not in LogLevelProtocol.values:
        raise ServiceError("Use prodbug or spring-actuator.", field="log_level_protocol")
    service = Service(
        name=name,
        slug=slug or _unique_slug(name),
        log_level_protocol=log_level_protocol,
        base_url=_validate_base_url(base_url),
        description=description,
        owner_team=owner_team,
        affected_by_default=affected_by_default,
        agent=_validate_agent(agent),
        process_selector=_validate_selector(process_selector),
    )
    if admin_token:
        service.set_admin_token(admin_token)
    service.save()
    log.info("service.created", service=service.slug)
    return service


@transaction.atomic
def service_update(*, service: Service, changes: dict[str, Any]) -> Service:
    """Apply `changes` (only the keys given). `admin_token`: a string sets it, "" or None
    clears it."""
    fields = []
    if "name" in changes:
        name = str(changes["name"] or "").strip()
        if not name:
            raise ServiceError("A service needs a name.", field="name")
        if Service.objects.filter(name__iexact=name).exclude(pk=service.pk).exists():
            raise ServiceError(f"A service named {name!r} exists already.", field="name")
        service.name = name
        fields.append("name")
    if "base_url" in changes:
        service.base_url = _validate_base_url(str(changes["base_url"] or ""))
        fields.append("base_url")
    for key in ("description", "owner_team"):
        if key in changes:
            setattr(service, key, str(changes[key] or ""))
            fields.append(key)
    if "affected_by_default" in changes:
        service.affected_by_default = bool(changes["affected_by_default"])
        fields.append("affected_by_default")
    if "log_level_protocol" in changes:
        if changes["log_level_protocol"] not in LogLevelProtocol.values:
            raise ServiceError("Use prodbug or spring-actuator.", field="log_level_protocol")
        service.log_level_protocol = changes["log_level_protocol"]
        fields.append("log_level_protocol")
    if "agent" in changes:
        service.agent = _validate_agent(changes["agent"])
        fields.append("agent")
    if "process_selector" in changes:
        service.process_selector = _validate_selector(changes["process_selector"])
        fields.append("process_selector")
    if "admin_token" in changes:
        service.set_admin_token(str(changes["admin_token"] or ""))
        fields.append("admin_token_encrypted")
    if fields:
        service.save(update_fields=fields)
        # Never log the values: the token is among them.
        log.info("service.updated", service=service.slug, fields=sorted(set(fields)))
    return service


@dataclass(frozen=True)
class CheckInput:
    kind: str
    target: str = ""
    name: str = ""
    timeout_ms: int = 2000
    method: str = "GET"
    expect_status: str = "200-399"
    body_contains: str = ""
    follow_redirects: bool = False
    warn_cpu_percent: int = 90
    warn_memory_percent: int = 90
    warn_disk_percent: int = 90


def _validate_target(kind: str, target: str) -> str:
    parsers = {
        CheckKind.HTTP: targets.parse_http_url,
        CheckKind.TCP: lambda v: targets.parse_host_port(v) and v.strip(),
        CheckKind.POSTGRES: lambda v: targets.parse_postgres_dsn(v) and v.strip(),
        CheckKind.REDIS: targets.parse_redis_url,
    }
    if kind == CheckKind.SYSTEM:
        return ""
    if not target.strip():
        raise ServiceError("This kind of check needs a target.", field="target")
    try:
        return str(parsers[CheckKind(kind)](target))
    except targets.TargetError as exc:
        raise ServiceError(str(exc), field="target") from exc


@transaction.atomic
def check_create(*, service: Service, data: CheckInput) -> HealthCheck:
    if data.kind not in CheckKind.values:
        kinds = ", ".join(CheckKind.values)
        raise ServiceError(f"Unknown kind {data.kind!r}; use one of {kinds}.", field="kind")
    if not MIN_TIMEOUT_MS <= data.timeout_ms <= MAX_TIMEOUT_MS:
        raise ServiceError("The timeout must be 100–10000 ms.", field="timeout_ms")
    if data.method not in ("GET", "HEAD"):
        raise ServiceError("The method must be GET or HEAD.", field="method")
    try:
        targets.parse_expected_status(data.expect_status)
    except targets.TargetError as exc:
        raise ServiceError(str(exc), field="expect_status") from exc
    for key in ("warn_cpu_percent", "warn_memory_percent", "warn_disk_percent"):
        if not 1 <= getattr(data, key) <= 100:
            raise ServiceError("Thresholds are percentages (1–100).", field=key)
    target = _validate_target(data.kind, data.target)
    check = HealthCheck(
        service=service,
        name=data.name.strip(),
        kind=data.kind,
        method=data.method,
        expect_status=data.expect_status.replace(" ", ""),
        body_contains=data.body_contains,
        follow_redirects=data.follow_redirects,
        timeout_ms=data.timeout_ms,
        warn_cpu_percent=data.warn_cpu_percent,
        warn_memory_percent=data.warn_memory_percent,
        warn_disk_percent=data.warn_disk_percent,
    )
    check.set_target(target)
    check.save()
    log.info("check.created", service=service.slug, kind=check.kind, target=check.target)
    return check


def health_run_create(*, checks: list[HealthCheck], actor: AbstractBaseUser | None,
                      periodic: bool = False) -> HealthRun:  # fmt: skip
    return HealthRun.objects.create(
        check_ids=[c.pk for c in checks], requested_by=actor, periodic=periodic
    )


def _spec(check: HealthCheck) -> runners.CheckSpec:
    return runners.CheckSpec(
        id=check.pk,
        kind=check.kind,
        target=check.real_target(),
        display_target=check.target,
        timeout_s=check.timeout_ms / 1000,
        method=check.method,
        expect=targets.parse_expected_status(check.expect_status),
        body_contains=check.body_contains,
        follow_redirects=check.follow_redirects,
        warn_cpu=check.warn_cpu_percent,
        warn_memory=check.warn_memory_percent,
        warn_disk=check.warn_disk_percent,
    )


def health_run_execute(*, run_id: int) -> HealthRun | None:
    """Claim a queued run and execute it. None when another worker already claimed it (a
    redelivered task): running it twice would double the results."""
    claimed = HealthRun.objects.filter(pk=run_id, state=HealthRun.State.QUEUED).update(
        state=HealthRun.State.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    run = HealthRun.objects.get(pk=run_id)
    checks = list(HealthCheck.objects.filter(pk__in=run.check_ids))
    specs = [_spec(c) for c in checks]
    budget = max((s.timeout_s for s in specs), default=0) + RUN_MARGIN_S
    try:
        outcomes = runners.run_checks(specs, budget_s=budget)
    except Exception as exc:  # the budget, or a bug: the run must still end
        log.exception("health_run.failed", run=run_id)
        HealthRun.objects.filter(pk=run_id).update(
            state=HealthRun.State.FAILED, finished_at=timezone.now(), error=str(exc)[:500]
        )
        run.refresh_from_db()
        return run
    now = timezone.now()
    HealthResult.objects.bulk_create(
        HealthResult(
            run=run,
            health_check_id=check_id,
            at=now,
            ok=o.ok,
            warning=o.warning[:300],
            latency_ms=o.latency_ms,
            status_code=o.status_code,
            error=o.error[:500],
            details=o.details,
        )
        for check_id, o in outcomes.items()
    )
    passed = sum(1 for o in outcomes.values() if o.ok)
    HealthRun.objects.filter(pk=run_id).update(
        state=HealthRun.State.DONE,
        finished_at=now,
        passed=passed,
        failed=len(outcomes) - passed,
        check_ids=[s.id for s in specs],
    )
    run.refresh_from_db()
    log.info("health_run.done", run=run_id, passed=passed, total=len(outcomes))
    return run


def health_run_fail_stale(*, older_than_s: float = 120) -> int:
    """Runs whose worker died mid-way would stay 'running' forever: end them."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    return HealthRun.objects.filter(
        Q(state=HealthRun.State.RUNNING, started_at__lt=cutoff)
        | Q(state=HealthRun.State.QUEUED, created_at__lt=cutoff)
    ).update(
        state=HealthRun.State.FAILED,
        finished_at=timezone.now(),
        error="No worker finished this run in time (worker down or restarted).",
    )
