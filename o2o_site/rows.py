"""Model instances from rows read with SQL written by hand, as the ORM would make them.

A few reads of the checkout run for every shopper (and a flash sale's every refusal), and the ORM
took longer to compile their queries than PostgreSQL took to answer them; those reads write their
SQL themselves (orders.selectors.stores_to_offer, for_sale_with_units_at, catalog.selectors.
products_for_sale) and make their instances here, each value converted as the ORM converts it.
"""

import functools

from django.db import connection


def from_row(model, values):
    """An instance of `model` from the values of its concrete fields (in their order), converted
    as the ORM converts them (SQLite's decimals, booleans and datetimes; PostgreSQL's need none)."""
    converted = list(values)
    for index, column, converters in _converters(model, connection.vendor):
        for convert in converters:
            converted[index] = convert(converted[index], column, connection)
    return model.from_db(connection.alias, _attnames(model), converted)


def converted(model, name: str, value):
    """`value` of `model`'s field `name` read by hand (alone, not in a whole row), converted as the
    ORM converts it (SQLite's decimals, booleans and datetimes; PostgreSQL's need none)."""
    index = _field_index(model, name)
    for found, column, converters in _converters(model, connection.vendor):
        if found == index:
            for convert in converters:
                value = convert(value, column, connection)
    return value


@functools.cache
def _field_index(model, name: str) -> int:
    return [field.name for field in model._meta.concrete_fields].index(name)


def width(model) -> int:
    """How many values `from_row` takes for `model`: a row joining models is cut at these."""
    return len(model._meta.concrete_fields)


def from_joined_row(model, values):
    """A model LEFT OUTER JOINed in a hand-written read (its columns as `columns` lists them), as
    select_related leaves it: None when the join found no row (its primary key is NULL)."""
    if values[_pk_index(model)] is None:
        return None
    return from_row(model, values)


def columns(model, alias: str) -> str:
    """The concrete fields' columns of `model` as `alias`."column", …, in their order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


@functools.cache
def _pk_index(model) -> int:
    return model._meta.concrete_fields.index(model._meta.pk)


@functools.cache
def _attnames(model):
    return [field.attname for field in model._meta.concrete_fields]


@functools.cache
def _converters(model, vendor):
    """(index, column, converters) of the concrete fields of `model` whose values need converting."""
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]
        if converters:
            found.append((index, column, converters))
    return found
