from datetime import timedelta

from django.db import models
from django.utils import timezone

# Beat sends a heartbeat every HEARTBEAT_EVERY; a worker unseen for longer than
# HEARTBEAT_STALE means expiries and reverts are not being processed.
HEARTBEAT_EVERY = timedelta(seconds=30)
HEARTBEAT_STALE = timedelta(seconds=90)


class Heartbeat(models.Model):
    """Last time a background worker ran a task sent by beat."""

    name = models.CharField(max_length=100, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%H:%M:%S}"

    @classmethod
    def beat(cls, name: str) -> None:
        cls.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})

    @classmethod
    def is_stale(cls, name: str = "worker") -> bool:
        row = cls.objects.filter(name=name).first()
        return row is None or timezone.now() - row.seen_at > HEARTBEAT_STALE
