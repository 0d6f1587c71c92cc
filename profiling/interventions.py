"""Resolving a session cancels its queued and running profiles."""

from django.contrib.auth.models import AbstractBaseUser

from profiling.models import ProfileRun
from sessions import interventions
from sessions.models import DebugSession


def _cancel_all(session: DebugSession, actor: AbstractBaseUser | None) -> list[str]:
    from profiling.actions import ProfileRefused, profile_cancel

    ended = []
    for run in ProfileRun.objects.filter(session=session, state__in=ProfileRun.ACTIVE):
        try:
            profile_cancel(run=run, actor=actor)  # type: ignore[arg-type]
        except ProfileRefused:
            continue  # it ended on its own meanwhile
        ended.append(f"profile #{run.pk} of {run.service_name}")
    return ended


def _running(session: DebugSession) -> list[str]:
    return [
        f"profile #{run.pk} of {run.service_name} is still {run.state}"
        for run in ProfileRun.objects.filter(session=session, state__in=ProfileRun.ACTIVE).exclude(
            cancel_requested=True, state=ProfileRun.State.RUNNING
        )
    ]


def register() -> None:
    interventions.register(
        interventions.InterventionKind(name="profile", revert_all=_cancel_all, remaining=_running)
    )
