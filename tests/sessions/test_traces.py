import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from services.links import build, validate_template
from services.models import LinkKind, LinkTemplate
from sessions import actions
from sessions.traces import TraceError, parse
from tests.factories import make_session

TID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("value", "trace_id", "span_id"),
    [
        (f"00-{TID}-00f067aa0ba902b7-01", TID, "00f067aa0ba902b7"),
        (f"  00-{TID}-00f067aa0ba902b7-00  ", TID, "00f067aa0ba902b7"),
        (f"01-{TID}-00f067aa0ba902b7-01-future", TID, "00f067aa0ba902b7"),  # later versions
    ],
)
def test_valid_traceparents(value: str, trace_id: str, span_id: str) -> None:
    parsed = parse(traceparent=value)
    assert (parsed.trace_id, parsed.span_id) == (trace_id, span_id)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"ff-{TID}-00f067aa0ba902b7-01", "Version ff"),
        (f"00-{TID.upper()}-00f067aa0ba902b7-01", "lowercase"),
        (f"00-{'0' * 32}-00f067aa0ba902b7-01", "all-zero trace id"),
        (f"00-{TID}-{'0' * 16}-01", "all-zero parent"),
        (f"00-{TID[:-1]}-00f067aa0ba902b7-01", "32 hexadecimal"),
        (f"00-{TID}-00f067aa0ba902b-01", "16 lowercase hex"),
        (f"00-{TID}-00f067aa0ba902b7-1", "flags"),
        (f"00-{TID}-00f067aa0ba902b7-01-extra", "exactly four fields"),
        ("00-xyz", "looks like"),
        (f"zz-{TID}-00f067aa0ba902b7-01", "version"),
    ],
)
def test_invalid_traceparents(value: str, message: str) -> None:
    with pytest.raises(TraceError, match=message):
        parse(traceparent=value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Paste"),
        ("0" * 32, "all-zero"),
        ("g" * 32, "32 hexadecimal"),
        (TID.upper(), "lowercase"),
    ],
)
def test_invalid_bare_ids(value: str, message: str) -> None:
    with pytest.raises(TraceError, match=message):
        parse(trace_id=value)


AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _panes(url: str) -> dict:
    return json.loads(unquote(parse_qs(urlsplit(url).query)["panes"][0]))["pb"]


def test_grafana_loki_link() -> None:
    t = LinkTemplate(
        kind=LinkKind.LOKI, base_url="https://grafana.example/", datasource_uid="loki1"
    )
    link = build(t, trace_id=TID, span_id="", service="payments", at=AT)
    assert link.url.startswith("https://grafana.example/explore?schemaVersion=1&orgId=1&panes=")
    pane = _panes(link.url)
    assert pane["datasource"] == "loki1"
    assert pane["queries"][0]["expr"] == f'{{service_name="payments"}} |= "{TID}"'
    assert pane["queries"][0]["datasource"] == {"type": "loki", "uid": "loki1"}
    assert pane["range"] == {"from": str(int(AT.timestamp() * 1000) - 1_800_000),
                             "to": str(int(AT.timestamp() * 1000) + 1_800_000)}  # fmt: skip
    assert '"' not in link.url and " " not in link.url  # properly encoded


def test_grafana_loki_custom_query_and_tempo_and_jaeger() -> None:
    loki = LinkTemplate(kind=LinkKind.LOKI, base_url="https://g", datasource_uid="l",
                        template='{app="{service}"} | json | trace_id="{trace_id}"')  # fmt: skip
    expr = _panes(build(loki, trace_id=TID, span_id="", service="shop", at=AT).url)
    assert expr["queries"][0]["expr"] == f'{{app="shop"}} | json | trace_id="{TID}"'
    tempo = LinkTemplate(kind=LinkKind.TEMPO, base_url="https://g", datasource_uid="t")
    query = _panes(build(tempo, trace_id=TID, span_id="", service="", at=AT).url)["queries"][0]
    assert query == {"refId": "A", "datasource": {"type": "tempo", "uid": "t"},
                     "query": TID, "queryType": "traceql"}  # fmt: skip
    jaeger = LinkTemplate(kind=LinkKind.JAEGER, base_url="https://jaeger.example")
    assert build(jaeger, trace_id=TID, span_id="", service="", at=AT).url == (
        f"https://jaeger.example/trace/{TID}"
    )


def test_custom_templates_encode_values_and_reject_unknown_placeholders() -> None:
    template = "{base_url}/search?q={trace_id}&svc={service}&from={from_ms}"
    custom = LinkTemplate(kind=LinkKind.CUSTOM, base_url="https://x", template=template)
    url = build(custom, trace_id=TID, span_id="", service="a b&c", at=AT).url
    assert (
        url
        == f"https://x/search?q={TID}&svc=a%20b%26c&from={int(AT.timestamp() * 1000) - 1_800_000}"
    )
    with pytest.raises(ValueError, match="Unknown placeholder"):
        validate_template(LinkKind.CUSTOM, "https://x/{traceid}")
    with pytest.raises(ValueError, match="http"):
        validate_template(LinkKind.CUSTOM, "javascript:alert({trace_id})")


@pytest.mark.django_db
def test_service_templates_override_the_global_ones(responder) -> None:
    from services import actions as service_actions

    shop = service_actions.service_create(name="shop", base_url="http://127.0.0.1:9")
    LinkTemplate.objects.create(kind=LinkKind.JAEGER, base_url="https://global-jaeger")
    LinkTemplate.objects.create(kind=LinkKind.LOKI, base_url="https://g", datasource_uid="l")
    LinkTemplate.objects.create(kind=LinkKind.JAEGER, base_url="https://shop-jaeger", service=shop)
    session = make_session(responder, services=[shop])
    ref = actions.trace_add(session=session, actor=responder, trace_id=TID, service=shop)
    from sessions.queries import trace_links

    urls = sorted(link.url for link in trace_links(ref))
    assert urls[1] == f"https://shop-jaeger/trace/{TID}" and urls[0].startswith("https://g/explore")
    other = actions.trace_add(session=session, actor=responder, trace_id="a" * 32)
    assert f"https://global-jaeger/trace/{'a' * 32}" in [link.url for link in trace_links(other)]


@pytest.mark.django_db
def test_trace_api_and_page(responder, viewer, token_for, client_for) -> None:
    from django.test import Client

    LinkTemplate.objects.create(kind=LinkKind.JAEGER, base_url="https://jaeger.example")
    session = make_session(responder)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(responder)}")
    created = api.post(f"/api/v1/sessions/{session.pk}/traces", {
        "traceparent": f"00-{TID}-00f067aa0ba902b7-01", "note": "slow checkout"},
        content_type="application/json")  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert body["trace_id"] == TID and body["links"] == [
        {"label": "Jaeger", "url": f"https://jaeger.example/trace/{TID}"}]  # fmt: skip
    bad = api.post(f"/api/v1/sessions/{session.pk}/traces", {"trace_id": "0" * 32},
                   content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and "trace_id" in bad.json()["detail"]
    viewer_api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(viewer)}")
    assert viewer_api.post(f"/api/v1/sessions/{session.pk}/traces", {"trace_id": TID},
                           content_type="application/json").status_code == 403  # fmt: skip
    ref = session.traces.get()
    # Following a link remembers it (evidence of correlation) and redirects.
    followed = client_for(viewer).get(f"/sessions/{session.pk}/traces/{ref.pk}/open/0")
    assert followed.status_code == 302 and followed["Location"].endswith(TID)
    ref.refresh_from_db()
    assert ref.opened_at is not None
    page = client_for(responder).get(f"/sessions/{session.pk}/").content.decode()
    assert TID in page and "slow checkout" in page
