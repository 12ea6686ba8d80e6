"""Full-text search with ranking, and typo- and accent-tolerant name matching (catalog/search.py).

On PostgreSQL only: SQLite, the embedded default, has none of this and searches plainly
(catalog/search.py, `plain_search`).

- `unaccent` and an immutable wrapper `o2o_fold(text)` (lower case, accents off: "Kúlutjald" is
  "kulutjald", "Ullarteppi" stays). unaccent() itself is only STABLE, so it cannot be indexed.
- A text search configuration `o2o_icelandic`: no Icelandic stemmer exists, so it is `simple`
  (lower case, no stop words) with accents removed; English and Norwegian use PostgreSQL's
  `english` and `norwegian` stemmers ("tents" is "tent", "telter" is "telt").
- Per language, a GIN index on the document (name and description) the search matches with
  `@@`, and a trigram GIN index on the folded name for misspellings ("sweter") and the parts of
  compound words ("trefil" in "Ullartrefill"). The expressions are exactly those of
  catalog/search.py: PostgreSQL uses an expression index only for the same expression.
- The name and description trigram indexes of 0003 answered the old `icontains` search, which
  is gone; the SKU's stays (SKU equality and prefix).
"""

from django.db import migrations

LANGUAGES = {"en": "english", "is": "o2o_icelandic", "nb": "norwegian"}
OLD_TRIGRAM_COLUMNS = [f"{field}_{language}" for field in ("name", "description") for language in LANGUAGES]


def document_sql(language):
    # catalog.search.Document
    config = LANGUAGES[language]
    return (
        f"to_tsvector('{config}'::regconfig, COALESCE(\"name_{language}\", '') || ' ' || "
        f"COALESCE(\"description_{language}\", ''))"
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Both are trusted extensions (PostgreSQL 13+): the database's owner may create them.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'")
        (schema,) = cursor.fetchone()
    # Named with its schema: an index's function must not depend on the session's search_path.
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION o2o_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
        f"AS $$ SELECT lower({schema}.unaccent('{schema}.unaccent'::regdictionary, $1)) $$"
    )
    schema_editor.execute(
        "DO $$ BEGIN "
        "IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'o2o_icelandic') THEN "
        "CREATE TEXT SEARCH CONFIGURATION o2o_icelandic (COPY = pg_catalog.simple); "
        "ALTER TEXT SEARCH CONFIGURATION o2o_icelandic "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple; "
        "END IF; END $$"
    )
    for language in LANGUAGES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "product_search_{language}" ON "catalog_product" '
            f"USING gin (({document_sql(language)}))"
        )
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "product_folded_name_{language}_trgm" ON "catalog_product" '
            f'USING gin ((o2o_fold("name_{language}")) gin_trgm_ops)'
        )
    for column in OLD_TRIGRAM_COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "product_{column}_trgm"')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in OLD_TRIGRAM_COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "product_{column}_trgm" ON "catalog_product" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )
    for language in LANGUAGES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "product_search_{language}"')
        schema_editor.execute(f'DROP INDEX IF EXISTS "product_folded_name_{language}_trgm"')
    schema_editor.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS o2o_icelandic")
    schema_editor.execute("DROP FUNCTION IF EXISTS o2o_fold(text)")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_product_vat_class")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
