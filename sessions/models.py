from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Severity(models.TextChoices):
    SEV1 = "SEV1", "SEV1 — critical"
    SEV2 = "SEV2", "SEV2 — major"
    SEV3 = "SEV3", "SEV3 — minor"
    SEV4 = "SEV4", "SEV4 — low"


class Status(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"


STATUS_ORDER = [s.value for s in Status]


class Phase(models.IntegerChoices):
    PRE_INVESTIGATION = 1, "Pre-investigation"
    INVESTIGATION = 2, "Investigation"
    DATA_COLLECTION = 3, "Data collection"
    DEBUGGING_ACTIONS = 4, "Debugging actions"
    RESOLUTION = 5, "Resolution"


class ItemState(models.TextChoices):
    TODO = "todo", "To do"
    DOING = "doing", "In progress"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class ChecklistTemplate(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return self.name


class ChecklistTemplateItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    phase = models.PositiveSmallIntegerField(choices=Phase.choices)
    title = models.CharField(max_length=200)
    help = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    auto_rule = models.CharField(
        max_length=50, blank=True, help_text="Evidence that ticks the item by itself."
    )

    class Meta:
        ordering = ["phase", "order", "id"]

    def __str__(self) -> str:
        return self.title


class DebugSession(models.Model):
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    severity = models.CharField(max_length=4, choices=Severity.choices, default=Severity.SEV3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVESTIGATING)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commanded_sessions",
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="debug_sessions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    services = models.ManyToManyField(
        "services.Service", blank=True, related_name="sessions", verbose_name="affected services"
    )
    health_runs = models.ManyToManyField("services.HealthRun", blank=True, related_name="sessions")
    findings = models.TextField(blank=True)
    findings_html = models.TextField(blank=True, editable=False)
    opened_at = models.DateTimeField(default=timezone.now)
    identified_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["status", "-opened_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status != Status.RESOLVED

    @property
    def elapsed(self) -> timedelta:
        return (self.resolved_at or timezone.now()) - self.opened_at

    def allowed_statuses(self) -> list[str]:
        """Where the status may go from here: forward to any later step, or back to
        investigating when a fix did not hold (reopening a resolved session)."""
        current = STATUS_ORDER.index(self.status)
        later = STATUS_ORDER[current + 1 :]
        back = [Status.INVESTIGATING.value] if self.status != Status.INVESTIGATING else []
        return back + later


class ChecklistItem(models.Model):
    session = models.ForeignKey(DebugSession, on_delete=models.CASCADE, related_name="items")
    phase = models.PositiveSmallIntegerField(choices=Phase.choices)
    title = models.CharField(max_length=200)
    help = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    auto_rule = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.TODO)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_items",
    )
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    # Bumped on every change; writers compare-and-swap on it so no update is lost.
    version = models.PositiveIntegerField(default=1)
    # Ticked by Prodbug from evidence; a human who unticks it stops it re-ticking.
    auto_done = models.BooleanField(default=False)
    auto_suppressed = models.BooleanField(default=False)

    class Meta:
        ordering = ["phase", "order", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.state in (ItemState.DONE, ItemState.SKIPPED)


class TimelineEvent(models.Model):
    """Append-only audit trail of a session; its newest id is the session's version."""

    session = models.ForeignKey(DebugSession, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=40)
    message = models.TextField()
    # Sanitised HTML for Markdown notes, rendered once at write time.
    html = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["session", "-id"])]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.kind}: {self.message[:60]}"


class TraceRef(models.Model):
    """A trace id tied to a session (and optionally a service), shown as deep links."""

    session = models.ForeignKey(DebugSession, on_delete=models.CASCADE, related_name="traces")
    trace_id = models.CharField(max_length=32)
    span_id = models.CharField(max_length=16, blank=True)
    service = models.ForeignKey(
        "services.Service", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.trace_id


class FollowUp(models.Model):
    class State(models.TextChoices):
        OPEN = "open"
        DONE = "done"
        WONTFIX = "wontfix", "won't fix"

    session = models.ForeignKey(DebugSession, on_delete=models.CASCADE, related_name="follow_ups")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due = models.DateField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due", "id"]

    def __str__(self) -> str:
        return self.title
