"""Writes to access-log data other than sessions themselves (see ingest/): collectors
and the subscribers sessions are attributed to."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cloudportal.sql import one_of

from .models import Collector, Subscriber

TOKEN_PREFIX = "cpc_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def collector_create(*, name: str) -> tuple[Collector, str]:
    """A new collector and its token. The token is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the collector a name.")})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            collector = Collector.objects.create(name=name, token_prefix=token[:10], token_hash=token_hash(token))
    except IntegrityError:
        raise ValidationError({"name": _("A collector with this name exists already.")}) from None
    return collector, token


def collector_revoke(*, collector: Collector) -> Collector:
    """From now on its token is refused. Idempotent."""
    Collector.objects.filter(pk=collector.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    collector.refresh_from_db(fields=["revoked_at"])
    return collector


def collector_for_token(*, token: str) -> Collector | None:
    """The active collector holding this token, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    return Collector.objects.filter(token_hash=token_hash(token), revoked_at__isnull=True).first()


def subscribers_current(accounts: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The subscriber id of each (account id, email), made when missing: the one new
    sessions of that account are attributed to while it has that email."""
    found: dict[tuple[int, str], int] = {}

    def look_up(user_ids: set[int]) -> None:
        known = Subscriber.objects.filter(one_of(f"{Subscriber._meta.db_table}.user_id", user_ids))
        for user_id, email, pk in known.values_list("user_id", "email", "id"):
            if (user_id, email) in accounts:
                found[(user_id, email)] = pk

    if accounts:
        look_up({user_id for user_id, _email in accounts})
    missing = accounts - found.keys()
    if missing:
        Subscriber.objects.bulk_create(
            [Subscriber(user_id=user_id, email=email) for user_id, email in missing], ignore_conflicts=True
        )
        look_up({user_id for user_id, _email in missing})
    return found


def subscribers_detach(*, user: User) -> int:
    """Detach the account's sessions from it: no account, no email, in one statement
    however many sessions there are. Returns the number of subscribers detached."""
    return Subscriber.objects.filter(user=user).update(user=None, email="", detached_at=timezone.now())
