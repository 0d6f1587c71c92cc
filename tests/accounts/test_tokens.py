from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_create_api_token_prints_the_token_last_and_stores_a_hash(responder) -> None:
    out = StringIO()
    call_command("create_api_token", "rita", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert raw.startswith("pb_") and len(raw) > 40
    assert token.key_hash != raw and raw not in token.key_hash
    assert ApiToken.authenticate(raw, scope="api").user == responder


def test_ofrep_scope(responder) -> None:
    out = StringIO()
    call_command("create_api_token", "rita", "--scope", "ofrep", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert ApiToken.authenticate(raw, scope="ofrep") is not None
    assert ApiToken.authenticate(raw, scope="api") is None


def test_unknown_user_is_an_error() -> None:
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command("create_api_token", "ghost")
    assert ApiToken.objects.count() == 0


def test_inactive_user_token_is_refused(responder) -> None:
    raw = ApiToken.issue(user=responder)
    responder.is_active = False
    responder.save(update_fields=["is_active"])
    assert ApiToken.authenticate(raw, scope="api") is None


def test_ensure_admin_creates_once_and_prints_password(monkeypatch) -> None:
    monkeypatch.delenv("PRODBUG_ADMIN_PASSWORD", raising=False)
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    from django.contrib.auth.models import User

    admin = User.objects.get(username="admin")
    password = out.getvalue().split("admin / ")[1].split()[0]
    assert admin.check_password(password) and admin.is_superuser
    assert admin.groups.filter(name="admin").exists()
    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert password not in again.getvalue()
    assert User.objects.count() == 1
