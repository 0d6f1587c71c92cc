"""Interoperability: the official OpenFeature SDK with its OFREP provider, against the real
server, with an override that expires in the middle of the test."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from openfeature import api as openfeature
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import Reason

from accounts.models import ApiToken
from flags import actions
from flags.models import FlagOverride
from tests.factories import make_session

pytestmark = pytest.mark.django_db(transaction=True)


def test_openfeature_sdk_reads_overrides_until_they_expire(live_server, responder) -> None:
    flag = actions.flag_create(
        key="debug-mode", flag_type="boolean", variants={"on": True, "off": False},
        default_variant="off",
    )  # fmt: skip
    session = make_session(responder, title="EU checkout")
    override = actions.override_create(
        session=session, flag=flag, variant="on", attribute="email", operator="ends_with",
        values=["@example.com"], actor=responder, duration_s=60,
    )  # fmt: skip
    token = ApiToken.issue(user=responder, scope="ofrep")
    openfeature.set_provider(
        OFREPProvider(live_server.url, headers_factory=lambda: {"Authorization": f"Bearer {token}"})
    )
    client = openfeature.get_client()
    ann = EvaluationContext(targeting_key="user_1", attributes={"email": "ann@example.com"})
    bob = EvaluationContext(targeting_key="user_2", attributes={"email": "bob@other.org"})

    details = client.get_boolean_details("debug-mode", False, ann)
    assert (details.value, details.variant, details.reason) == (True, "on", Reason.TARGETING_MATCH)
    assert details.flag_metadata["session"] == session.pk
    assert client.get_boolean_value("debug-mode", True, bob) is False

    # Let the override run out on the real clock, two seconds from now.
    FlagOverride.objects.filter(pk=override.pk).update(
        expires_at=timezone.now() + timedelta(seconds=2)
    )
    actions.flags_changed()  # as an extend would
    assert client.get_boolean_value("debug-mode", False, ann) is True
    time.sleep(2.2)
    after = client.get_boolean_details("debug-mode", True, ann)
    assert (after.value, after.variant) == (False, "off")

    missing = client.get_boolean_details("no-such-flag", True, ann)
    assert missing.value is True and missing.error_code is not None
