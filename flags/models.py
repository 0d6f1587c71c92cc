from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone


class FlagType(models.TextChoices):
    BOOLEAN = "boolean"
    STRING = "string"
    NUMBER = "number"
    OBJECT = "object"


class Operator(models.TextChoices):
    IN = "in"
    NOT_IN = "not_in"
    EQUALS = "equals"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    MATCHES = "matches"


class Flag(models.Model):
    key = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=10, choices=FlagType.choices, default=FlagType.BOOLEAN)
    variants = models.JSONField(default=dict, help_text='{"on": true, "off": false}')
    default_variant = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class FlagRule(models.Model):
    """Ordered targeting rule of a flag: the first that matches picks the variant."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="rules")
    order = models.PositiveIntegerField(default=0)
    attribute = models.CharField(max_length=100)
    operator = models.CharField(max_length=20, choices=Operator.choices)
    values = models.JSONField(default=list)
    variant = models.CharField(max_length=100)

    class Meta:
        ordering = ["flag", "order", "id"]

    def __str__(self) -> str:
        return f"{self.attribute} {self.operator} {self.values} → {self.variant}"


class FlagOverride(models.Model):
    """A temporary targeted switch made from a session. Active while not reverted and
    before `expires_at`; expiry is decided when a flag is evaluated, not by a worker."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="overrides")
    session = models.ForeignKey(
        "debug_sessions.DebugSession", on_delete=models.CASCADE, related_name="flag_overrides"
    )
    variant = models.CharField(max_length=100)
    attribute = models.CharField(max_length=100)
    operator = models.CharField(max_length=20, choices=Operator.choices)
    values = models.JSONField(default=list)
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reverted_at = models.DateTimeField(null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set by the sweeper once the expiry is on the timeline.
    expiry_recorded = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["expires_at"], name="override_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.flag.key}={self.variant} for {self.attribute} {self.operator} {self.values}"

    def is_active(self, now: datetime | None = None) -> bool:
        return self.reverted_at is None and self.expires_at > (now or timezone.now())

    @property
    def target(self) -> str:
        return f"{self.attribute} {self.operator} {', '.join(map(str, self.values))}"


class FlagsVersion(models.Model):
    """One row; bumped in the same transaction as any change to flags, rules or overrides,
    so every process knows when its cached snapshot is stale with one cheap query."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"flags v{self.version}"


class LogLevelOverride(models.Model):
    """A temporary log-level change on one logger of one service, made from a session.

    pending → applied → reverted, or failed (never applied) / revert_failed (retried with
    backoff until reverted, or marked handled by a responder). Each step is verified by
    reading the level back from the service.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        APPLIED = "applied"
        REVERTED = "reverted"
        FAILED = "failed"
        REVERT_FAILED = "revert_failed"

    session = models.ForeignKey(
        "debug_sessions.DebugSession", on_delete=models.CASCADE, related_name="log_overrides"
    )
    service = models.ForeignKey(
        "services.Service", on_delete=models.PROTECT, related_name="log_overrides"
    )
    logger = models.CharField(max_length=200)
    level = models.CharField(max_length=10)
    # The configured level read before the change (None: inherited / Spring's null).
    previous_level = models.CharField(max_length=10, null=True, blank=True)  # noqa: DJ001
    previous_effective = models.CharField(max_length=10, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=15, choices=State.choices, default=State.PENDING)
    partial = models.BooleanField(default=False, help_text="Read-backs answered mixed levels.")
    verified = models.BooleanField(default=False, help_text="The revert was read back.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revert_requested_at = models.DateTimeField(null=True, blank=True)
    revert_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reverted_at = models.DateTimeField(null=True, blank=True)
    revert_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A worker holds the row while it talks to the service; others skip it until then.
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "expires_at"], name="loglevel_due_idx")]

    def __str__(self) -> str:
        return f"{self.service_id}:{self.logger}={self.level} ({self.state})"

    @property
    def is_live(self) -> bool:
        """Switched on (or about to be) and not yet reverted."""
        return self.state in (self.State.PENDING, self.State.APPLIED)

    @property
    def needs_attention(self) -> bool:
        return self.state == self.State.REVERT_FAILED and self.handled_at is None
