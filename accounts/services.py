from __future__ import annotations

from django.conf import settings
from django.db import transaction

from .models import User


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise ValueError("unsupported language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user
