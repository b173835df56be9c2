"""A backup taken before an erasure, restored, leaves the customer erased once the
ledger is re-applied (SPEC §7): `scripts/backup.sh` and `scripts/restore.sh` run for
real against PostgreSQL, the restore into a scratch database of this test's own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection

from accesslogs.models import NetworkSession
from accounts.models import User
from cloudportal.testing.worker import _database_url
from erasure.services import account_delete_request
from erasure.tests.scan import scan
from erasure.tests.test_erasure import OTHER_SECRETS, customer_with_everything, needles_for

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(django_settings.BASE_DIR)
LEDGER_KEY = "backup-restore-test-ledger-key"


def _run(script: str, *args: str, env: dict[str, str], ok: bool = True) -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / script), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (done.returncode == 0) is ok, done.stderr
    return done.stdout


def _admin(sql: str) -> None:
    with psycopg.connect(_database_url({**connection.settings_dict, "NAME": "postgres"}), autocommit=True) as admin:
        admin.execute(sql)


@pytest.fixture
def scratch_url():
    """An empty database next to the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    yield _database_url({**connection.settings_dict, "NAME": name})
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _state(url: str, needles: list[str], emails: tuple[str, str]) -> tuple[list, list[bool], int]:
    """In the restored database: the scan's hits, whether each email has an account,
    and the number of detached sessions."""
    with psycopg.connect(url) as restored, restored.cursor() as cursor:
        hits = scan(needles, cursor)
        present = []
        for email in emails:
            cursor.execute(f"SELECT count(*) FROM {User._meta.db_table} WHERE email = %s", [email])  # noqa: S608
            present.append(cursor.fetchone()[0] == 1)
        cursor.execute(
            f"SELECT count(*) FROM {NetworkSession._meta.db_table} s JOIN accesslogs_subscriber sub "  # noqa: S608
            "ON sub.id = s.subscriber_id WHERE sub.user_id IS NULL AND sub.email = ''"
        )
        detached = cursor.fetchone()[0]
    return hits, present, detached


def test_a_backup_from_before_an_erasure_restored_with_the_ledger_leaves_the_customer_erased(
    settings, tmp_path, scratch_url
):
    settings.ERASURE_GRACE_HOURS = 0
    settings.ERASURE_LEDGER_KEY = LEDGER_KEY
    settings.ERASURE_LEDGER_PATH = tmp_path / "ledger.jsonl"
    user = customer_with_everything()
    other = customer_with_everything("someone.else@example.net", OTHER_SECRETS)
    needles, emails = needles_for(user), (user.email, other.email)
    test_db = _database_url(connection.settings_dict)
    dump = tmp_path / "before.dump"

    assert _run("backup.sh", str(dump), env={"DATABASE_URL": test_db}).strip() == str(dump)
    account_delete_request(user=user)  # grace 0: erased when this commits (tasks run eagerly here)
    assert not User.objects.filter(pk=user.pk).exists()
    assert settings.ERASURE_LEDGER_PATH.read_text().count("\n") == 1

    restore_env = {
        "DATABASE_URL": scratch_url,
        "DJANGO_SETTINGS_MODULE": "cloudportal.settings.test",
        "ERASURE_LEDGER_KEY": LEDGER_KEY,
    }
    # Without the ledger, the backup brings the customer back: the scan finds them.
    empty = tmp_path / "empty-ledger.jsonl"
    empty.touch()
    out = _run("restore.sh", str(dump), env={**restore_env, "ERASURE_LEDGER_PATH": str(empty)})
    assert "erased again: 0" in out
    hits, present, _detached = _state(scratch_url, needles, emails)
    assert {needle for _table, _column, needle in hits} == set(needles) - {"X4RTBPFW4", "FR7630006000011234567890189"}
    assert present == [True, True]

    # The documented restore, over that database, with the ledger the erasure wrote.
    out = _run("restore.sh", str(dump), env={**restore_env, "ERASURE_LEDGER_PATH": str(settings.ERASURE_LEDGER_PATH)})
    assert "erased again: 1" in out and "left alone): 0" in out
    hits, present, detached = _state(scratch_url, needles, emails)
    assert hits == []
    assert present == [False, True]  # the other customer is untouched
    assert detached == 1  # the customer's session is kept, detached

    # A damaged backup is refused and the database stays as it was.
    broken = tmp_path / "broken.dump"
    broken.write_bytes(dump.read_bytes()[: dump.stat().st_size * 2 // 3])
    _run("restore.sh", str(broken), env={**restore_env, "ERASURE_LEDGER_PATH": str(empty)}, ok=False)
    assert _state(scratch_url, needles, emails) == ([], [False, True], 1)

    # Applying the ledger again changes nothing.
    apply = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "erasure_ledger_apply"],
        cwd=ROOT,
        env={**os.environ, **restore_env, "ERASURE_LEDGER_PATH": str(settings.ERASURE_LEDGER_PATH)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "erased again: 0; already absent: 1" in apply.stdout
    assert _state(scratch_url, needles, emails)[:2] == ([], [False, True])
