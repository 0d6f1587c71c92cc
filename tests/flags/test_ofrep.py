import json

import pytest
from django.test import Client

from flags import actions
from tests.factories import make_session

pytestmark = pytest.mark.django_db


def post(path: str, token: str | None, body: object = None, raw: bytes | None = None, **headers):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body if body is not None else {})
    return Client().post(path, data=data, content_type="application/json", **extra, **headers)


@pytest.fixture
def ofrep_token(responder, token_for) -> str:
    return token_for(responder, scope="ofrep")


def test_auth_401_without_403_with_a_bad_token(debug_flag) -> None:
    path = "/ofrep/v1/evaluate/flags/debug-mode"
    none = post(path, None, {"context": {}})
    assert none.status_code == 401 and none.content == b""
    bad = post(path, "pb_nope", {"context": {}})
    assert bad.status_code == 403 and bad.content == b""
    key = Client().post(path, "{}", content_type="application/json", HTTP_X_API_KEY="pb_nope")
    assert key.status_code == 403


def test_single_evaluation_with_an_override_names_the_session(
    responder, debug_flag, ofrep_token
) -> None:
    session = make_session(responder, title="Checkout 500s")
    actions.override_create(
        session=session, flag=debug_flag, variant="on", attribute="targetingKey",
        operator="in", values=["user_123", "user_456"], actor=responder,
    )  # fmt: skip
    hit = post("/ofrep/v1/evaluate/flags/debug-mode", ofrep_token,
               {"context": {"targetingKey": "user_456"}})  # fmt: skip
    assert hit.status_code == 200
    data = hit.json()
    assert (data["key"], data["value"], data["variant"], data["reason"]) == (
        "debug-mode", True, "on", "TARGETING_MATCH",
    )  # fmt: skip
    assert data["metadata"]["session"] == session.pk
    assert data["metadata"]["sessionTitle"] == "Checkout 500s"
    miss = post("/ofrep/v1/evaluate/flags/debug-mode", ofrep_token,
                {"context": {"targetingKey": "user_999"}}).json()  # fmt: skip
    assert (miss["value"], miss["variant"], miss["reason"]) == (False, "off", "DEFAULT")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "PARSE_ERROR"),
        (b"[1, 2]", "PARSE_ERROR"),
        (b'{"context": "user_1"}', "INVALID_CONTEXT"),
        (b'{"context": {"targetingKey": 42}}', "INVALID_CONTEXT"),
    ],
)
def test_errors_follow_the_protocol(debug_flag, ofrep_token, raw, code) -> None:
    response = post("/ofrep/v1/evaluate/flags/debug-mode", ofrep_token, raw=raw)
    assert response.status_code == 400
    assert response.json()["errorCode"] == code
    assert response.json()["key"] == "debug-mode" and response.json()["errorDetails"]


def test_unknown_flag_and_missing_targeting_key(responder, debug_flag, ofrep_token) -> None:
    missing = post("/ofrep/v1/evaluate/flags/nope", ofrep_token, {"context": {}})
    assert missing.status_code == 404
    assert missing.json() == {"key": "nope", "errorCode": "FLAG_NOT_FOUND",
                              "errorDetails": "flag 'nope' does not exist"}  # fmt: skip
    actions.override_create(
        session=make_session(responder), flag=debug_flag, variant="on",
        attribute="targetingKey", operator="in", values=["u"], actor=responder,
    )  # fmt: skip
    no_key = post("/ofrep/v1/evaluate/flags/debug-mode", ofrep_token, {"context": {"a": "b"}})
    assert no_key.status_code == 400 and no_key.json()["errorCode"] == "TARGETING_KEY_MISSING"


def test_bulk_evaluation_has_an_etag_and_answers_304(
    responder, debug_flag, tier_flag, ofrep_token
) -> None:
    body = {"context": {"targetingKey": "user_1", "email": "x@corp.example"}}
    first = post("/ofrep/v1/evaluate/flags", ofrep_token, body)
    assert first.status_code == 200
    flags = {f["key"]: f for f in first.json()["flags"]}
    assert flags["checkout-tier"]["variant"] == "beta" and flags["debug-mode"]["value"] is False
    etag = first["ETag"]
    again = post("/ofrep/v1/evaluate/flags", ofrep_token, body, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    actions.override_create(
        session=make_session(responder), flag=debug_flag, variant="on",
        attribute="targetingKey", operator="in", values=["user_1"], actor=responder,
    )  # fmt: skip
    changed = post("/ofrep/v1/evaluate/flags", ofrep_token, body, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_an_api_token_may_also_evaluate(responder, token_for, debug_flag) -> None:
    response = post("/ofrep/v1/evaluate/flags/debug-mode", token_for(responder), {"context": {}})
    assert response.status_code == 200


def test_queries_per_evaluation_do_not_grow_with_overrides(
    responder, debug_flag, ofrep_token, django_assert_max_num_queries
) -> None:
    session = make_session(responder)
    for n in range(200):
        actions.override_create(
            session=session, flag=debug_flag, variant="on", attribute="targetingKey",
            operator="in", values=[f"user_{n}"], actor=responder,
        )  # fmt: skip
    path = "/ofrep/v1/evaluate/flags/debug-mode"
    post(path, ofrep_token, {"context": {"targetingKey": "user_1"}})  # loads the snapshot
    # the token, its last-used stamp at most, and the flags version
    with django_assert_max_num_queries(3):
        got = post(path, ofrep_token, {"context": {"targetingKey": "user_199"}})
    assert got.json()["variant"] == "on"
