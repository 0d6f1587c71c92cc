"""The incident report's "Profiles" section (registered in ProfilingConfig.ready)."""

from django.urls import reverse

from profiling import queries
from profiling.models import ARTIFACT_FORMATS, ArtifactKind
from sessions.markdown import escape_markdown as esc
from sessions.models import DebugSession
from sessions.reports import Attachment


def profiles_section(session: DebugSession) -> str:
    runs = queries.session_runs(session, limit=None)
    if not runs:
        return "No profiles were taken."
    lines = [
        "| Run | Service | By | Settings | State | Samples | Hottest function (self) |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in reversed(runs):
        hottest = ""
        flame = queries.flame_view(run) if run.samples else None
        if flame and flame.top_self:
            top = flame.top_self[0]
            hottest = f"{esc(top.name)} ({top.self_samples * 100 / flame.total:.1f} %)"
        who = esc(run.requested_by.get_username()) if run.requested_by else "prodbug"
        link = reverse("profiling:detail", args=[run.pk])
        lines.append(
            f"| [#{run.pk}]({link}) | {esc(run.service_name)} | {who} "
            f"| {run.duration_s} s at {run.rate_hz} Hz | {run.get_state_display()} "
            f"| {run.samples} | {hottest} |"
        )
    return "\n".join(lines)


def profiles_attachments(session: DebugSession) -> list[Attachment]:
    """Every artifact of the session's runs, under profiles/ in the report's zip; the SVGs
    are also shown in the HTML report (as images, where their scripts cannot run)."""
    found = []
    for run in reversed(queries.session_runs(session, limit=None)):
        for artifact in run.artifacts.all():
            with artifact.file.open("rb") as handle:
                data = handle.read()
            caption = f"Profile #{run.pk} of {run.service_name}: {run.samples:,} samples"
            found.append(
                Attachment(
                    name=f"profiles/{queries.download_name(run, artifact.kind)}",
                    content_type=ARTIFACT_FORMATS[artifact.kind][1],
                    data=data,
                    caption=caption if artifact.kind == ArtifactKind.SVG else "",
                )
            )
    return found
