"""Without DATABASE_REPLICA_URL the router changes nothing: every read and write is
on the primary, inside a replica block too. (With a replica: portal/tests/test_read_replica.py.)"""

import pytest
from django.db import DEFAULT_DB_ALIAS

from accounts.models import User
from cloudportal import replica as router


@pytest.mark.django_db(transaction=True)
def test_without_a_replica_every_read_is_on_the_primary():
    assert not router.replica_configured()
    assert router.replica_for(user_id=1) is None
    with router.reads_from_replica(user_id=1) as alias:
        assert alias == DEFAULT_DB_ALIAS == router.read_alias()
        assert router.ReplicaRouter().db_for_read(User) == DEFAULT_DB_ALIAS
        assert User.objects.all().db == DEFAULT_DB_ALIAS
    assert router.replica_or_primary(lambda: User.objects.count()) == 0


@pytest.mark.django_db(transaction=True)
def test_a_write_records_nothing_without_a_replica(client, django_assert_num_queries):
    router.customer_wrote(user_id=1)  # no query, no cache entry
    from django.core.cache import cache

    assert cache.get("replica-lsn:1") is None
