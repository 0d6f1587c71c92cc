from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from flags import actions, evaluation
from flags.evaluation import Condition
from sessions.actions import ActionError
from tests.factories import make_session

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("operator", "values", "value", "expected"),
    [
        ("in", ["user_1", "user_2"], "user_2", True),
        ("in", ["user_1"], "user_3", False),
        ("not_in", ["user_1"], "user_3", True),
        ("not_in", ["user_1"], "user_1", False),
        ("equals", ["eu"], "eu", True),
        ("equals", ["eu"], "eu-west", False),
        ("contains", ["west"], "eu-west-1", True),
        ("starts_with", ["eu-"], "eu-west", True),
        ("starts_with", ["us-"], "eu-west", False),
        ("ends_with", ["@example.com"], "ann@example.com", True),
        ("ends_with", ["@example.com"], "ann@example.com.evil", False),
        ("matches", [r"^user_\d+$"], "user_42", True),
        ("matches", [r"^user_\d+$"], "user_x", False),
        ("in", ["true"], True, True),  # booleans compare as JSON text
    ],
)
def test_operators(operator, values, value, expected) -> None:
    assert Condition.build("a", operator, values).matches({"a": value}) is expected


def test_missing_or_structured_attributes_never_match() -> None:
    assert not Condition.build("email", "not_in", ["x"]).matches({})
    assert not Condition.build("email", "in", ["x"]).matches({"email": ["x"]})


def test_a_catastrophic_pattern_is_cut_off_not_hanging() -> None:
    condition = Condition.build("a", "matches", ["^(a+)+$"])
    assert condition.matches({"a": "a" * 30 + "!"}) is False  # would take minutes with `re`


def _flag(key: str) -> evaluation.FlagDef:
    return evaluation.snapshot()[key]


def test_rules_default_static_and_disabled(debug_flag, tier_flag) -> None:
    beta = evaluation.evaluate(_flag("checkout-tier"), {"email": "bo@corp.example"})
    assert (beta.variant, beta.value, beta.reason) == ("beta", "beta", "TARGETING_MATCH")
    assert "rule 1 (email ends_with @corp.example)" in beta.why
    other = evaluation.evaluate(_flag("checkout-tier"), {"email": "bo@else.example"})
    assert (other.variant, other.reason) == ("safe", "DEFAULT")
    static = evaluation.evaluate(_flag("debug-mode"), {"targetingKey": "u"})
    assert (static.variant, static.value, static.reason) == ("off", False, "STATIC")
    actions.flag_set_enabled(flag=debug_flag, enabled=False)
    disabled = evaluation.evaluate(_flag("debug-mode"), {})
    assert (disabled.variant, disabled.reason) == ("off", "DISABLED")


def test_overrides_win_over_rules_and_the_newest_wins(responder, tier_flag) -> None:
    session = make_session(responder)
    common = {"session": session, "flag": tier_flag, "attribute": "email",
              "operator": "ends_with", "actor": responder}  # fmt: skip
    actions.override_create(variant="fast", values=["@corp.example"], **common)
    newest = actions.override_create(variant="safe", values=["bo@corp.example"], **common)
    got = evaluation.evaluate(_flag("checkout-tier"), {"email": "bo@corp.example"})
    assert (got.variant, got.reason) == ("safe", "TARGETING_MATCH")
    assert got.metadata["override"] == newest.pk and got.metadata["session"] == session.pk
    other = evaluation.evaluate(_flag("checkout-tier"), {"email": "al@corp.example"})
    assert other.variant == "fast"  # the older override still matches this one


def test_an_override_stops_matching_the_instant_it_expires(responder, debug_flag) -> None:
    session = make_session(responder)
    override = actions.override_create(
        session=session, flag=debug_flag, variant="on", attribute="targetingKey",
        operator="in", values=["user_123"], actor=responder, duration_s=60,
    )  # fmt: skip
    context = {"targetingKey": "user_123"}
    just_before = override.expires_at - timedelta(milliseconds=1)
    with time_machine.travel(just_before, tick=False):
        assert evaluation.evaluate(_flag("debug-mode"), context).variant == "on"
    with time_machine.travel(override.expires_at, tick=False):
        # No worker ran, no version changed: the clock alone ends it.
        result = evaluation.evaluate(_flag("debug-mode"), context)
        assert (result.variant, result.reason) == ("off", "STATIC")


def test_targeting_key_missing(responder, debug_flag) -> None:
    actions.override_create(
        session=make_session(responder), flag=debug_flag, variant="on",
        attribute="targetingKey", operator="in", values=["user_123"], actor=responder,
    )  # fmt: skip
    with pytest.raises(evaluation.ContextError) as err:
        evaluation.evaluate(_flag("debug-mode"), {"email": "x"})
    assert err.value.code == "TARGETING_KEY_MISSING"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"variant": "maybe"}, "variant"),
        ({"operator": "like"}, "operator"),
        ({"values": []}, "values"),
        ({"operator": "matches", "values": ["(unclosed"]}, "values"),
        ({"operator": "matches", "values": ["a" * 201]}, "values"),
        ({"attribute": "has space"}, "attribute"),
        ({"duration_s": 59}, "duration_s"),
        ({"duration_s": 24 * 3600 + 1}, "duration_s"),
    ],
)
def test_bad_overrides_are_refused_and_write_nothing(responder, debug_flag, kwargs, field) -> None:
    session = make_session(responder)
    args = {"session": session, "flag": debug_flag, "variant": "on", "attribute": "targetingKey",
            "operator": "in", "values": ["u1"], "actor": responder, **kwargs}  # fmt: skip
    version = evaluation.current_version()
    with pytest.raises(ActionError) as err:
        actions.override_create(**args)
    assert err.value.field == field
    assert debug_flag.overrides.count() == 0
    assert session.events.count() == 1
    assert evaluation.current_version() == version


def test_revert_extend_and_the_expiry_sweeper(responder, debug_flag) -> None:
    session = make_session(responder)
    make = {"session": session, "flag": debug_flag, "variant": "on", "attribute": "targetingKey",
            "operator": "in", "values": ["u1"], "actor": responder, "duration_s": 60}  # fmt: skip
    first = actions.override_create(**make)
    extended = actions.override_extend(override=first, duration_s=600, actor=responder)
    assert extended.expires_at - first.expires_at == timedelta(seconds=600)
    actions.override_revert(override=first, actor=responder)
    with pytest.raises(ActionError, match="already ended"):
        actions.override_revert(override=first, actor=responder)
    second = actions.override_create(**make)
    with time_machine.travel(second.expires_at + timedelta(seconds=1), tick=False):
        assert actions.overrides_record_expired() == 1
        assert actions.overrides_record_expired() == 0  # recorded once
        with pytest.raises(ActionError):
            actions.override_extend(override=second, duration_s=600, actor=responder)
    kinds = list(session.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["session.opened", "flag.override", "flag.extend", "flag.revert",
                     "flag.override", "flag.expired"]  # fmt: skip


def test_resolving_a_session_reverts_its_overrides(responder, debug_flag) -> None:
    from sessions.actions import session_set_status

    session = make_session(responder)
    override = actions.override_create(
        session=session, flag=debug_flag, variant="on", attribute="targetingKey",
        operator="in", values=["u1"], actor=responder,
    )  # fmt: skip
    session_set_status(session=session, status="resolved", actor=responder)
    override.refresh_from_db()
    assert override.reverted_at is not None and override.reverted_by == responder
    assert evaluation.evaluate(_flag("debug-mode"), {"targetingKey": "u1"}).variant == "off"
    assert session.events.filter(kind="flag.revert").exists()
    with pytest.raises(ActionError, match="resolved"):
        actions.override_create(
            session=session, flag=debug_flag, variant="on", attribute="targetingKey",
            operator="in", values=["u1"], actor=responder,
        )  # fmt: skip
    assert timezone.now() >= override.reverted_at
