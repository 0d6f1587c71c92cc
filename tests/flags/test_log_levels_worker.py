"""The whole lifecycle through a real Celery worker and beat, against the demo service."""

from datetime import timedelta

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from flags import actions
from flags.models import LogLevelOverride
from services import actions as service_actions
from tests.conftest import wait_for
from tests.factories import make_session
from tests.flags.conftest import DEMO_TOKEN

LOGGER = "demo_shop.checkout"


def _level(url: str) -> str:
    headers = {"admin_token": DEMO_TOKEN, "Connection": "close"}
    response = httpx.get(f"{url}/admin/log-level", params={"module": LOGGER}, headers=headers)
    return response.json()["level"]


def _state(o: LogLevelOverride) -> str:
    o.refresh_from_db()
    return o.state


@pytest.mark.worker
def test_apply_expire_revert_with_worker_and_beat(
    celery_worker, celery_beat, responder, demo_target
) -> None:
    service = service_actions.service_create(
        name="demo", base_url=demo_target.url, admin_token=DEMO_TOKEN
    )
    session = make_session(responder, services=[service])
    with transaction.atomic():  # the apply task is sent when this commits
        o = actions.loglevel_create(session=session, service=service, logger=LOGGER,
                                    level="DEBUG", actor=responder, duration_s=60)  # fmt: skip
    wait_for(lambda: _state(o) == "applied", timeout=30)
    assert {_level(demo_target.url) for _ in range(4)} == {"DEBUG"}

    # Let it run out two seconds from now; beat's sweeper (every 1 s) must revert it.
    LogLevelOverride.objects.filter(pk=o.pk).update(
        expires_at=timezone.now() + timedelta(seconds=2)
    )
    wait_for(lambda: _state(o) == "reverted", timeout=30)
    o.refresh_from_db()
    assert o.verified and o.reverted_at >= o.expires_at
    assert (o.reverted_at - o.expires_at).total_seconds() < 4
    assert {_level(demo_target.url) for _ in range(4)} == {"INFO"}
