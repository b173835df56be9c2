"""`column = ANY(array)`: one parameter for many values; keyset pages."""

import pytest
from django.db import connection

from accounts.models import User
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.sql import any_of, keyset_pages, one_of

pytestmark = pytest.mark.django_db


def test_one_of_finds_the_rows_whose_column_is_one_of_many_values(django_assert_num_queries):
    users = [VerifiedUserFactory() for _ in range(3)]
    wanted = {users[0].pk, users[2].pk, *range(10**9, 10**9 + 20_000)}  # many values, few rows
    with django_assert_num_queries(1) as captured:
        found = set(User.objects.filter(one_of(f"{User._meta.db_table}.id", wanted)).values_list("pk", flat=True))
    assert found == {users[0].pk, users[2].pk}
    if connection.vendor == "postgresql":
        assert "= ANY(" in captured.captured_queries[0]["sql"]


def test_one_of_nothing_is_nothing():
    VerifiedUserFactory()
    assert not User.objects.filter(one_of(f"{User._meta.db_table}.id", set())).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="an array parameter is PostgreSQL's")
@pytest.mark.parametrize(
    ("array_type", "cells", "values", "matched"),
    [
        ("inet[]", "'192.0.2.1'::inet, '2001:db8::7'::inet, '192.0.2.2'::inet", ["2001:db8::7", "192.0.2.1"], 2),
        ("text[]", "'02:00:00:00:aa:01', 'x'", ["02:00:00:00:aa:01"], 1),
        ("bigint[]", "1::bigint, 2::bigint, 3::bigint", [3, 2**40], 1),
        ("bigint[]", "1::bigint", [], 0),
    ],
)
def test_any_of_casts_the_array_where_postgresql_cannot_tell_its_type(array_type, cells, values, matched):
    condition, params = any_of("t.cell", values, array_type=array_type)
    assert condition == f"t.cell = ANY(%s::{array_type})" and params == [values]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM unnest(ARRAY[{cells}]) AS t(cell) WHERE {condition}", params)
        assert cursor.fetchone()[0] == matched


@pytest.mark.parametrize("ordering", [("date_joined", "id"), ("-date_joined", "-id")])
def test_keyset_pages_give_every_row_once_in_order_across_ties(ordering, django_assert_num_queries):
    """Rows sharing the first key cross the pages' edges; each page is one statement."""
    from datetime import UTC, datetime

    users = [VerifiedUserFactory() for _ in range(7)]
    User.objects.filter(pk__in=[u.pk for u in users[:5]]).update(date_joined=datetime(2026, 1, 1, tzinfo=UTC))
    everyone = User.objects.order_by(*ordering)
    expected = list(everyone.values_list("pk", flat=True))
    with django_assert_num_queries(3):  # 3 + 3 + 1 rows
        assert [u.pk for u in keyset_pages(everyone, size=3)] == expected


@pytest.mark.parametrize("ordering", [(), ("date_joined",), ("date_joined", "-id"), ("profile__phone", "id")])
def test_keyset_pages_need_an_ordering_that_ends_with_the_id(ordering):
    with pytest.raises(ValueError, match="keyset_pages"):
        next(keyset_pages(User.objects.order_by(*ordering), size=3))
