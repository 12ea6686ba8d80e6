"""Each product's search documents stored, per language, on PostgreSQL (catalog/search.py).

0006 indexed the documents as expressions, `to_tsvector(config, name || ' ' || description)`,
so whatever the index did not answer parsed the text again: ranking parsed every product found
(24 of a search's 33 ms with 10 000 products), and with a thousand products PostgreSQL chose to
read the table instead of the indexes and parsed every description (48 ms). A column holds each
document parsed once, the name weighted above the description, kept by a trigger on every
insert and on every change to a name or description; the GIN indexes move to the columns.

A trigger, not a generated column: a generated column would stop a later migration from
changing a name column's type or length. Django's model does not know the columns (SQLite, the
embedded default, has neither them nor full-text search); only catalog/search.py reads them.
"""

from django.db import migrations

CONFIGS = {"en": "english", "is": "o2o_icelandic", "nb": "norwegian"}


def _document(language, config):
    return (
        f"setweight(to_tsvector('{config}'::regconfig, COALESCE(NEW.name_{language}, '')), 'A') || "
        f"setweight(to_tsvector('{config}'::regconfig, COALESCE(NEW.description_{language}, '')), 'B')"
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for language in CONFIGS:
        schema_editor.execute(
            f'ALTER TABLE "catalog_product" ADD COLUMN IF NOT EXISTS "search_document_{language}" tsvector'
        )
    assignments = "\n".join(
        f"  NEW.search_document_{language} := {_document(language, config)};" for language, config in CONFIGS.items()
    )
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION o2o_product_search_documents() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{assignments}\n  RETURN NEW;\nEND\n$$"
    )
    columns = ", ".join(f"{field}_{language}" for field in ("name", "description") for language in CONFIGS)
    schema_editor.execute('DROP TRIGGER IF EXISTS "product_search_documents" ON "catalog_product"')
    schema_editor.execute(
        f'CREATE TRIGGER "product_search_documents" BEFORE INSERT OR UPDATE OF {columns} ON "catalog_product" '
        "FOR EACH ROW EXECUTE FUNCTION o2o_product_search_documents()"
    )
    schema_editor.execute('UPDATE "catalog_product" SET "name_en" = "name_en"')  # the rows there already
    for language in CONFIGS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "product_document_{language}" ON "catalog_product" '
            f'USING gin ("search_document_{language}")'
        )
        schema_editor.execute(f'DROP INDEX IF EXISTS "product_search_{language}"')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for language, config in CONFIGS.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "product_search_{language}" ON "catalog_product" USING gin '
            f"(to_tsvector('{config}'::regconfig, COALESCE(\"name_{language}\", '') || ' ' || "
            f"COALESCE(\"description_{language}\", '')))"
        )
    schema_editor.execute('DROP TRIGGER IF EXISTS "product_search_documents" ON "catalog_product"')
    schema_editor.execute("DROP FUNCTION IF EXISTS o2o_product_search_documents()")
    for language in CONFIGS:
        schema_editor.execute(f'ALTER TABLE "catalog_product" DROP COLUMN IF EXISTS "search_document_{language}"')


class Migration(migrations.Migration):
    dependencies = [("catalog", "0010_product_sku_prefix_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
