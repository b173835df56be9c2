"""A real read replica for tests about the router: a streaming standby of the test
cluster (cloudportal.testing.standby) behind the `replica` database alias.

- `standby`: the standby itself (`Standby`: `replay_pause()`, `replay_resume()`,
  `caught_up()`, `halt()`, `start()`), started once per session, the first time a
  test asks for it, after pytest-django has created the test database (the copy is
  taken then, so it holds that database). `TEST_STANDBY_PORT` fixes its port
  (default: a free one). Stopped, its slot dropped and its files deleted at the end.
- `replica`: the `replica` alias configured for one test, on the test database of
  the standby, as DATABASE_REPLICA_URL configures it in production; the test uses
  a transactional database (the standby only sees what is committed) and starts
  with the standby caught up and replaying. Yields the `Standby`. Afterwards the
  alias is gone again, so no other test reads from it.
"""

from __future__ import annotations

import contextlib
import copy
import os

import pytest


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


@pytest.fixture
def replica(standby, transactional_db, settings):
    from django.db import connections

    from cloudportal import replica as router

    if not standby.is_running():
        standby.start()
    standby.replay_resume()
    standby.caught_up()
    config = copy.deepcopy(connections["default"].settings_dict)
    config.update(HOST=standby.host, PORT=str(standby.port), CONN_MAX_AGE=0)
    config["OPTIONS"] = {**config.get("OPTIONS", {}), "connect_timeout": settings.DATABASE_REPLICA_CONNECT_TIMEOUT}
    config["TEST"] = {**config.get("TEST", {}), "MIRROR": "default"}
    connections.settings[router.REPLICA] = config
    router.replica_reset()
    try:
        yield standby
    finally:
        with contextlib.suppress(Exception):  # a stopped standby's connection is gone anyway
            connections[router.REPLICA].close()
        with contextlib.suppress(AttributeError):  # never opened
            del connections[router.REPLICA]
        del connections.settings[router.REPLICA]
        router.replica_reset()
        if not standby.is_running():
            standby.start()
        standby.replay_resume()
