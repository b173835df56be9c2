"""The data the benchmarks build, in one place: customers and their devices, collectors
and sites, sessions and their daily usage, statement versions.

Each builder makes exactly the rows its benchmark describes (the figures rest on them),
in bulk and without the services' side effects (no emails, no activity history), on
the bench database Django was set up on (bench.common.django_setup). Sessions are
written straight into the partitioned table by `INSERT … SELECT generate_series`, the
SELECT being each benchmark's own: this module gives the columns, MAC addresses
computed in SQL, and loading without indexes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta

from bench.common import say, timed

#: The columns a benchmark's SELECT gives for each session, in this order.
SESSION_COLUMNS = (
    "collector_id",
    "session_id",
    "subscriber_id",
    "mac",
    "ip",
    "site_id",
    "started_at",
    "ended_at",
    "bytes_in",
    "bytes_out",
)


# --- Customers and devices ----------------------------------------------------------


def customer_ensure(email: str):
    """The customer with this address (no usable password), made if missing."""
    from accounts.models import User

    return User.objects.filter(email=email).first() or User.objects.create_user(email=email)


def customers_create(emails: Iterable[str], *, batch_size: int = 5000) -> list:
    """Customers with no usable password, in bulk, in the order of `emails`."""
    from accounts.models import User

    return User.objects.bulk_create([User(email=email, password="!") for email in emails], batch_size=batch_size)


def customers_verified_ensure(count: int, *, domain: str) -> None:
    """`count` active customers c1@domain … with a verified primary address, one in five
    in French; made by SQL once (every other customer is deleted then), kept across runs."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user WHERE email LIKE %s", [f"%@{domain}"])
        if cursor.fetchone()[0] == count:
            return
        with timed() as t:
            cursor.execute("TRUNCATE accounts_user, account_emailaddress CASCADE")
            cursor.execute(
                """
                INSERT INTO accounts_user (password, is_superuser, email, is_active, is_staff, date_joined, language,
                                           email_deletion_notices, email_service_improvement)
                SELECT '!', false, 'c' || g || '@' || %s, true, false, now(),
                       CASE WHEN g %% 5 = 0 THEN 'fr' ELSE 'en' END, true, false
                FROM generate_series(1, %s) AS g
                """,
                [domain, count],
            )
            cursor.execute(
                'INSERT INTO account_emailaddress (user_id, email, verified, "primary") '
                "SELECT id, email, true, true FROM accounts_user"
            )
            cursor.execute("ANALYZE accounts_user")
            cursor.execute("ANALYZE account_emailaddress")
        say(f"created {count:,} customers with verified addresses in {t.seconds:.1f} s")


def devices_create(devices: Iterable[tuple], *, batch_size: int = 5000) -> list:
    """Devices from (customer, MAC address, label) triples, in bulk."""
    from devices.models import Device

    return Device.objects.bulk_create(
        [Device(user=user, mac=mac, label=label) for user, mac, label in devices], batch_size=batch_size
    )


def mac(prefix: str, value: int, octets: int = 4) -> str:
    """`prefix` followed by the `octets` low octets of `value`: the address mac_sql() gives."""
    return prefix + ":".join(f"{(value >> 8 * i) & 0xFF:02X}" for i in reversed(range(octets)))


def mac_sql(prefix: str, expr: str, octets: int = 4) -> str:
    """SQL for the MAC address (text) made of `prefix` and the `octets` low octets of the
    integer SQL expression `expr`, in capitals as the portal stores them."""
    parts = " || ':' || ".join(f"lpad(to_hex((({expr}) >> {8 * i}) & 255), 2, '0')" for i in reversed(range(octets)))
    return f"('{prefix}' || upper({parts}))"


# --- Collectors and sites -----------------------------------------------------------


def collector_ensure(name: str):
    """The collector of that name, made (with a token nobody keeps) if missing."""
    from accesslogs.models import Collector
    from accesslogs.services import collector_create

    return Collector.objects.filter(name=name).first() or collector_create(name=name)[0]


def sites_ensure(count: int, *, name: str, address: str, first: int = 1) -> list[int]:
    """`count` sites named and addressed from the templates with n = first, first + 1, …,
    made when fewer exist; the ids of the first `count` sites, in order."""
    from accesslogs.models import Site

    if Site.objects.count() < count:
        Site.objects.bulk_create(
            [Site(name=name.format(n=n), address=address.format(n=n)) for n in range(first, first + count)],
            ignore_conflicts=True,
        )
    return list(Site.objects.order_by("pk").values_list("pk", flat=True)[:count])


# --- Sessions and daily usage -------------------------------------------------------


def sessions_insert(select: str, params: Sequence | dict, *, ids: bool = False) -> int:
    """Insert into the sessions table the rows of `select`, which gives SESSION_COLUMNS
    (after `id` when `ids`); the number of rows."""
    from django.db import connection

    from accesslogs.models import NetworkSession

    columns = ("id", *SESSION_COLUMNS) if ids else SESSION_COLUMNS
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {NetworkSession._meta.db_table} ({', '.join(columns)}) {select}", params)
        return cursor.rowcount


def daily_usage_from_sessions(*, subscriber_id: int | None = None) -> None:
    """The daily usage of the sessions' customers (of one subscriber's sessions, if
    given), in one INSERT … SELECT … GROUP BY customer, address and local day."""
    from django.conf import settings
    from django.db import connection

    from accesslogs.models import DailyUsage, NetworkSession, Subscriber

    where, params = ("WHERE n.subscriber_id = %s", [subscriber_id]) if subscriber_id is not None else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DailyUsage._meta.db_table} (user_id, mac, day, sessions, seconds, bytes_in, bytes_out) "
            "SELECT s.user_id, n.mac, (n.started_at AT TIME ZONE %s)::date, count(*), "
            "sum(extract(epoch FROM n.ended_at - n.started_at)::bigint), sum(n.bytes_in), sum(n.bytes_out) "
            f"FROM {NetworkSession._meta.db_table} n JOIN {Subscriber._meta.db_table} s ON s.id = n.subscriber_id "
            f"{where} GROUP BY 1, 2, 3",
            [settings.TIME_ZONE, *params],
        )


def keys_take_off(cursor, table: str) -> list[str]:
    """Drop the table's indexes and unique constraints, for a faster load; return the SQL
    that puts them back, from their own definitions."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY conname",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
        [table],
    )
    indexes = cursor.fetchall()
    restore = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints]
    # On a partitioned table the definition says ON ONLY: the parent alone.
    restore += [definition.replace(" ON ONLY ", " ON ", 1) for _name, definition in indexes]
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    for name, _definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return restore


# --- Privacy statement --------------------------------------------------------------


def statement_version_published():
    """A material version, stored as published (as statement_publish leaves it, without
    its notice task: the notice benchmark times the queuing itself)."""
    from django.utils import timezone

    from policies.models import StatementVersion

    now = timezone.now()
    return StatementVersion.objects.create(
        version=f"bench-{uuid.uuid4().hex[:8]}",
        title="Privacy statement",
        title_fr="Déclaration de confidentialité",
        body="## Logs\n\nWe keep each session for 6 months.",
        body_fr="## Journaux\n\nNous conservons chaque session 6 mois.",
        changelog="Network access logs are now kept for 6 months instead of 12.",
        changelog_fr="Les journaux d'accès au réseau sont désormais conservés 6 mois au lieu de 12.",
        material=True,
        effective_at=now + timedelta(days=31),
        published_at=now,
    )
