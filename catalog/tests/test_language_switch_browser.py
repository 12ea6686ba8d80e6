"""A shopper switches the language on a product page in a real browser: the page, the product's
own text and the price all change to the chosen language's."""

from decimal import Decimal

import pytest

from catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NBSP = "\u00a0"


@pytest.fixture
def sweater(settings):
    settings.SHOP_CURRENCY = "ISK"
    knitwear = CategoryFactory(slug="knitwear", name_en="Knitwear", name_is="Prjónavörur", name_nb="Strikk")
    return ProductFactory(
        category=knitwear,
        slug="hekla-lopapeysa",
        name_en="Hekla wool sweater, charcoal",
        name_is="Hekla lopapeysa, kolgrá",
        name_nb="Hekla lopegenser, koksgrå",
        description_en="Knitted from Icelandic wool.",
        description_is="Prjónuð úr íslenskum lopa.",
        description_nb="Strikket av islandsk lopeull.",
        price=Decimal("12990"),
    )


def switch_language(page, language):
    page.select_option("#language-select", language)
    with page.expect_navigation():
        page.locator("form.language button[type=submit]").click()


def test_the_shopper_switches_the_product_page_to_icelandic_and_norwegian(browser, live_server, sweater):
    # given a shopper whose browser asks for English, on the sweater's page
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(live_server.url + sweater.get_absolute_url())
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_test_id("product-name").inner_text() == "Hekla wool sweater, charcoal"
    assert page.get_by_test_id("price").inner_text() == f"ISK{NBSP}12,990"
    assert page.get_by_test_id("add-to-cart").inner_text() == "Add to cart"

    # when they choose Íslenska in the switcher
    switch_language(page, "is")

    # then they are on the same product, now in Icelandic, priced in krónur the Icelandic way
    assert page.url == live_server.url + sweater.get_absolute_url()
    assert page.locator("html").get_attribute("lang") == "is"
    assert page.get_by_test_id("product-name").inner_text() == "Hekla lopapeysa, kolgrá"
    assert page.get_by_test_id("price").inner_text() == f"12.990{NBSP}kr."
    assert page.get_by_test_id("add-to-cart").inner_text() == "Setja í körfu"
    assert "Prjónuð úr íslenskum lopa." in page.locator(".product__description").inner_text()
    assert page.locator("#language-select").input_value() == "is"

    # when they choose norsk (bokmål)
    switch_language(page, "nb")

    # then the page is Norwegian, with Norwegian digit grouping
    assert page.get_by_test_id("product-name").inner_text() == "Hekla lopegenser, koksgrå"
    assert page.get_by_test_id("price").inner_text() == f"12{NBSP}990{NBSP}ISK"
    assert page.get_by_test_id("add-to-cart").inner_text() == "Legg i handlekurven"

    # and the choice stays with them on the next page they open
    page.goto(live_server.url + "/stores/")
    assert page.locator("html").get_attribute("lang") == "nb"
    assert page.locator("h1").inner_text() == "Butikkene våre"


def test_a_norwegian_shopper_sees_kroner_and_ore_and_switches_to_english(browser, live_server, settings):
    # given the Norwegian shop (NOK) and a shopper whose browser asks for Norwegian Bokmål
    settings.SHOP_CURRENCY = "NOK"
    jam = ProductFactory(
        slug="tyttebaersyltetoy",
        name_en="Lingonberry jam",
        name_is="Týtuberjasulta",
        name_nb="Tyttebærsyltetøy",
        price=Decimal("1299"),
    )
    page = browser.new_context(locale="nb-NO").new_page()
    page.goto(live_server.url + jam.get_absolute_url())

    # then the first visit is in Norwegian, in kroner and øre with a space between the thousands
    assert page.locator("html").get_attribute("lang") == "nb"
    assert page.get_by_test_id("product-name").inner_text() == "Tyttebærsyltetøy"
    assert page.get_by_test_id("price").inner_text() == f"1{NBSP}299,00{NBSP}kr"

    # when they switch to English, and then to Icelandic
    switch_language(page, "en")
    english = (page.get_by_test_id("product-name").inner_text(), page.get_by_test_id("price").inner_text())
    switch_language(page, "is")
    icelandic = (page.get_by_test_id("product-name").inner_text(), page.get_by_test_id("price").inner_text())

    # then each language writes the same price its own way, with the currency's code
    assert english == ("Lingonberry jam", f"NOK{NBSP}1,299.00")
    assert icelandic == ("Týtuberjasulta", f"1.299,00{NBSP}NOK")
    assert page.get_by_test_id("add-to-cart").inner_text() == "Setja í körfu"
