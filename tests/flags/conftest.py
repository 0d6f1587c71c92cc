import pytest

from flags import actions
from flags.models import Flag


@pytest.fixture
def debug_flag(db: None) -> Flag:
    return actions.flag_create(
        key="debug-mode",
        flag_type="boolean",
        variants={"on": True, "off": False},
        default_variant="off",
        description="Verbose logging for a user's requests",
    )


@pytest.fixture
def tier_flag(db: None) -> Flag:
    flag = actions.flag_create(
        key="checkout-tier",
        flag_type="string",
        variants={"fast": "fast", "safe": "safe", "beta": "beta"},
        default_variant="safe",
    )
    actions.flag_rule_add(
        flag=flag, attribute="email", operator="ends_with", values=["@corp.example"],
        variant="beta",
    )  # fmt: skip
    return flag
