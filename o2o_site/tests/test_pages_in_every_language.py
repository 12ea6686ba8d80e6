"""Every page a shopper sees, in English, Icelandic and Norwegian: the same URLs answer in each
language, and the Icelandic and Norwegian pages carry no English text from our catalogue."""

import html
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.tests.factories import CategoryFactory, ProductFactory
from o2o_site.tests.po import english_left_in
from orders.tests.factories import place_order
from pickup.curbside import check_in_path
from pickup.services import mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "is", "nb")


@pytest.fixture
def shop():
    store = StoreFactory(name="Norðurbúð Laugavegur", slug="laugavegur")
    knitwear = CategoryFactory(slug="knitwear", name_en="Knitwear", name_is="Prjónavörur", name_nb="Strikk")
    sweater = ProductFactory(
        category=knitwear,
        slug="hekla-sweater",
        name_en="Hekla wool sweater",
        name_is="Hekla lopapeysa",
        name_nb="Hekla lopegenser",
        description_en="Knitted from Icelandic wool.",
        description_is="Prjónuð úr íslenskum lopa.",
        description_nb="Strikket av islandsk ull.",
        price=Decimal("24990"),
    )
    StockLevelFactory(store=store, product=sweater, on_hand=5)
    PickupSettingsFactory(
        store=store,
        curbside_instructions_en="Park in the green bays by the side entrance.",
        curbside_instructions_is="Leggðu í grænu stæðin við hliðarinnganginn.",
        curbside_instructions_nb="Parker på de grønne plassene ved sideinngangen.",
    )
    anna = UserFactory(username="anna")
    placed = place_order(store=store, products_and_quantities=[(sweater, 1)], customer=anna)
    ready = mark_ready_for_pickup(order=place_order(store=store, products_and_quantities=[(sweater, 1)]))
    curbside = mark_ready_for_pickup(order=place_curbside_order(store=store, products_and_quantities=[(sweater, 1)]))
    return {
        "store": store,
        "product": sweater,
        "category": knitwear,
        "shopper": anna,
        "placed": placed,
        "ready": ready,
        "curbside": curbside,
    }


def shopper_pages(shop):
    """(name, URL) of every page a shopper can reach."""
    return [
        ("product list", reverse("catalog:product_list")),
        ("category", reverse("catalog:product_list") + "?category=knitwear"),
        ("search", reverse("catalog:product_list") + "?q=Hekla&available=1"),
        ("product page", shop["product"].get_absolute_url()),
        ("store list", reverse("stores:store_list")),
        ("nearest stores (no postcode)", reverse("stores:store_list") + "?postcode="),
        ("store page", shop["store"].get_absolute_url()),
        ("cart", reverse("checkout:cart")),
        ("checkout", reverse("checkout:checkout")),
        ("order page (placed)", shop["placed"].get_absolute_url()),
        ("order page (ready)", shop["ready"].get_absolute_url()),
        ("order page (curbside)", shop["curbside"].get_absolute_url()),
        ("curbside check-in", check_in_path(shop["curbside"])),
        ("login", reverse("accounts:login")),
        ("signup", reverse("accounts:signup")),
        ("password reset", reverse("accounts:password_reset")),
        ("password reset sent", reverse("accounts:password_reset_done")),
        # Logged in from here on.
        ("order history", reverse("accounts:orders")),
        ("e-mail change", reverse("accounts:email_change")),
    ]


def shopping_client(client, shop, language):
    """A shopper with the language chosen, the store chosen, a sweater in the cart, logged in."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.post(reverse("stores:choose_store"), {"store_id": shop["store"].pk, "next": "/"})
    client.post(reverse("checkout:cart_add"), {"product_id": shop["product"].pk, "quantity": 1, "next": "/"})
    return client


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_shopper_page_answers_at_the_same_url_in_every_language(client, shop, language):
    # given a shopper reading the shop in `language`
    shopping_client(client, shop, language)

    for name, url in shopper_pages(shop):
        # when they open each page (the order history logged in, the others as a guest)
        if name == "order history":
            client.force_login(shop["shopper"])
        response = client.get(url)

        # then the page answers in that language, with the language switcher on it
        assert response.status_code == 200, name
        page = response.content.decode()
        assert f'<html lang="{language}">' in page, name
        assert f'action="{reverse("set_language")}"' in page, name


@pytest.mark.parametrize("language", ["is", "nb"])
def test_icelandic_and_norwegian_pages_have_no_english_left(client, shop, language):
    # given a shopper reading the shop in Icelandic or Norwegian
    shopping_client(client, shop, language)

    untranslated = {}
    for name, url in shopper_pages(shop):
        if name == "order history":
            client.force_login(shop["shopper"])
        # when they open each page
        text = html.unescape(client.get(url).content.decode())
        # then no English sentence from our catalogue is left on it
        if left := english_left_in(text, language):
            untranslated[name] = left
    assert untranslated == {}
    # and the check can fail: the same pages in English are full of those sentences
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert len(english_left_in(html.unescape(client.get(reverse("checkout:checkout")).content.decode()), language)) > 5


def test_the_catalogue_texts_and_prices_follow_the_language(client, shop, settings):
    # given an Icelandic shop
    settings.SHOP_CURRENCY = "ISK"
    url = shop["product"].get_absolute_url()

    # when the product page is read in each language
    pages = {}
    for language in LANGUAGES:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        pages[language] = client.get(url).content.decode()

    # then the name, the category, the buttons and the price are each language's own
    assert 'data-testid="price">ISK\u00a024,990<' in pages["en"]
    assert 'data-testid="price">24.990\u00a0kr.<' in pages["is"]
    assert 'data-testid="price">24\u00a0990\u00a0ISK<' in pages["nb"]
    assert ">Hekla lopapeysa</h1>" in pages["is"] and ">Prjónavörur</a>" in pages["is"]
    assert ">Hekla lopegenser</h1>" in pages["nb"] and ">Strikk</a>" in pages["nb"]
    assert "Setja í körfu" in pages["is"] and "Legg i handlekurven" in pages["nb"]


@pytest.mark.parametrize(
    ("language", "instructions"),
    [
        ("en", "Park in the green bays by the side entrance."),
        ("is", "Leggðu í grænu stæðin við hliðarinnganginn."),
        ("nb", "Parker på de grønne plassene ved sideinngangen."),
    ],
)
def test_the_stores_curbside_instructions_are_shown_in_the_shoppers_language(client, shop, language, instructions):
    # when a curbside shopper opens their check-in page in their language
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(check_in_path(shop["curbside"])).content.decode()

    # then the store's instructions are the ones it wrote for that language
    assert instructions in page


def test_the_product_list_and_its_category_menu_follow_the_language_one_request_after_another(client, shop):
    # given the list seen in English first (so anything cached for it is cached in English)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(reverse("catalog:product_list")).content.decode()
    assert "Hekla wool sweater" in english and "ISK\u00a024,990" in english and ">Knitwear<" in english

    # when shoppers read it in Icelandic and in Norwegian right after
    pages = {}
    for language in ("is", "nb", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        pages[language] = client.get(reverse("catalog:product_list")).content.decode()

    # then each gets its own names, category menu and price format, never another language's
    assert "Hekla lopapeysa" in pages["is"] and "24.990\u00a0kr." in pages["is"] and ">Prjónavörur<" in pages["is"]
    assert "Hekla lopegenser" in pages["nb"] and "24\u00a0990\u00a0ISK" in pages["nb"] and ">Strikk<" in pages["nb"]
    assert "Hekla wool sweater" not in pages["is"] + pages["nb"]
    assert "Hekla wool sweater" in pages["en"] and "Hekla lopapeysa" not in pages["en"]
