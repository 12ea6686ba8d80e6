"""A search is counted and shown in the language it was made in: an English search for an
Icelandic word never decides what Icelandic shoppers find (cached counts carry the language)."""

import pytest

from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/"

# (the Icelandic word, the product's English, Icelandic and Norwegian names): the failing inputs.
WORDS = [
    ("trefill", "Wool scarf", "Ullartrefill", "Ullskjerf"),
    ("kerti", "Beeswax candle", "Bývaxkerti", "Bivokslys"),
    ("kaffi", "Roasted coffee", "Brennt kaffi", "Brent kaffe"),
    ("tjald", "Dome tent", "Kúlutjald", "Kuppeltelt"),
    ("teppi", "Wool blanket", "Ullarteppi", "Ullteppe"),
]


@pytest.mark.parametrize(("word", "name_en", "name_is", "name_nb"), WORDS)
def test_an_english_search_does_not_decide_what_icelandic_shoppers_find(client, word, name_en, name_is, name_nb):
    # given a product whose Icelandic name holds the word, and its English name does not
    product = ProductFactory(name_en=name_en, name_is=name_is, name_nb=name_nb, description="")

    # when an English shopper searches for the Icelandic word first, then an Icelandic one
    english = client.get(LIST_URL, {"q": word}, HTTP_ACCEPT_LANGUAGE="en")
    icelandic = client.get(LIST_URL, {"q": word}, HTTP_ACCEPT_LANGUAGE="is")

    # then the English search finds nothing, and the Icelandic one finds the product
    assert english.context["page"].paginator.count == 0
    html = icelandic.content.decode()
    assert f'data-sku="{product.sku}"' in html, html
    assert 'data-testid="no-products"' not in html


@pytest.mark.parametrize("first", ["en", "nb"])
def test_the_icelandic_count_of_a_search_is_the_same_whoever_searched_first(client, first):
    # given two products with "teppi" in their Icelandic names only
    for name_en, name_is in (("Wool blanket", "Ullarteppi"), ("Picnic rug", "Lautarferðarteppi")):
        ProductFactory(name_en=name_en, name_is=name_is, name_nb="", description="")
    client.get(LIST_URL, {"q": "teppi"}, HTTP_ACCEPT_LANGUAGE=first)

    # when an Icelandic shopper searches
    html = client.get(LIST_URL, {"q": "teppi"}, HTTP_ACCEPT_LANGUAGE="is").content.decode()

    # then the count says what the page shows
    assert "2 vörur passa við „teppi“" in html
    assert html.count('data-testid="product-card"') == 2
