from django.conf import settings
from django.db import models
from django.utils import timezone

from services import crypto, targets


class LogLevelProtocol(models.TextChoices):
    PRODBUG = "prodbug", "Prodbug (GET/POST /admin/log-level)"
    SPRING = "spring-actuator", "Spring Boot Actuator (/actuator/loggers)"


class Service(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    base_url = models.URLField(max_length=500)
    owner_team = models.CharField(max_length=100, blank=True)
    affected_by_default = models.BooleanField(
        default=False, help_text="Preselected as affected when a session starts."
    )
    # Write-only: encrypted at rest, never rendered or returned.
    admin_token_encrypted = models.TextField(blank=True, editable=False)
    log_level_protocol = models.CharField(
        max_length=20, choices=LogLevelProtocol.choices, default=LogLevelProtocol.PRODBUG
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Profiling target: the agent (Celery queue `profiling.<agent>`) on the process's host, and
    # how that agent finds the process: {"pid": N} | {"pid_file": path} | {"cmdline_regex": re}.
    agent = models.CharField(max_length=50, default="local")
    process_selector = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def can_profile(self) -> bool:
        return bool(self.process_selector)

    @property
    def has_admin_token(self) -> bool:
        return bool(self.admin_token_encrypted)

    def set_admin_token(self, token: str) -> None:
        self.admin_token_encrypted = crypto.encrypt(token)

    def admin_token(self) -> str:
        return crypto.decrypt(self.admin_token_encrypted)


class CheckKind(models.TextChoices):
    HTTP = "http", "HTTP"
    TCP = "tcp", "TCP connect"
    POSTGRES = "postgres", "PostgreSQL"
    REDIS = "redis", "Redis"
    SYSTEM = "system", "System (CPU, memory, disk)"


# Kinds whose target can hold a password: stored encrypted, shown redacted.
SECRET_KINDS = {CheckKind.POSTGRES, CheckKind.REDIS}


class HealthCheck(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="checks")
    name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=10, choices=CheckKind.choices)
    # Plain target for http/tcp; for postgres/redis the redacted form (display only).
    target = models.CharField(max_length=500, blank=True)
    target_encrypted = models.TextField(blank=True, editable=False)
    method = models.CharField(
        max_length=4, default="GET", choices=[("GET", "GET"), ("HEAD", "HEAD")]
    )
    expect_status = models.CharField(max_length=7, default="200-399")
    body_contains = models.CharField(max_length=200, blank=True)
    follow_redirects = models.BooleanField(default=False)
    timeout_ms = models.PositiveIntegerField(default=2000)
    warn_cpu_percent = models.PositiveSmallIntegerField(default=90)
    warn_memory_percent = models.PositiveSmallIntegerField(default=90)
    warn_disk_percent = models.PositiveSmallIntegerField(default=90)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service__name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(timeout_ms__gte=100, timeout_ms__lte=10_000),
                name="healthcheck_timeout_range",
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name or f"{self.service.name} {self.kind} {self.target}".strip()

    def set_target(self, value: str) -> None:
        if self.kind in SECRET_KINDS:
            self.target_encrypted = crypto.encrypt(value)
            self.target = targets.redact(value)
        else:
            self.target_encrypted = ""
            self.target = value

    def real_target(self) -> str:
        return crypto.decrypt(self.target_encrypted) if self.kind in SECRET_KINDS else self.target


class HealthRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    periodic = models.BooleanField(default=False)
    check_ids = models.JSONField(default=list)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"health run {self.pk} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def total(self) -> int:
        return len(self.check_ids)


class HealthResult(models.Model):
    run = models.ForeignKey(HealthRun, on_delete=models.CASCADE, related_name="results")
    health_check = models.ForeignKey(HealthCheck, on_delete=models.CASCADE, related_name="results")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    warning = models.CharField(max_length=300, blank=True)
    latency_ms = models.FloatField(null=True)
    status_code = models.PositiveSmallIntegerField(null=True)
    error = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["health_check", "-id"])]

    def __str__(self) -> str:
        return f"{self.health_check_id}: {'ok' if self.ok else 'fail'}"


class LinkKind(models.TextChoices):
    LOKI = "grafana-loki", "Grafana Explore: Loki logs"
    TEMPO = "grafana-tempo", "Grafana Explore: Tempo trace"
    JAEGER = "jaeger", "Jaeger"
    CUSTOM = "custom", "Custom URL template"


class LinkTemplate(models.Model):
    """How a trace id becomes a deep link. Global when `service` is empty; a service's own
    template of the same kind replaces the global one for that service."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="link_templates"
    )
    kind = models.CharField(max_length=20, choices=LinkKind.choices)
    label = models.CharField(max_length=60, blank=True)
    base_url = models.URLField(max_length=300, help_text="e.g. https://grafana.example.com")
    datasource_uid = models.CharField(max_length=100, blank=True, help_text="Grafana kinds")
    template = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Loki: the LogQL query; custom: the URL. Placeholders: {trace_id} {span_id} "
        "{service} {from_ms} {to_ms} {base_url}",
    )
    window_minutes = models.PositiveIntegerField(default=30)

    class Meta:
        ordering = ["service__name", "kind"]

    def __str__(self) -> str:
        return f"{self.service or 'global'} {self.kind}"
