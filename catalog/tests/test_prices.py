"""A price must be payable in the shop's currency: 100.50 is refused in ISK (no minor unit) by the
model, the admin and the CSV import, with a message in the reader's language."""

import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from catalog.imports import import_catalog_file
from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory
from catalog.tests.test_admin_products import product_form_data
from o2o_site.csv_import import ImportRejected

pytestmark = pytest.mark.django_db

HEADER = "sku,name,category,price,description,active\n"


def admin_form_data(product, *, price):
    return {**product_form_data(product), "images-TOTAL_FORMS": "0", "price": price}


def refusal(product):
    with pytest.raises(ValidationError) as refused:
        product.full_clean()
    return refused.value.message_dict


def test_the_model_refuses_a_price_in_half_kronur(settings):
    # given an Icelandic shop and a product priced 100.50
    settings.SHOP_CURRENCY = "ISK"
    product = ProductFactory.build(category=CategoryFactory(), price=Decimal("100.50"))

    # when it is checked / then the price is refused, saying why
    with translation.override("en"):
        assert refusal(product) == {
            "price": ["100.50 is not a price in ISK: the currency has no minor unit, so prices are whole numbers."]
        }

    # and a whole number of krónur is a price
    product.price = Decimal("101")
    product.full_clean()


def test_the_same_price_is_payable_in_kroner_and_ore(settings):
    # given a Norwegian shop / then 100.50 kr is a price
    settings.SHOP_CURRENCY = "NOK"
    ProductFactory.build(category=CategoryFactory(), price=Decimal("100.50")).full_clean()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (
            "is",
            "100.50 er ekki gilt verð í ISK: gjaldmiðillinn hefur enga smærri einingu, svo verð eru heilar tölur.",
        ),
        (
            "nb",
            "100.50 er ikke en gyldig pris i ISK: valutaen har ingen mindre enhet, så priser er hele tall.",
        ),
    ],
)
def test_the_refusal_is_in_the_readers_language(settings, language, message):
    settings.SHOP_CURRENCY = "ISK"
    product = ProductFactory.build(category=CategoryFactory(), price=Decimal("100.50"))
    with translation.override(language):
        assert refusal(product) == {"price": [message]}


def test_the_admin_refuses_a_price_the_currency_cannot_be_paid_in(admin_client, settings):
    # given an Icelandic shop and a product at 4 990 kr.
    settings.SHOP_CURRENCY = "ISK"
    product = ProductFactory(price=Decimal("4990"))
    # when the price is changed to 100.50 in the admin
    data = admin_form_data(product, price="100.50")
    response = admin_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)

    # then the form is shown again with the reason on the price, and nothing changed
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["price"] == [
        "100.50 is not a price in ISK: the currency has no minor unit, so prices are whole numbers."
    ]
    product.refresh_from_db()
    assert product.price == Decimal("4990")

    # and a whole price is saved
    data = admin_form_data(product, price="101")
    response = admin_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.price == Decimal("101")


def test_the_admin_in_icelandic_says_it_in_icelandic(admin_client, settings):
    settings.SHOP_CURRENCY = "ISK"
    product = ProductFactory(price=Decimal("4990"))
    admin_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "is"
    data = admin_form_data(product, price="100.50")

    response = admin_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["price"] == [
        "100.50 er ekki gilt verð í ISK: gjaldmiðillinn hefur enga smærri einingu, svo verð eru heilar tölur."
    ]


def test_a_catalog_file_with_half_kronur_is_refused_naming_the_row_and_changes_nothing(tmp_path, settings):
    # given an Icelandic shop selling a product at 4 990 kr.
    settings.SHOP_CURRENCY = "ISK"
    knitwear = CategoryFactory(slug="knitwear")
    ProductFactory(sku="LOPI-1", price=Decimal("4990"), category=knitwear)
    path = tmp_path / "catalog.csv"
    path.write_text(
        HEADER + "LOPI-1,Lopi mittens,knitwear,5490,,yes\n"  # line 2: fine
        "HAT-1,Hat,knitwear,100.50,,yes\n"  # line 3: half a króna
        "HAT-2,Hat,knitwear,100.00,,yes\n",  # line 4: 100 krónur written with decimals: fine
        encoding="utf-8",
    )

    # when it is imported
    with pytest.raises(ImportRejected) as rejected, translation.override("en"):
        import_catalog_file(path=path)

    # then line 3 is named with the reason, and nothing changed, not even the good rows
    assert [str(error) for error in rejected.value.errors] == [
        "line 3: 100.50 is not a price in ISK: the currency has no minor unit, so prices are whole numbers."
    ]
    assert list(Product.objects.values_list("sku", "price")) == [("LOPI-1", Decimal("4990"))]


def test_the_same_file_is_imported_in_a_norwegian_shop(tmp_path, settings):
    settings.SHOP_CURRENCY = "NOK"
    CategoryFactory(slug="knitwear")
    path = tmp_path / "catalog.csv"
    path.write_text(HEADER + "HAT-1,Hat,knitwear,100.50,,yes\n", encoding="utf-8")

    import_catalog_file(path=path)

    assert Product.objects.get(sku="HAT-1").price == Decimal("100.50")


def round_prices_migration():
    return importlib.import_module("catalog.migrations.0004_price_payable_in_the_shop_currency")


def test_prices_saved_before_are_rounded_to_what_the_shop_already_showed(settings):
    # given an Icelandic shop whose products were saved before prices were checked
    settings.SHOP_CURRENCY = "ISK"
    half, under, whole = (ProductFactory() for _ in range(3))
    Product.objects.filter(pk=half.pk).update(price=Decimal("100.50"))
    Product.objects.filter(pk=under.pk).update(price=Decimal("100.49"))
    Product.objects.filter(pk=whole.pk).update(price=Decimal("4990"))

    # when the migration runs
    round_prices_migration().round_prices_to_the_minor_unit(apps, None)

    # then each is the whole króna the pages showed (rounded half-up), and whole prices are untouched
    prices = dict(Product.objects.values_list("pk", "price"))
    assert [prices[half.pk], prices[under.pk], prices[whole.pk]] == [Decimal("101"), Decimal("100"), Decimal("4990")]
    for product in Product.objects.all():
        product.full_clean()


def test_a_norwegian_shops_prices_are_left_as_they_are(settings):
    settings.SHOP_CURRENCY = "NOK"
    product = ProductFactory(price=Decimal("89.90"))

    round_prices_migration().round_prices_to_the_minor_unit(apps, None)

    product.refresh_from_db()
    assert product.price == Decimal("89.90")


def test_the_admin_refuses_a_negative_price_with_a_reason_not_a_database_error(admin_client, settings):
    # given an Icelandic shop and a product at 4 990 kr.
    settings.SHOP_CURRENCY = "ISK"
    product = ProductFactory(price=Decimal("4990"))

    # when the price is changed to -5 in the admin
    data = admin_form_data(product, price="-5")
    response = admin_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)

    # then the form says why, on the price, keeps what was typed, and nothing changed
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["price"] == ["A price cannot be negative."]
    assert 'value="-5"' in response.content.decode()
    product.refresh_from_db()
    assert product.price == Decimal("4990")


@pytest.mark.parametrize(("currency", "step", "shown"), [("ISK", "1", "4990"), ("NOK", "0.01", "4990.00")])
def test_the_admin_price_is_written_as_the_currency_is(admin_client, settings, currency, step, shown):
    # given a product at 4 990 in the shop's currency
    settings.SHOP_CURRENCY = currency
    product = ProductFactory(price=Decimal("4990"))

    # when a manager opens it in the admin
    page = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()

    # then the price is written in whole krónur (or kroner and øre) and steps by the minor unit
    field = re.search(r'<input[^>]*name="price"[^>]*>', page).group(0)
    assert f'value="{shown}"' in field and f'step="{step}"' in field
