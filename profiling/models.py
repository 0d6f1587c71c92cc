from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.utils import timezone

MIN_DURATION_S, MAX_DURATION_S, DEFAULT_DURATION_S = 1, 120, 30
MIN_RATE_HZ, MAX_RATE_HZ, DEFAULT_RATE_HZ = 1, 250, 100


class ProfileRun(models.Model):
    """One time-limited py-spy recording of a service's process, made from a session."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        TIMED_OUT = "timed_out", "timed out"

    ACTIVE = (State.QUEUED, State.RUNNING)

    session = models.ForeignKey(
        "debug_sessions.DebugSession", on_delete=models.CASCADE, related_name="profile_runs"
    )
    # Evidence outlives the registry entry: the name is kept when a service is deleted.
    service = models.ForeignKey(
        "services.Service",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="profile_runs",
    )
    service_name = models.CharField(max_length=100)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the run was sent to, as configured when it was requested.
    agent = models.CharField(max_length=50)
    selector = models.JSONField(default=dict)
    duration_s = models.PositiveSmallIntegerField(default=DEFAULT_DURATION_S)
    rate_hz = models.PositiveSmallIntegerField(default=DEFAULT_RATE_HZ)
    idle = models.BooleanField(default=False, help_text="Include idle threads.")
    native = models.BooleanField(default=False, help_text="Include native (C) frames.")
    subprocesses = models.BooleanField(default=False, help_text="Follow child processes.")
    gil = models.BooleanField(default=False, help_text="Only samples holding the GIL.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    pid = models.PositiveIntegerField(null=True, blank=True)
    command = models.CharField(max_length=300, blank=True)
    samples = models.PositiveIntegerField(default=0)
    sampled_s = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_s__gte=MIN_DURATION_S, duration_s__lte=MAX_DURATION_S),
                name="profilerun_duration_range",
            ),
            models.CheckConstraint(
                condition=models.Q(rate_hz__gte=MIN_RATE_HZ, rate_hz__lte=MAX_RATE_HZ),
                name="profilerun_rate_range",
            ),
            # One run per service process at a time, also under concurrent requests.
            models.UniqueConstraint(
                fields=["service"],
                condition=models.Q(state__in=["queued", "running"]),
                name="profilerun_one_active_per_service",
            ),
        ]
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"profile {self.pk} of {self.service_name} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def elapsed_s(self) -> float:
        """Seconds spent sampling so far (for the progress bar), capped at the duration."""
        if self.started_at is None:
            return 0.0
        end = self.finished_at or timezone.now()
        return min(max((end - self.started_at).total_seconds(), 0.0), float(self.duration_s))

    @property
    def options(self) -> list[str]:
        flags = {"idle": self.idle, "native": self.native, "subprocesses": self.subprocesses}
        return [name for name, on in {**flags, "GIL only": self.gil}.items() if on]


class ArtifactKind(models.TextChoices):
    SVG = "svg", "Flamegraph SVG"
    SPEEDSCOPE = "speedscope", "speedscope JSON"
    COLLAPSED = "collapsed", "Collapsed stacks"


# Extension and content type of each kind's download.
ARTIFACT_FORMATS: dict[str, tuple[str, str]] = {
    ArtifactKind.SVG: (".svg", "image/svg+xml"),
    ArtifactKind.SPEEDSCOPE: (".speedscope.json", "application/json"),
    ArtifactKind.COLLAPSED: (".collapsed.txt", "text/plain; charset=utf-8"),
}


def artifact_path(artifact: "ProfileArtifact", filename: str) -> str:
    return str(PurePosixPath("profiles") / f"run-{artifact.run_id}" / filename)


class ProfileArtifact(models.Model):
    run = models.ForeignKey(ProfileRun, on_delete=models.CASCADE, related_name="artifacts")
    kind = models.CharField(max_length=12, choices=ArtifactKind.choices)
    file = models.FileField(upload_to=artifact_path, max_length=300)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["run", "kind"], name="profileartifact_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of run {self.run_id}"
