import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "pb_"


def _digest(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast unsalted hash is enough to make the
    # stored value useless to whoever reads the table.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        API = "api", "Full API (acts with the user's role)"
        OFREP = "ofrep", "Flag evaluation (OFREP) only"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=100, blank=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.API)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key_hint}… ({self.user}, {self.scope})"

    @classmethod
    def issue(cls, *, user: models.Model, scope: str = Scope.API, name: str = "") -> str:
        """Create a token and return its only plain-text copy."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        cls.objects.create(
            user=user, scope=scope, name=name, key_hash=_digest(raw), key_hint=raw[:10]
        )
        return raw

    @classmethod
    def authenticate(cls, raw: str, *, scope: str) -> "ApiToken | None":
        """The token for `raw` if it is valid for `scope` and its user is active."""
        if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
            return None
        token = cls.objects.select_related("user").filter(key_hash=_digest(raw)).first()
        if token is None or not token.user.is_active:
            return None
        # An API token may read OFREP too; an OFREP token may do nothing else.
        if token.scope != scope and token.scope != cls.Scope.API:
            return None
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token
