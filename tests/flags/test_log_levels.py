"""Log-level overrides against real HTTP targets on 127.0.0.1."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from flags import actions
from flags.models import LogLevelOverride
from services import actions as service_actions
from sessions.actions import ActionError
from tests.factories import make_session
from tests.flags.conftest import DEMO_TOKEN

pytestmark = pytest.mark.django_db
LOGGER = "demo_shop.checkout"


def _service(url: str, protocol: str = "prodbug", token: str = DEMO_TOKEN):
    return service_actions.service_create(
        name=f"svc-{url.rsplit(':', 1)[1]}", base_url=url, admin_token=token,
        log_level_protocol=protocol,
    )  # fmt: skip


def _level(url: str, logger: str = LOGGER) -> str:
    response = httpx.get(f"{url}/admin/log-level", params={"module": logger},
                         headers={"admin_token": DEMO_TOKEN, "Connection": "close"})  # fmt: skip
    return response.json()["level"]


def _expire(o: LogLevelOverride) -> None:
    LogLevelOverride.objects.filter(pk=o.pk).update(expires_at=timezone.now())


def test_apply_verify_expire_revert_verify_on_the_demo(responder, demo_target) -> None:
    service = _service(demo_target.url)
    session = make_session(responder, services=[service])
    o = actions.loglevel_create(session=session, service=service, logger=LOGGER, level="debug",
                                actor=responder, duration_s=300, reason="EU checkout")  # fmt: skip
    assert o.state == "pending" and _level(demo_target.url) == "INFO"  # nothing sent yet

    o = actions.loglevel_apply(override_id=o.pk)
    assert (o.state, o.previous_level, o.partial) == ("applied", "INFO", False)
    assert {_level(demo_target.url) for _ in range(6)} == {"DEBUG"}  # both workers

    assert actions.loglevel_revert_due() == 0  # not due yet
    _expire(o)
    assert actions.loglevel_revert_due() == 1
    o.refresh_from_db()
    assert (o.state, o.verified) == ("reverted", True) and o.reverted_at
    assert {_level(demo_target.url) for _ in range(6)} == {"INFO"}
    assert actions.loglevel_revert_due() == 0  # never twice
    kinds = list(session.events.order_by("id").values_list("kind", flat=True))[1:]
    assert kinds == ["loglevel.requested", "loglevel.applied", "loglevel.reverted"]
    applied = session.events.get(kind="loglevel.applied").message
    assert (
        applied
        == f"Applied DEBUG for {LOGGER} on {service.name} (was INFO; verified by 5 read-backs)"
    )


def test_spring_actuator_protocol_restores_null(responder, spring_target) -> None:
    service = _service(spring_target.url, protocol="spring-actuator", token="")
    session = make_session(responder, services=[service])
    o = actions.loglevel_create(session=session, service=service, logger="com.shop.Checkout",
                                level="TRACE", actor=responder)  # fmt: skip
    o = actions.loglevel_apply(override_id=o.pk)
    assert (o.state, o.previous_level, o.previous_effective) == ("applied", None, "INFO")
    body = httpx.get(f"{spring_target.url}/actuator/loggers/com.shop.Checkout").json()
    assert body == {"configuredLevel": "TRACE", "effectiveLevel": "TRACE"}
    actions.loglevel_revert_request(override=o, actor=responder)
    assert actions.loglevel_revert_due() == 1
    body = httpx.get(f"{spring_target.url}/actuator/loggers/com.shop.Checkout").json()
    assert body == {"configuredLevel": None, "effectiveLevel": "INFO"}  # null restored
    o.refresh_from_db()
    assert o.state == "reverted" and o.verified


def test_mixed_levels_across_workers_are_reported_as_partial(responder, isolated_target) -> None:
    service = _service(isolated_target.url, token="t0ken")
    session = make_session(responder, services=[service])
    o = actions.loglevel_create(session=session, service=service, logger="shop.db",
                                level="DEBUG", actor=responder)  # fmt: skip
    o = actions.loglevel_apply(override_id=o.pk)
    # The worker that took the change is busy a moment; the other answers the read-backs.
    assert o.state == "applied" and o.partial
    assert "Partially applied DEBUG" in session.events.get(kind="loglevel.partial").message


def test_target_down_at_revert_time_then_back(responder, demo_target) -> None:
    service = _service(demo_target.url)
    session = make_session(responder, services=[service])
    o = actions.loglevel_create(session=session, service=service, logger=LOGGER, level="DEBUG",
                                actor=responder)  # fmt: skip
    actions.loglevel_apply(override_id=o.pk)
    demo_target.stop()
    _expire(o)
    assert actions.loglevel_revert_due() == 0
    o.refresh_from_db()
    assert (o.state, o.revert_attempts) == ("revert_failed", 1)
    assert "cannot connect" in o.error and o.next_attempt_at > timezone.now()
    assert actions.loglevel_revert_due() == 0  # backoff: not retried yet
    # Every page shows the banner until it is reverted.
    from django.test import Client

    client = Client()
    client.force_login(responder)
    banner = client.get("/sessions/").content.decode()
    assert f"Log level NOT restored: <strong>{LOGGER}</strong>" in banner

    demo_target.start()  # the service comes back (with its persisted DEBUG level)
    assert _level(demo_target.url) == "DEBUG"
    LogLevelOverride.objects.filter(pk=o.pk).update(next_attempt_at=timezone.now())
    assert actions.loglevel_revert_due() == 1
    o.refresh_from_db()
    assert (o.state, o.verified) == ("reverted", True)
    assert _level(demo_target.url) == "INFO"
    assert "Log level NOT restored" not in client.get("/sessions/").content.decode()


def test_a_failed_revert_can_be_marked_handled(responder, closed_port_service) -> None:
    service, session = closed_port_service(responder)
    o = LogLevelOverride.objects.create(
        session=session, service=service, logger="x", level="DEBUG", state="revert_failed",
        previous_level="INFO", expires_at=timezone.now(), error="cannot connect",
        next_attempt_at=timezone.now() - timedelta(seconds=1), revert_attempts=3,
    )  # fmt: skip
    actions.loglevel_mark_handled(override=o, actor=responder)
    assert actions.loglevel_revert_due() == 0  # no more retries
    assert session.events.get(kind="loglevel.handled").actor == responder
    with pytest.raises(ActionError):
        actions.loglevel_mark_handled(override=o, actor=responder)


@pytest.fixture
def closed_port_service():
    def make(user):
        service = _service("http://127.0.0.1:9")
        return service, make_session(user, services=[service])

    return make


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"logger": "has space"}, "logger"),
        ({"logger": "x" * 201}, "logger"),
        ({"level": "VERBOSE"}, "level"),
        ({"level": "TRACE"}, "level"),  # Spring's, not valid for the prodbug protocol
        ({"duration_s": 30}, "duration_s"),
        ({"duration_s": 4 * 3600 + 1}, "duration_s"),
    ],
)
def test_bad_input_writes_nothing_and_sends_nothing(responder, kwargs, field) -> None:
    service = _service("http://127.0.0.1:9")
    session = make_session(responder, services=[service])
    args = {"session": session, "service": service, "logger": "shop", "level": "DEBUG",
            "actor": responder, **kwargs}  # fmt: skip
    with pytest.raises(ActionError) as err:
        actions.loglevel_create(**args)
    assert err.value.field == field
    assert LogLevelOverride.objects.count() == 0 and session.events.count() == 1


def test_resolving_requests_reverts_and_the_sweeper_does_them(responder, demo_target) -> None:
    from sessions.actions import session_set_status

    service = _service(demo_target.url)
    session = make_session(responder, services=[service])
    o = actions.loglevel_create(session=session, service=service, logger=LOGGER, level="DEBUG",
                                actor=responder)  # fmt: skip
    actions.loglevel_apply(override_id=o.pk)
    session_set_status(session=session, status="resolved", actor=responder)
    o.refresh_from_db()
    assert o.revert_requested_at is not None and o.state == "applied"
    assert actions.loglevel_revert_due() == 1
    assert _level(demo_target.url) == "INFO"


def test_a_write_that_errors_may_have_landed_so_it_is_reverted(
    responder, flaky_write_target
) -> None:
    service = _service(flaky_write_target.url)
    session = make_session(responder, services=[service])
    o = actions.loglevel_create(session=session, service=service, logger="shop.db",
                                level="DEBUG", actor=responder)  # fmt: skip
    o = actions.loglevel_apply(override_id=o.pk)
    # The target answered 500 but took the change: Prodbug restores the old level at once.
    assert (o.state, o.previous_level) == ("applied", "WARNING") and o.revert_requested_at
    assert _level(flaky_write_target.url, "shop.db") == "DEBUG"
    assert actions.loglevel_revert_due() == 1
    o.refresh_from_db()
    assert (o.state, o.verified) == ("reverted", True)
    assert _level(flaky_write_target.url, "shop.db") == "WARNING"
    failed = session.events.get(kind="loglevel.failed").message
    assert "HTTP 500" in failed and failed.endswith("restoring WARNING to be safe")
