"""The incident report. Later apps add sections through `report_sections`."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.text import slugify

from sessions import queries
from sessions.markdown import escape_markdown as esc
from sessions.models import DebugSession

# Other apps append (title, render) pairs in their AppConfig.ready().
report_sections: list[tuple[str, Callable[[DebugSession], str]]] = []


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z") if value else "—"


def format_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 60 * 24)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    parts.append(f"{mins}m")
    return " ".join(parts)


def report_filename(session: DebugSession, ext: str) -> str:
    slug = slugify(session.title)[:60] or "session"
    return f"prodbug-{session.pk}-{slug}.{ext}"


def report_markdown(session: DebugSession) -> str:
    lines = [
        f"# Incident report: {esc(session.title)}",
        "",
        f"- **Severity:** {session.severity}",
        f"- **Status:** {session.get_status_display()}",
        f"- **Commander:** {esc(session.commander.get_username()) if session.commander else '—'}",
        f"- **Opened:** {_when(session.opened_at)}",
        f"- **Identified:** {_when(session.identified_at)}",
        f"- **Mitigated:** {_when(session.mitigated_at)}",
        f"- **Resolved:** {_when(session.resolved_at)}",
        f"- **Duration:** {format_duration(session.elapsed)}",
        "",
    ]
    if session.summary:
        lines += ["## Summary", "", esc(session.summary), ""]
    lines += ["## Checklist", ""]
    for phase in queries.checklist_phases(session):
        lines += [f"### {phase.number}. {phase.label} ({phase.closed}/{phase.total})", ""]
        lines += ["| State | Item | Assignee | Note |", "|---|---|---|---|"]
        for item in phase.items:
            who = esc(item.assignee.get_username()) if item.assignee else ""
            lines.append(
                f"| {item.get_state_display()} | {esc(item.title)} | {who} | {esc(item.note)} |"
            )
        lines.append("")
    for title, render in report_sections:
        lines += [f"## {title}", "", render(session), ""]
    lines += ["## Timeline", ""]
    for event in reversed(queries.timeline(session, limit=None)):
        actor = esc(event.actor.get_username()) if event.actor else "system"
        lines.append(f"- {_when(event.at)} — **{actor}** ({event.kind}): {esc(event.message)}")
    lines.append("")
    return "\n".join(lines)
