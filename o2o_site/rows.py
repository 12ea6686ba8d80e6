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
    for column, convert in _field_converters(model, name, connection.vendor):
        value = convert(value, column, connection)
    return value


@functools.cache
def _field_converters(model, name: str, vendor: str) -> list:
    """[(column, converter)] of `model`'s field `name` (none for most on PostgreSQL): looked up
    once, not for every value of every row."""
    index = [field.name for field in model._meta.concrete_fields].index(name)
    return [
        (column, convert)
        for found, column, converters in _converters(model, vendor)
        if found == index
        for convert in converters
    ]


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


def insert(objs: list) -> list:
    """Write `objs`, new instances of one model, in one INSERT as bulk_create() writes them (each
    field's pre_save, so auto_now_add is set, and its value prepared for the database), and set
    each one's primary key when the database draws it. Every placing writes an order's lines,
    fulfilment, their lines, its event and its delivery or pickup, and the ORM took ~0.5-1 ms to
    compile each statement. Like bulk_create, it sends no signal and calls no save(). Where the
    database cannot return the keys of a multi-row insert, it is bulk_create."""
    if not objs:
        return objs
    model = type(objs[0])
    if not connection.features.can_return_rows_from_bulk_insert:
        return model.objects.bulk_create(objs)
    fields, drawn = _insert_fields(model)
    quote = connection.ops.quote_name
    values = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        values += [field.get_db_prep_save(field.pre_save(obj, True), connection=connection) for field in fields]
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([row] * len(objs))}"
    )
    with connection.cursor() as cursor:
        if drawn is None:
            cursor.execute(sql, values)
        else:
            cursor.execute(f"{sql} RETURNING {quote(drawn.column)}", values)
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                setattr(obj, drawn.attname, pk)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


@functools.cache
def _insert_fields(model):
    """The concrete fields an INSERT of `model` writes, and its primary key when the database
    draws it (an auto field: left out, returned), else None (given, as a one-to-one key)."""
    pk = model._meta.pk
    drawn = pk if getattr(pk, "db_returning", False) else None
    return [field for field in model._meta.concrete_fields if field is not drawn], drawn
