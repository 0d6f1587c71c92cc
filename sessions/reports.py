"""The incident report: Markdown (the source), self-contained HTML, and a zip of both with
every artifact. Other apps add sections through `report_sections` in AppConfig.ready().

User text is escaped where it lands in our Markdown (it cannot break the structure), and
the HTML is rendered from that Markdown and sanitised again.
"""

import base64
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import nh3
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from markdown_it import MarkdownIt

from services.models import HealthResult
from sessions import queries
from sessions.markdown import escape_markdown as esc
from sessions.models import DebugSession, ItemState


@dataclass(frozen=True)
class Attachment:
    name: str  # path inside the zip, e.g. "profiles/shop-12.svg"
    content_type: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    markdown: Callable[[DebugSession], str]
    attachments: Callable[[DebugSession], list[Attachment]] | None = None
    order: int = 50


# Other apps append Section(...) (or a (title, markdown_fn) pair) in AppConfig.ready().
report_sections: list[Section | tuple[str, Callable[[DebugSession], str]]] = []


def _sections() -> list[Section]:
    found = [s if isinstance(s, Section) else Section(s[0], s[1]) for s in report_sections]
    return sorted(found, key=lambda s: s.order)


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


def _name(user: object) -> str:
    return esc(user.get_username()) if user is not None else "—"  # type: ignore[attr-defined]


def _quote(markdown: str) -> str:
    """User-written Markdown (findings) kept as Markdown — inside a blockquote so its
    headings cannot break out of the section, and with raw HTML shown as text."""
    safe = markdown.replace("\r", "").replace("&", "&amp;").replace("<", "&lt;")
    return "\n".join("> " + line for line in safe.splitlines())


def _plain(text: str) -> str:
    """User-written plain text (the summary), escaped line by line."""
    return "\n\n".join(esc(line) for line in text.replace("\r", "").splitlines() if line.strip())


def _times(session: DebugSession) -> list[str]:
    rows = [
        f"- **Severity:** {session.severity}",
        f"- **Status:** {session.get_status_display()}",
        f"- **Opened:** {_when(session.opened_at)}",
        f"- **Identified:** {_when(session.identified_at)}",
        f"- **Mitigated:** {_when(session.mitigated_at)}",
        f"- **Resolved:** {_when(session.resolved_at)}",
    ]
    for label, at in (("identify", session.identified_at), ("mitigate", session.mitigated_at),
                      ("resolve", session.resolved_at)):  # fmt: skip
        if at:
            rows.append(f"- **Time to {label}:** {format_duration(at - session.opened_at)}")
    rows.append(f"- **Duration:** {format_duration(session.elapsed)}")
    return rows


def _people(session: DebugSession, phases: list[queries.PhaseView]) -> list[str]:
    lines = [f"- **Commander:** {_name(session.commander)}"]
    participants = sorted(u.get_username() for u in session.participants.all())
    lines.append(f"- **Participants:** {', '.join(esc(p) for p in participants) or '—'}")
    done: dict[str, list[str]] = {}
    for phase in phases:
        for item in phase.items:
            if item.state == ItemState.DONE:
                who = item.done_by.get_username() if item.done_by else "prodbug (evidence)"
                done.setdefault(who, []).append(esc(item.title))
    for who, titles in sorted(done.items()):
        lines.append(f"- **{esc(who)}** did: {'; '.join(titles)}")
    return lines


def _checklist(phases: list[queries.PhaseView]) -> list[str]:
    lines: list[str] = []
    for phase in phases:
        lines += [f"### {phase.number}. {phase.label} ({phase.closed}/{phase.total})", ""]
        lines += ["| State | Item | Assignee | Done by | Note |", "|---|---|---|---|---|"]
        for item in phase.items:
            who = _name(item.assignee) if item.assignee else ""
            by = (
                (_name(item.done_by) if item.done_by else "prodbug") if item.state == "done" else ""
            )
            lines.append(
                f"| {item.get_state_display()} | {esc(item.title)} | {who} | {by} "
                f"| {esc(item.note)} |"
            )
        lines.append("")
    return lines


def _health(session: DebugSession) -> list[str]:
    results = list(
        HealthResult.objects.filter(run__sessions=session)
        .select_related("health_check__service")
        .order_by("id")
    )
    if not results:
        return ["No health checks were run."]
    latest = {r.health_check_id: r for r in results}
    lines = ["| Check | Service | Latest | Latency | Error |", "|---|---|---|---|---|"]
    for r in latest.values():
        latency = f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else ""
        lines.append(
            f"| {esc(r.health_check.label)} | {esc(r.health_check.service.name)} "
            f"| {'ok' if r.ok else 'FAIL'} | {latency} | {esc(r.error or r.warning)} |"
        )
    failures = [r for r in results if not r.ok]
    if failures:
        lines += ["", f"Failures during the session ({len(failures)}):", ""]
        for r in failures[-50:]:
            lines.append(f"- {_when(r.at)} {esc(r.health_check.label)}: {esc(r.error)}")
    return lines


def _traces(session: DebugSession) -> list[str]:
    rows = queries.trace_rows(session)
    if not rows:
        return ["No trace ids were recorded."]
    lines = []
    for ref, found in rows:
        links = " · ".join(f"[{esc(link.label)}]({link.url})" for link in found)
        where = f" on {esc(ref.service.name)}" if ref.service else ""
        note = f" — {esc(ref.note)}" if ref.note else ""
        lines.append(f"- `{ref.trace_id}`{where}{note} {links}".rstrip())
    return lines


def _follow_ups(session: DebugSession) -> list[str]:
    follow_ups = list(session.follow_ups.select_related("owner").order_by("due", "id"))
    if not follow_ups:
        return ["None filed."]
    lines = ["| Follow-up | Owner | Due | State | Ticket |", "|---|---|---|---|---|"]
    for f in follow_ups:
        ticket = f"[link]({f.url})" if f.url else ""
        due = f"{f.due:%Y-%m-%d}" if f.due else ""
        lines.append(
            f"| {esc(f.title)} | {_name(f.owner) if f.owner else ''} | {due} "
            f"| {f.get_state_display()} | {ticket} |"
        )
    return lines


def report_markdown(session: DebugSession) -> str:
    phases = queries.checklist_phases(session)
    lines = [f"# Incident report: {esc(session.title)}", ""]
    lines += ["## Summary and impact", "", _plain(session.summary) or "—", ""]
    lines += ["## Severity, status and times", "", *_times(session), ""]
    lines += ["## People", "", *_people(session, phases), ""]
    lines += ["## Findings", "", _quote(session.findings) if session.findings else "—", ""]
    for section in _sections():
        lines += [f"## {section.title}", "", section.markdown(session), ""]
    lines += ["## Health checks", "", *_health(session), ""]
    lines += ["## Trace ids", "", *_traces(session), ""]
    lines += ["## Follow-ups", "", *_follow_ups(session), ""]
    lines += ["## Checklist", "", *_checklist(phases)]
    lines += ["## Timeline", ""]
    for event in reversed(queries.timeline(session, limit=None)):
        actor = _name(event.actor) if event.actor else "prodbug"
        lines.append(f"- {_when(event.at)} — **{actor}** ({event.kind}): {esc(event.message)}")
    lines.append("")
    return "\n".join(lines)


_md = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table")
_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2",
    "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def attachments(session: DebugSession) -> list[tuple[str, list[Attachment]]]:
    return [(s.title, s.attachments(session)) for s in _sections() if s.attachments]


def report_html(session: DebugSession, markdown: str | None = None) -> str:
    body = nh3.clean(
        _md.render(markdown or report_markdown(session)),
        tags=_TAGS,
        attributes={"a": {"href"}, "th": {"style"}, "td": {"style"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    figures = [
        (title, att.caption or att.name, "data:" + att.content_type + ";base64,"
         + base64.b64encode(att.data).decode())
        for title, found in attachments(session)
        for att in found
        if att.content_type.startswith("image/")
    ]  # fmt: skip
    return render_to_string(
        "sessions/report.html", {"session": session, "body": body, "figures": figures}
    )


def report_zip(session: DebugSession) -> bytes:
    markdown = report_markdown(session)
    buffer = io.BytesIO()
    base = report_filename(session, "")[:-1]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{base}/report.md", markdown)
        zf.writestr(f"{base}/report.html", report_html(session, markdown))
        for _title, found in attachments(session):
            for att in found:
                zf.writestr(f"{base}/{att.name}", att.data)
    return buffer.getvalue()
