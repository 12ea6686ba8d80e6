"""The demo shop in the shop's languages and money: an Icelandic demo priced in whole krónur,
a Norwegian one in kroner with øre, and every product and category named in en, is and nb."""

import io
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Category, Product
from catalog.tests.factories import CategoryFactory, ProductFactory
from demo import data
from demo.services import DemoCurrencyMismatch, seed_demo
from stores.models import Store

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_every_demo_product_has_its_own_name_in_each_language_and_icelandic_colours_agree():
    # when the catalogue is generated
    products = data.generate_products()

    # then each language names every product, differently from English and uniquely
    for language in ("is", "nb"):
        names = [product.names[language] for product in products]
        assert len(set(names)) == len(products), language
        assert all(product.names[language] != product.name for product in products)
        assert all(product.descriptions[language] for product in products)
    # and Icelandic colours agree with the noun: a sweater (f) is "kolgrá", socks (m pl) "kolgráir"
    by_sku = {product.sku: product for product in products}
    sweaters = [p for p in by_sku.values() if "lopapeysa wool sweater, charcoal" in p.name]
    socks = [p for p in by_sku.values() if "chunky wool socks, charcoal" in p.name]
    assert all(p.names["is"].endswith("lopapeysa, kolgrá") for p in sweaters)
    assert all(p.names["is"].endswith("ullarsokkar, kolgráir") for p in socks)
    assert all(p.descriptions["is"].endswith("Litur: kolgrár.") for p in sweaters + socks)
    assert sweaters or socks


def test_norwegian_demo_prices_are_shelf_prices_in_kroner_and_ore():
    # given Icelandic prices / then Norwegian prices look like a Norwegian shop's
    assert data.norwegian_price(Decimal("1290")) == Decimal("99.90")
    assert data.norwegian_price(Decimal("2990")) == Decimal("229.90")
    assert data.norwegian_price(Decimal("24990")) == Decimal("1949.00")
    assert data.norwegian_price(Decimal("89990")) == Decimal("7049.00")
    assert all(data.norwegian_price(p.price) > 0 for p in data.generate_products())


def test_the_icelandic_demo_is_in_kronur_and_fills_in_translations_missing_from_an_older_seed(client, settings):
    # given an Icelandic shop whose database was seeded before the catalogue had translations
    settings.SHOP_CURRENCY = "ISK"
    settings.DEBUG = True
    first = data.generate_products()[0]
    knitwear = CategoryFactory(slug="knitwear", name_en="Knitwear")
    ProductFactory(sku=first.sku, slug=first.slug, name_en=first.name, category=knitwear, price=first.price)
    assert Product.objects.get(sku=first.sku).name_is is None

    # when the demo is seeded for Iceland
    out = io.StringIO()
    call_command("seed_demo", "--country", "IS", stdout=out)

    # then every product and category has its Icelandic and Norwegian name, in whole krónur
    assert "prices in ISK" in out.getvalue()
    assert not Product.objects.filter(name_is__isnull=True).exists()
    assert not Product.objects.filter(name_nb__isnull=True).exists()
    assert not Product.objects.filter(description_is__isnull=True).exists()
    assert not Category.objects.filter(name_is__isnull=True).exists()
    assert Category.objects.get(slug="knitwear").name_is == "Prjónavörur"
    assert all(price == price.to_integral_value() for price in Product.objects.values_list("price", flat=True))
    assert Product.objects.get(sku=first.sku).name_is == first.names["is"]
    # and stores in Reykjavík keep their proper names (Oslo's are the Norwegian demo's)
    assert Store.objects.filter(city="Reykjavík").exists() and not Store.objects.filter(city="Oslo").exists()

    # and the product page reads in Icelandic with the price in krónur
    html = client.get(f"/products/{first.slug}/", HTTP_ACCEPT_LANGUAGE="is").content.decode()
    assert f'data-testid="product-name">{first.names["is"]}</h1>' in html
    price = re.search(r'data-testid="price">([^<]+)<', html).group(1)
    assert re.fullmatch(rf"\d{{1,3}}(\.\d{{3}})*{NBSP}kr\.", price), price


def test_the_norwegian_demo_is_priced_in_kroner_with_ore(client, settings):
    # given a Norwegian shop
    settings.SHOP_CURRENCY = "NOK"
    settings.DEBUG = True

    # when the demo is seeded with the shop's default country
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    # then prices are the Norwegian ones, some of them with øre
    assert "(NO, prices in NOK)" in out.getvalue()
    specs = {spec.sku: spec for spec in data.generate_products()}
    prices = dict(Product.objects.filter(parent__isnull=True).values_list("sku", "price"))
    assert prices == {sku: spec.price_in("NOK") for sku, spec in specs.items()}
    # the sizes at their product's price
    sizes = Product.objects.filter(parent__isnull=False).values_list("parent__sku", "price")
    assert {price == prices[parent_sku] for parent_sku, price in sizes} == {True}
    assert any(price % 1 for price in prices.values())

    # and a Norwegian shopper reads a product in Bokmål with the price in kroner and øre
    jam = next(spec for spec in specs.values() if spec.name == "Cloudberry jam")
    html = client.get(f"/products/{jam.slug}/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert 'data-testid="product-name">Moltesyltetøy</h1>' in html
    assert f'data-testid="price">{jam.price_in("NOK")}'.replace(".", ",") + f"{NBSP}kr<" in html


def test_the_demo_country_must_match_the_shops_currency(settings):
    # given an Icelandic shop
    settings.SHOP_CURRENCY = "ISK"
    settings.DEBUG = True

    # when the Norwegian demo is asked for / then it is refused with what to set
    with pytest.raises(CommandError, match="SHOP_CURRENCY=NOK"):
        call_command("seed_demo", "--country", "NO", stdout=io.StringIO())
    assert not Product.objects.exists()


def test_norwegian_prices_are_not_mixed_into_a_database_priced_in_kronur(settings):
    # given a database holding the Icelandic demo products
    spec = data.generate_products()[0]
    ProductFactory(sku=spec.sku, slug=spec.slug, price=spec.price_in("ISK"))

    # when the shop is switched to NOK and seeded again
    settings.SHOP_CURRENCY = "NOK"
    with pytest.raises(DemoCurrencyMismatch, match="--reset"):
        seed_demo()

    # then nothing was added
    assert Product.objects.count() == 1
