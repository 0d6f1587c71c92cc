"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key kept outside the database.

The key comes from PRODBUG_SECRET_KEY (or PRODBUG_SECRET_KEY_FILE); the embedded default is
a key file created in var/. Several comma-separated keys allow rotation: the first encrypts,
all decrypt.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from prodbug_site.env import env_str


@cache
def _fernet() -> MultiFernet:
    raw = env_str("PRODBUG_SECRET_KEY")
    if not raw:
        key_file = settings.VAR_DIR / "secret.fernet"
        if not key_file.exists():
            key_file.write_bytes(Fernet.generate_key())
            key_file.chmod(0o600)
        raw = key_file.read_text().strip()
    try:
        return MultiFernet([Fernet(k.strip()) for k in raw.split(",") if k.strip()])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "PRODBUG_SECRET_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated"
        ) from exc


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored secret cannot be decrypted with this key") from exc
