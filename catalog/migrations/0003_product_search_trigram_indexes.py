"""Trigram indexes for the product search (ProductQuerySet.search), on PostgreSQL.

The search looks for the words anywhere in the name and description (in the shopper's language
and English) and in the SKU: `UPPER(column) LIKE UPPER('%words%')`, which no B-tree index can
answer, so every search read the whole catalog (about 50 ms for 10 000 products). pg_trgm's GIN
indexes answer LIKE '%…%' (and SKU equality and prefix) on exactly these expressions. SQLite, the
embedded default, has no such indexes and does not need them for a demo catalog.
"""

from django.db import migrations

COLUMNS = ["sku"] + [f"{field}_{language}" for field in ("name", "description") for language in ("en", "is", "nb")]


def index_name(column):
    return f"product_{column}_trgm"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{index_name(column)}" ON "catalog_product" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{index_name(column)}"')


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_names_and_descriptions_per_language")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
