"""DATABASE_POOLER: the production settings behind PgBouncer in transaction mode."""

from __future__ import annotations

import json

from accounts.tests.test_security import manage, production_env

SHOW = (
    "from django.conf import settings; import json; d = settings.DATABASES['default']; "
    "print(json.dumps([d.get('DISABLE_SERVER_SIDE_CURSORS', False), d.get('OPTIONS', {})]))"
)


def test_behind_pgbouncer_there_are_no_server_side_cursors_nor_prepared_statements():
    direct = manage("shell", "-c", SHOW, env=production_env())
    pooled = manage("shell", "-c", SHOW, env=production_env(DATABASE_POOLER="pgbouncer"))
    assert direct.returncode == 0 and pooled.returncode == 0, direct.stderr + pooled.stderr
    assert json.loads(direct.stdout.splitlines()[-1]) == [False, {}]
    assert json.loads(pooled.stdout.splitlines()[-1]) == [True, {"prepare_threshold": None}]


def test_an_unknown_pooler_stops_the_start():
    result = manage("check", env=production_env(DATABASE_POOLER="pgpool"))
    assert result.returncode != 0
    assert "DATABASE_POOLER" in result.stderr
