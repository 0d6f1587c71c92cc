"""File cleanup when artifact rows go: the one thing done in a signal, because rows also go
by cascade (deleting a session, a run, or in the admin) where no action of ours runs."""

from typing import Any

import structlog
from django.db import transaction
from django.db.models.signals import post_delete

from profiling.models import ProfileArtifact

log = structlog.get_logger(__name__)


def _delete_file(sender: type[ProfileArtifact], instance: ProfileArtifact, **kwargs: Any) -> None:
    name, storage = instance.file.name, instance.file.storage
    if not name:
        return

    def delete() -> None:
        try:
            storage.delete(name)
        except OSError:
            log.warning("profile.artifact_delete_failed", name=name)

    # After commit: a rolled-back delete keeps its row, so it must keep its file.
    transaction.on_commit(delete)


def connect() -> None:
    post_delete.connect(_delete_file, sender=ProfileArtifact, dispatch_uid="profiling-files")
