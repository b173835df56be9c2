"""`column = ANY(array)`: one parameter for many values."""

import pytest
from django.db import connection

from accounts.models import User
from accounts.tests.factories import VerifiedUserFactory
from cloudportal.sql import any_of, one_of

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
