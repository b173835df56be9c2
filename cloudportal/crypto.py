"""Encryption at rest for sensitive fields (ID number, IBAN).

Keys come from FIELD_ENCRYPTION_KEYS: the first encrypts, all decrypt, so a new key
is put first and `manage.py rotate_field_keys` re-encrypts every value with it.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models

MASK = "••••"


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEYS if k and k.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must hold at least one key.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds a malformed key.") from exc


def _reset(*, setting: str, **kwargs) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


setting_changed.connect(_reset)


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored value cannot be decrypted with FIELD_ENCRYPTION_KEYS.") from exc


def rotate(token: str) -> str:
    return _fernet().rotate(token.encode()).decode()


def mask(value: str | None, *, visible: int = 4) -> str:
    """`•••• 1234`: only the last characters, never the whole value."""
    if not value:
        return ""
    compact = "".join(value.split())
    if len(compact) <= visible:
        return MASK
    return f"{MASK} {compact[-visible:]}"


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; reads back as the clear value.

    Not searchable or orderable by content, by design."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
