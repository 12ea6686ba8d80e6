"""StockLevel is the table every checkout writes (reserve_stock) and reads by store and by product:
each index it carries must earn its upkeep. Every foreign key is found through the leading column
of a composite index, so no index on the key alone is kept beside it."""

import pytest
from django.db import connection

from stores.models import StockLevel

pytestmark = pytest.mark.django_db


def _indexes(table):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: tuple(info["columns"])
        for name, info in constraints.items()
        if info["index"] or info["unique"]
        if not info["primary_key"] and not info.get("check")
    }


def test_no_stock_level_index_is_the_leading_part_of_another():
    # given the indexes on stores_stocklevel as migrated
    indexes = _indexes(StockLevel._meta.db_table)
    # then each foreign key leads a composite index: product (product, store), store the unique (store, product)
    for column in ("product_id", "store_id"):
        assert any(columns[0] == column and len(columns) > 1 for columns in indexes.values()), indexes
    # and none is only the first columns of another (the key's own index, written for nothing)
    redundant = [
        (name, other)
        for name, columns in indexes.items()
        for other, longer in indexes.items()
        if other != name and len(columns) < len(longer) and longer[: len(columns)] == columns
    ]
    assert redundant == []
