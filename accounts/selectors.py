from __future__ import annotations

from .models import User


def user_for_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()
