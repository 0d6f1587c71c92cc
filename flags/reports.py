"""The incident report's "Interventions" section: every flag and log-level override."""

from django.utils import timezone

from flags.models import FlagOverride, LogLevelOverride
from sessions.markdown import escape_markdown as esc
from sessions.models import DebugSession


def _t(value: object) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S}" if value else "—"  # type: ignore[arg-type]


def _who(user: object) -> str:
    return esc(user.get_username()) if user else "prodbug"  # type: ignore[attr-defined]


def interventions_section(session: DebugSession) -> str:
    flags = list(
        FlagOverride.objects.filter(session=session)
        .select_related("flag", "created_by", "reverted_by")
        .order_by("id")
    )
    levels = list(
        LogLevelOverride.objects.filter(session=session)
        .select_related("service", "created_by", "revert_requested_by")
        .order_by("id")
    )
    if not flags and not levels:
        return "Nothing was switched on in production from this session."
    lines = []
    if flags:
        lines += [
            "| Flag override | Target | By | From | Expires | Ended | Reason |",
            "|---|---|---|---|---|---|---|",
        ]
        now = timezone.now()
        for o in flags:
            if o.reverted_at:
                ended = f"reverted {_t(o.reverted_at)} by {_who(o.reverted_by)}"
            elif o.expires_at <= now:
                ended = f"expired {_t(o.expires_at)}"
            else:
                ended = "**still active**"
            lines.append(
                f"| {esc(o.flag.key)} → {esc(o.variant)} | {esc(o.target)} | {_who(o.created_by)} "
                f"| {_t(o.created_at)} | {_t(o.expires_at)} | {ended} | {esc(o.reason)} |"
            )
        lines.append("")
    if levels:
        lines += [
            "| Log level | Service | By | From → to | Applied | Expires | Reverted | Verified |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for o in levels:
            partial = " (partial)" if o.partial else ""
            state = {
                "reverted": _t(o.reverted_at),
                "revert_failed": f"**FAILED**: {esc(o.error)}",
                "failed": f"not applied: {esc(o.error)}",
            }.get(o.state, f"**{o.state}**")
            lines.append(
                f"| {esc(o.logger)} | {esc(o.service.name)} | {_who(o.created_by)} "
                f"| {esc(o.previous_effective or '?')} → {o.level}{partial} | {_t(o.applied_at)} "
                f"| {_t(o.expires_at)} | {state} | {'yes' if o.verified else 'no'} |"
            )
    return "\n".join(lines)
