"""Finding products by what a shopper types: ProductQuerySet.search calls `search_products`.

On PostgreSQL a product is found when
- its name and description match the words in the shopper's language, stemmed by that
  language's rules (full-text search: "tents" finds "Dome tent", word order does not matter),
- or every word of the search is in its name, accents and case aside, as part of a word
  ("trefil" in "Ullartrefill", Icelandic compounds) or misspelt ("sweter": trigram similarity),
- or the search is its SKU, or the start of it, or the SKU of one of its variants (a size).
It looks in the shopper's language and in English, the text shown where a translation is
missing. The best come first: words in the name count more than words in the description, and
a name like the search counts more still ("hat" ranks "Wool hat" above a tent with a hat bag).

Every condition is answered by an index: the full-text documents, parsed once when a product is
written, are columns of catalog/migrations/0011; the folded names' trigram indexes are of 0006,
the SKU's of 0010 (a variant's too: its product is then found by its primary key). So finding
costs the same with 500 or 50 000 products, and ranking reads the stored documents of the
products found without parsing any text. The expressions below are
those indexes' expressions, to the letter.

The search page reads its products with SQL of its own (search_sql, catalog.selectors.
SearchListing): the same conditions and rank, in one statement for the page and its count, which
reads, ranks and counts at most SEARCH_CANDIDATES + 1 of the products found (the product whose
SKU it is first, then those named for the words), so a search costs the same however many
products mention a word.

SQLite (`make run`'s embedded default) has no full-text search: `plain_search` looks for every
word, anywhere, in the names and descriptions, in name order: no stemming, no typos, no ranking.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField, TrigramWordSimilarity
from django.db import connections
from django.db.models import (
    BooleanField,
    Expression,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)

# The text search configuration per language (migration 0006): Icelandic has no stemmer, so its
# own is PostgreSQL's `simple` with accents removed.
TEXT_SEARCH_CONFIGS = {"en": "english", "is": "o2o_icelandic", "nb": "norwegian"}
# Words this long are looked for as misspellings (trigrams need three letters to say anything),
PARTIAL_WORD_MIN_LENGTH = 3
# and this long as a part of a longer word ("hat" is in "that", "kerti" in "Bývaxkerti").
PART_OF_WORD_MIN_LENGTH = 4
# A search box is not a document: the first words decide.
MAX_WORDS = 8


def search_words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())[:MAX_WORDS]


class Folded(Func):
    """Lower case without accents (o2o_fold, migration 0006): "Kúlutjald" is "kulutjald"."""

    function = "o2o_fold"
    output_field = TextField()


class Document(Expression):
    """A language's name (weight A) and description (weight B) as one tsvector, parsed when the
    product was written: the column search_document_<language> of migration 0011, kept by its
    trigger and indexed by product_document_<language>."""

    output_field = SearchVectorField()

    def __init__(self, language: str):
        super().__init__()
        self.language = language

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{table}.{connection.ops.quote_name(f'search_document_{self.language}')}", []


class Matches(Func):
    template = "(%(expressions)s)"
    arg_joiner = " @@ "
    output_field = BooleanField()


class Like(Func):
    template = "(%(expressions)s)"
    arg_joiner = " LIKE "
    output_field = BooleanField()


class WordSimilar(Func):
    """The left side has a word like the right side (pg_trgm's %>, word_similarity ≥ 0.6)."""

    template = "(%(expressions)s)"
    arg_joiner = " %%> "
    output_field = BooleanField()


class IsAnyOf(Func):
    """`left = ANY(ARRAY(subquery))`: the subquery is run once, and the ids it gives are looked up
    in the left column's index. `left IN (subquery)` would be checked row by row instead."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection):
        left, subquery = (compiler.compile(expression) for expression in self.source_expressions)
        return f"({left[0]} = ANY(ARRAY{subquery[0]}))", (*left[1], *subquery[1])


def _variant_sku_is(products: QuerySet, text: str) -> QuerySet:
    """The product ids of the variants for sale whose SKU is `text` (the size's SKU shown on the
    product page: NB-KNT-010-XL finds the sweater), by the SKU index of migration 0010."""
    return products.model.objects.active().filter(sku__iexact=text, parent__isnull=False).values("parent_id")


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_has_word(language: str, word: str) -> Q | None:
    """The folded name has `word` in it, or a word like it; None when the word is too short to
    be looked for in names (the full-text search still sees it)."""
    if len(word) < PARTIAL_WORD_MIN_LENGTH:
        return None
    name = Folded(F(f"name_{language}"))
    found = Q(WordSimilar(name, Folded(Value(word))))
    if len(word) >= PART_OF_WORD_MIN_LENGTH:
        found |= Q(Like(name, Folded(Value(f"%{_escape_like(word)}%"))))
    return found


def search_products(products: QuerySet, text: str, *, languages: list[str]) -> QuerySet:
    """`products` narrowed to those `text` finds in `languages`, each with `search_rank`
    (higher is better). On SQLite, plain_search."""
    if connections[products.db].vendor != "postgresql":
        return plain_search(products, text, languages=languages)
    words = search_words(text)
    # Cheap conditions first: PostgreSQL rechecks the trigram indexes' candidates against the
    # whole condition, left to right, and parsing a description into a tsvector costs the most.
    found = Q()
    documents = Q()
    rank = Value(0.0)
    for language in languages:
        config = TEXT_SEARCH_CONFIGS[language]
        query = SearchQuery(text, config=config, search_type="websearch")
        in_name = [condition for word in words if (condition := _name_has_word(language, word)) is not None]
        if in_name:
            found |= Q(*in_name)
        documents |= Q(Matches(Document(language), query))
        # Words in the name count more than words in the description (the document's weights),
        # and a name like the search more still.
        rank = (
            rank
            + SearchRank(Document(language), query)
            + TrigramWordSimilarity(Folded(Value(text)), Folded(F(f"name_{language}")))
        )
    found |= documents
    if not any(character.isspace() for character in text):
        # A SKU has no spaces: a search with some is not one (and the SKU index costs a lookup).
        # A variant's SKU finds its product, the card the listing shows.
        found |= (
            Q(sku__iexact=text)
            | Q(sku__istartswith=text)
            | Q(IsAnyOf(F("pk"), Subquery(_variant_sku_is(products, text))))
        )
    return products.filter(found).annotate(search_rank=rank)


def plain_search(products: QuerySet, text: str, *, languages: list[str]) -> QuerySet:
    """SQLite: every word somewhere in a name or description, or the SKU; no ranking."""
    found = Q()
    for word in search_words(text):
        anywhere = Q()
        for language in languages:
            anywhere |= Q(**{f"name_{language}__icontains": word}) | Q(**{f"description_{language}__icontains": word})
        found &= anywhere
    found |= Q(sku__iexact=text) | Q(sku__istartswith=text) | Q(pk__in=_variant_sku_is(products, text))
    return products.filter(found).annotate(search_rank=Value(0.0, output_field=FloatField()))


# --- the search page's own SQL (catalog.selectors.SearchListing) ---------------------------------

# A search page ranks at most this many of the products a search finds, and counts no further
# (the page says "more than 500"): ranking and counting every product found cost PostgreSQL time
# in proportion to the catalogue (a word in half the descriptions of 10 000 products: 120 ms,
# of 30 000: 290 ms), and 500 are twenty pages. Which come first among them: SearchSQL.tiers.
SEARCH_CANDIDATES = 500


@dataclass(frozen=True)
class SearchSQL:
    """search_products' conditions and rank as SQL on the product `p`, each with its parameters.

    `tiers` find, in turn: the product whose SKU is the search, the product with a variant of
    that SKU, the products with the words in their names, those whose SKU starts with the search,
    those with the words in their documents (names and descriptions, stemmed). Together they
    find what search_products finds (SearchListing keeps the first SEARCH_CANDIDATES + 1). Each
    is a scan of its own: PostgreSQL tests the conditions of one scan twice on every row its
    indexes found when it cannot prove the index's recheck did it (a SKU's prefix is a range in
    its index, a variant's a subquery), and the names' test folds them (unaccent), the dearest.
    `rank` is search_products' search_rank, to the letter."""

    tiers: list[tuple[str, list]]
    rank: tuple[str, list]


def search_sql(text: str, *, languages: list[str]) -> SearchSQL:
    words = search_words(text)
    in_names, in_names_params, described, described_params, rank, rank_params = [], [], [], [], [], []
    for language in languages:
        config = TEXT_SEARCH_CONFIGS[language]
        query = "websearch_to_tsquery(%s::regconfig, %s)"
        document = f"p.search_document_{language}"
        name = f"o2o_fold(p.name_{language})"
        in_name, in_name_params = [], []
        for word in words:
            if len(word) < PARTIAL_WORD_MIN_LENGTH:
                continue
            if len(word) >= PART_OF_WORD_MIN_LENGTH:
                in_name.append(f"({name} %%> o2o_fold(%s) OR {name} LIKE o2o_fold(%s))")
                in_name_params += [word, f"%{_escape_like(word)}%"]
            else:
                in_name.append(f"{name} %%> o2o_fold(%s)")
                in_name_params.append(word)
        if in_name:
            in_names.append(f"({' AND '.join(in_name)})")
            in_names_params += in_name_params
        described.append(f"{document} @@ {query}")
        described_params += [config, text]
        rank.append(f"ts_rank({document}, {query}) + word_similarity(o2o_fold(%s), o2o_fold(p.name_{language}))")
        rank_params += [config, text, text]
    names = [(" OR ".join(in_names), in_names_params)] if in_names else []
    if any(character.isspace() for character in text):  # a SKU has no spaces
        tiers = names
    else:
        tiers = [
            # The SKU itself first, and a variant's (its product, the card the listing shows): a
            # few products at most, never crowded out by names like it.
            ("UPPER(p.sku::text) = UPPER(%s)", [text]),
            (
                "p.id IN (SELECT v.parent_id FROM catalog_product v "
                "WHERE v.is_active AND v.parent_id IS NOT NULL AND UPPER(v.sku::text) = UPPER(%s))",
                [text],
            ),
            *names,
            ("UPPER(p.sku::text) LIKE UPPER(%s)", [f"{_escape_like(text)}%"]),
        ]
    tiers.append((" OR ".join(described), described_params))
    return SearchSQL(
        tiers=tiers,
        # search_products' sum, in its order and its type: ((0.0 + rank) + similarity) + …
        rank=("CAST(0 AS double precision) + " + " + ".join(rank), rank_params),
    )
