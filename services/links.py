"""Deep links from a trace id into Grafana Explore (Loki, Tempo), Jaeger or any URL.

Placeholders in templates: {trace_id} {span_id} {service} {from_ms} {to_ms} {base_url}.
Only these are substituted, so LogQL's own braces ({service_name="x"}) stay as written.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from django.conf import settings

from services.models import LinkKind, LinkTemplate, Service

PLACEHOLDERS = ("trace_id", "span_id", "service", "from_ms", "to_ms", "base_url")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_ANY_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
DEFAULT_LOKI_QUERY = '{{service_name="{service}"}} |= "{trace_id}"'
ANY_SERVICE_LOKI_QUERY = '{{service_name=~".+"}} |= "{trace_id}"'


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def validate_template(kind: str, template: str) -> None:
    """Custom URL templates may use only the documented placeholders."""
    if kind == LinkKind.CUSTOM:
        unknown = sorted(set(_ANY_FIELD.findall(template)) - set(PLACEHOLDERS))
        if unknown:
            raise ValueError(
                f"Unknown placeholder {{{unknown[0]}}}; use {', '.join(PLACEHOLDERS)}."
            )
        if not template.startswith(("http://", "https://", "{base_url}")):
            raise ValueError("A custom template must produce an http(s) URL.")


def _fill(template: str, values: dict[str, str], *, url: bool) -> str:
    def sub(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        return quote(value, safe="") if url and match.group(1) != "base_url" else value

    # LogQL templates double braces to keep them literal, as in str.format.
    text = _PLACEHOLDER.sub(sub, template)
    return text.replace("{{", "{").replace("}}", "}") if not url else text


def _panes(uid: str, ds_type: str, query: dict[str, str], frm: int, to: int) -> str:
    panes = {
        "pb": {
            "datasource": uid,
            "queries": [{"refId": "A", "datasource": {"type": ds_type, "uid": uid}, **query}],
            "range": {"from": str(frm), "to": str(to)},
        }
    }
    return quote(json.dumps(panes, separators=(",", ":")), safe="")


def build(t: LinkTemplate, *, trace_id: str, span_id: str, service: str, at: datetime) -> Link:
    window = timedelta(minutes=t.window_minutes)
    frm, to = int((at - window).timestamp() * 1000), int((at + window).timestamp() * 1000)
    base = t.base_url.rstrip("/")
    values = {"trace_id": trace_id, "span_id": span_id, "service": service,
              "from_ms": str(frm), "to_ms": str(to), "base_url": base}  # fmt: skip
    label = t.label or t.get_kind_display()
    if t.kind == LinkKind.LOKI:
        default = DEFAULT_LOKI_QUERY if service else ANY_SERVICE_LOKI_QUERY
        expr = _fill(t.template or default, values, url=False)
        panes = _panes(t.datasource_uid, "loki", {"expr": expr, "queryType": "range"}, frm, to)
        return Link(label, f"{base}/explore?schemaVersion=1&orgId=1&panes={panes}")
    if t.kind == LinkKind.TEMPO:
        query = {"query": trace_id, "queryType": "traceql"}
        panes = _panes(t.datasource_uid, "tempo", query, frm, to)
        return Link(label, f"{base}/explore?schemaVersion=1&orgId=1&panes={panes}")
    if t.kind == LinkKind.JAEGER:
        return Link(label, f"{base}/trace/{quote(trace_id, safe='')}")
    return Link(label, _fill(t.template, values, url=True))


def _env_defaults() -> list[LinkTemplate]:
    """Global links from settings, for installations that configure through environment."""
    found = []
    grafana = settings.PRODBUG_GRAFANA_URL
    if grafana and settings.PRODBUG_GRAFANA_LOKI_UID:
        found.append(LinkTemplate(kind=LinkKind.LOKI, base_url=grafana, label="Logs (Loki)",
                                  datasource_uid=settings.PRODBUG_GRAFANA_LOKI_UID))  # fmt: skip
    if grafana and settings.PRODBUG_GRAFANA_TEMPO_UID:
        found.append(LinkTemplate(kind=LinkKind.TEMPO, base_url=grafana, label="Trace (Tempo)",
                                  datasource_uid=settings.PRODBUG_GRAFANA_TEMPO_UID))  # fmt: skip
    if settings.PRODBUG_JAEGER_URL:
        found.append(LinkTemplate(kind=LinkKind.JAEGER, base_url=settings.PRODBUG_JAEGER_URL,
                                  label="Jaeger"))  # fmt: skip
    return found


def templates_for(service: Service | None, all_templates: list[LinkTemplate]) -> list[LinkTemplate]:
    """The service's own templates, plus global ones for kinds it does not override."""
    own = [t for t in all_templates if service is not None and t.service_id == service.pk]
    kinds = {t.kind for t in own}
    global_ = [t for t in all_templates if t.service_id is None] or _env_defaults()
    return own + [t for t in global_ if t.kind not in kinds]


def links(
    *, trace_id: str, span_id: str, service: Service | None, at: datetime,
    all_templates: list[LinkTemplate],
) -> list[Link]:  # fmt: skip
    name = service.slug if service else ""
    return [
        build(t, trace_id=trace_id, span_id=span_id, service=name, at=at)
        for t in templates_for(service, all_templates)
    ]
