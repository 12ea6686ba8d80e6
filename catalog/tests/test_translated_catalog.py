"""The catalogue in the shopper's language: names, descriptions and categories per language,
English where a translation is missing, and search in the language the shopper reads."""

import pytest
from django.utils import translation

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/"


@pytest.fixture
def sweater():
    knitwear = CategoryFactory(slug="knitwear", name_en="Knitwear", name_is="Prjónavörur", name_nb="Strikkevarer")
    return ProductFactory(
        category=knitwear,
        name_en="Hekla wool sweater",
        name_is="Hekla lopapeysa",
        name_nb="Hekla ullgenser",
        description_en="Knitted from Icelandic wool.",
        description_is="Prjónuð úr íslenskri ull.",
        description_nb="Strikket av islandsk ull.",
    )


@pytest.mark.parametrize(
    ("language", "name", "category", "description"),
    [
        ("en", "Hekla wool sweater", "Knitwear", "Knitted from Icelandic wool."),
        ("is", "Hekla lopapeysa", "Prjónavörur", "Prjónuð úr íslenskri ull."),
        ("nb", "Hekla ullgenser", "Strikkevarer", "Strikket av islandsk ull."),
    ],
)
def test_the_product_page_reads_in_the_shoppers_language(client, sweater, language, name, category, description):
    # when a shopper reads the product page in their language
    html = client.get(sweater.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # then the name, the category and the description are the ones written for that language
    assert f'data-testid="product-name">{name}</h1>' in html
    assert f">{category}</a>" in html
    assert f"<p>{description}</p>" in html


def test_a_product_not_yet_translated_shows_its_english_text(client):
    # given a product written only in English
    product = ProductFactory(name_en="Rye flatbread", description_en="Thin and crisp.")

    # when a Norwegian shopper opens it
    html = client.get(product.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="nb").content.decode()

    # then they read the English text rather than nothing
    assert 'data-testid="product-name">Rye flatbread</h1>' in html
    assert "<p>Thin and crisp.</p>" in html


def test_search_finds_products_by_their_name_in_the_shoppers_language(client, sweater):
    # given other products
    ProductFactory(name_en="Rye flatbread", name_is="Rúgflatkökur", name_nb="Rugflatbrød")

    # when shoppers search in their own language
    found = {}
    for language, words in (("is", "lopapeysa"), ("nb", "ullgenser"), ("en", "sweater"), ("nb", "islandsk ull")):
        response = client.get(LIST_URL, {"q": words}, HTTP_ACCEPT_LANGUAGE=language)
        found[language, words] = list(response.context["product_ids"])

    # then each finds the sweater and only it
    assert set(map(tuple, found.values())) == {(sweater.pk,)}


def test_search_also_finds_the_english_name_shown_for_an_untranslated_product():
    # given a product with no Icelandic name (its English name is what Icelandic shoppers see)
    product = ProductFactory(name_en="Rye flatbread")

    # when an Icelandic shopper searches for the name they see
    with translation.override("is"):
        found = list(Product.objects.search("flatbread"))

    # then
    assert found == [product]


def test_search_in_one_language_does_not_match_another_languages_words():
    # given a sweater with a Norwegian name
    ProductFactory(name_en="Wool sweater", name_is="Lopapeysa", name_nb="Ullgenser")

    # when an Icelandic shopper types the Norwegian word
    with translation.override("is"):
        found = list(Product.objects.search("ullgenser"))

    # then nothing: Icelandic pages do not show Norwegian names
    assert found == []
