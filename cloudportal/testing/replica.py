"""A real read replica for tests about the router: a streaming standby of the test
cluster (cloudportal.testing.standby) behind the `replica` database alias.

- `standby`: the standby itself (`Standby`: `replay_pause()`, `replay_resume()`,
  `caught_up()`, `halt()`, `start()`), started once per session, the first time a
  test asks for it, after pytest-django has created the test database (the copy is
  taken then, so it holds that database). `TEST_STANDBY_PORT` fixes its port
  (default: a free one). Stopped, its slot dropped and its files deleted at the end.
- `replica`: the `replica` alias on the standby's test database, as
  DATABASE_REPLICA_URL configures it in production, for the tests of one module,
  which declare `pytestmark = REPLICA_TESTS` (a transactional database, since the
  standby only sees what is committed, and the `replica` alias allowed). Each test
  starts with the standby running, replaying and caught up, and the replica not
  remembered as down; it yields the `Standby`. After the module the alias is gone
  again, so no other test reads from it.

The alias exists for a module rather than a test because Django checks the aliases
a test may use when its database is set up, before a function's fixtures run.
"""

from __future__ import annotations

import contextlib
import copy
import os

import pytest

#: pytestmark of a module whose tests use `replica`.
REPLICA_TESTS = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture(scope="session")
def standby(django_db_setup, django_db_blocker):
    from django.db import connections

    from cloudportal.testing.standby import standby_start

    primary = connections["default"].settings_dict
    server = standby_start(
        host=primary["HOST"] or "127.0.0.1",
        port=int(primary["PORT"] or 5432),
        user=primary["USER"] or "postgres",
        standby_port=int(os.environ.get("TEST_STANDBY_PORT") or 0) or None,
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def replica_alias(standby):
    """The `replica` alias, for one module (see the module's docstring)."""
    from django.conf import settings
    from django.db import connections

    from cloudportal.replica import REPLICA

    config = copy.deepcopy(connections["default"].settings_dict)
    config.update(HOST=standby.host, PORT=str(standby.port), CONN_MAX_AGE=0)
    config["OPTIONS"] = {**config.get("OPTIONS", {}), "connect_timeout": settings.DATABASE_REPLICA_CONNECT_TIMEOUT}
    config["TEST"] = {**config.get("TEST", {}), "MIRROR": "default"}
    connections.settings[REPLICA] = config
    try:
        yield config
    finally:
        _close()
        del connections.settings[REPLICA]


def _close() -> None:
    from django.db import connections

    from cloudportal.replica import REPLICA

    with contextlib.suppress(Exception):  # a stopped standby's connection is gone anyway
        connections[REPLICA].close()
    with contextlib.suppress(AttributeError):  # never opened in this thread
        del connections[REPLICA]


@pytest.fixture
def replica(replica_alias, standby, transactional_db):
    from django.db import connections

    from cloudportal import replica as router

    saved = copy.deepcopy(replica_alias)
    if not standby.is_running():
        standby.start()
    standby.replay_resume()
    standby.caught_up()
    router.replica_reset()
    try:
        yield standby
    finally:
        _close()
        connections.settings[router.REPLICA].update(saved)  # a test may point it elsewhere
        router.replica_reset()
        if not standby.is_running():
            standby.start()
        standby.replay_resume()
