import io
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest

from catalog.models import Category, Product, ProductImage
from demo import data
from demo.images import font
from demo.services import ADMIN_PASSWORD, MANAGER_PASSWORD, SHOPPER_PASSWORD, seed_demo
from orders.models import Order
from orders.tests.factories import place_order
from shipping.models import ShippingRate
from stores.models import PostcodeLocation, SpecialOpeningHours, StockLevel, Store
from stores.services import set_on_hand

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    # The demo hashes a handful of passwords and the tests log in with them; keep that fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_demo_shop_has_its_countrys_stores_a_catalogue_stock_and_logins(client, settings):
    # when the demo is seeded through the command, as `make run` does
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    # then the Icelandic demo (krónur) has three stores in Iceland's time zone, with hours, and
    # none in Oslo, whose prices would be in krónur (the Norwegian demo has those: make run-no)
    stores = list(Store.objects.for_shoppers().prefetch_related("opening_hours"))
    by_zone = Counter(store.time_zone for store in stores)
    assert by_zone == {"Atlantic/Reykjavik": 3}
    for store in stores:
        assert store.offers_pickup and store.is_active
        assert store.address and store.postcode and store.city
        assert len({hours.weekday for hours in store.opening_hours.all()}) >= 6, store
        # with parking directions in each language, and the coming Christmas and New Year hours
        assert store.parking_en and store.parking_is and store.parking_nb, store
    assert SpecialOpeningHours.objects.count() == len(stores) * len(data.HOLIDAYS)
    assert SpecialOpeningHours.objects.filter(opens__isnull=True, reason_is="Jóladagur").count() == len(stores)

    # and 200+ products with unique SKUs, prices, descriptions and a picture with its thumbnail
    products = list(Product.objects.filter(parent__isnull=True).prefetch_related("images"))
    assert len(products) >= 200
    assert Product.objects.values("sku").distinct().count() == Product.objects.count()
    for product in products:
        assert product.price > 0 and product.description
        pictures = list(product.images.all())
        assert pictures and all(picture.image and picture.thumbnail for picture in pictures), product
    assert ProductImage.objects.filter(position=1).exists(), "some products have a second picture"

    # and food and drink at the reduced VAT rate, everything else at the standard one
    food = {"food-drink", "coffee-tea", "chocolate", "pantry"}
    classes = {
        (product.category.slug in food, product.vat_class) for product in Product.objects.select_related("category")
    }
    assert classes == {(True, "reduced"), (False, "standard")}

    # and nested categories, with every product in a sub-category
    assert Category.objects.filter(parent__isnull=True).count() == 4
    assert not Product.objects.filter(category__parent__isnull=True).exists()

    # and the clothing and footwear in sizes, in the shops' order, named in every language
    boots = Product.objects.filter(category__slug="footwear", parent__isnull=True).order_by("sku").first()
    boot_sizes = Product.objects.filter(parent=boots).prefetch_related("attribute_values").order_by("sku")
    assert [value.value for size in boot_sizes for value in size.attribute_values.all()] == list(data.SHOE_SIZES)
    medium = Product.objects.get(sku=f"{boots.sku}-42")
    assert (medium.name_en, medium.name_is) == (f"{boots.name_en} — 42", f"{boots.name_is} — 42")
    assert medium.price == boots.price and medium.category_id == boots.category_id
    assert not Product.objects.filter(category__slug="ceramics", variants__isnull=False).exists()
    sold = data.sold_skus()
    assert Product.objects.filter(parent__isnull=False).count() == len(data.generate_sizes()) > 300

    # and a stock count for every store and what it sells (a size, not a sweater), some sold out,
    # and the warehouse holding everything, to ship with the fee table
    warehouse = Store.objects.warehouses().get()
    assert not warehouse.offers_pickup and warehouse not in stores
    assert StockLevel.objects.filter(store=warehouse, on_hand__gt=0).count() == len(sold)
    assert ShippingRate.objects.filter(country=warehouse.country).count() >= 4
    assert not Product.objects.filter(parent__isnull=True, weight_grams__isnull=True).exists()
    assert StockLevel.objects.count() == (len(stores) + 1) * len(sold)
    assert not StockLevel.objects.filter(product__variants__isnull=False).exists()
    assert StockLevel.objects.filter(on_hand=0).exists()
    assert StockLevel.objects.filter(on_hand__gte=3).count() > StockLevel.objects.count() // 2

    # and the postcode table for both countries
    assert PostcodeLocation.objects.filter(country="IS", postcode="101").exists()
    assert PostcodeLocation.objects.filter(country="NO", postcode="0150").exists()

    # and one manager per store, running exactly that store, plus a superuser and a shopper
    User = get_user_model()
    for store in stores:
        manager = User.objects.get(username=f"manager-{store.slug}")
        assert manager.is_staff and not manager.is_superuser
        assert list(manager.managed_stores.all()) == [store]
        # django-axes needs a request to count login attempts against
        assert client.login(request=HttpRequest(), username=manager.username, password=MANAGER_PASSWORD)
    assert User.objects.get(username="admin").is_superuser
    assert client.login(request=HttpRequest(), username="admin", password=ADMIN_PASSWORD)
    assert client.login(request=HttpRequest(), username="shopper", password=SHOPPER_PASSWORD)

    # and the passwords are printed, marked as demo-only
    printed = out.getvalue()
    assert "DEMO ONLY" in printed
    assert re.search(rf"manager-laugavegur +{MANAGER_PASSWORD}", printed)
    assert re.search(rf"manager-voruhus-hafnarfirdi +{MANAGER_PASSWORD} +manager of Vöruhús Hafnarfirði", printed)
    assert ADMIN_PASSWORD in printed


def test_seeding_again_keeps_what_happened_in_the_shop_and_reset_starts_over():
    # given the demo shop, where a shopper reserved a sweater and staff recounted a scarf
    seed_demo()
    counts = {
        model: model.objects.count()
        for model in (Store, Category, Product, ProductImage, StockLevel, SpecialOpeningHours)
    }
    store = Store.objects.get(slug="laugavegur")
    sweater, scarf = StockLevel.objects.filter(store=store, on_hand__gte=3).select_related("product").order_by("pk")[:2]
    place_order(store=store, products_and_quantities=[(sweater.product, 2)])
    set_on_hand(store=store, product=scarf.product, on_hand=99)
    skus = [sweater.product.sku, scarf.product.sku]

    # when the demo is seeded again
    report = seed_demo()

    # then nothing was added and the shop's own changes are still there
    assert (report.stores_created, report.products_created, report.sizes_created, report.images_created) == (0, 0, 0, 0)
    assert report.stock_levels_created == 0
    assert {model: model.objects.count() for model in counts} == counts
    sweater.refresh_from_db()
    scarf.refresh_from_db()
    assert (sweater.reserved, scarf.on_hand) == (2, 99)

    # when it is seeded with reset
    report = seed_demo(reset=True)

    # then the order is gone and the demo is back as it was first seeded
    assert not Order.objects.exists()
    icelandic = [spec.slug for spec in data.STORES if spec.country == "IS"]
    assert (report.stores_created, report.products_created) == (len(icelandic), len(data.generate_products()))
    assert {model: model.objects.count() for model in counts} == counts
    expected = data.stock_counts(store_slugs=icelandic, skus=data.sold_skus())
    stores_stock = StockLevel.objects.filter(product__sku__in=skus, store__kind="store")
    for level in stores_stock.select_related("store", "product"):
        assert (level.on_hand, level.reserved) == (expected[level.store.slug, level.product.sku], 0)


def test_the_demo_refuses_to_run_on_a_production_configuration(settings):
    # given DEBUG is off, as in production
    settings.DEBUG = False

    # when seed_demo runs without --force
    with pytest.raises(CommandError, match="DEBUG=true"):
        call_command("seed_demo")

    # then no login with a published password was created
    assert not get_user_model().objects.filter(username="admin").exists()


def test_the_catalogue_is_the_same_every_time_and_reads_naturally():
    # when the catalogue is generated twice
    first, second = data.generate_products(), data.generate_products()

    # then it is identical, names are unique, and they read like products
    assert first == second
    assert len({product.name for product in first}) == len(first)
    names = {product.name for product in first}
    assert any(re.fullmatch(r"[A-ZÆÞ]\w+ lopapeysa wool sweater, [a-z ]+", name) for name in names)
    assert any(re.fullmatch(r"[A-ZÆÞ]\w+ merino base layer top, [a-z ]+", name) for name in names)
    assert "Crowberry jam" in names
    assert all(name[0].isupper() and "{" not in name for name in names)


@pytest.mark.parametrize("letter", list("ðÐæÆøØþÞáéíóúýöå"))
def test_the_picture_font_draws_icelandic_and_norwegian_letters(letter):
    # given the font the demo's pictures are captioned in, and what it draws for a character it lacks
    caption_font = font(28)
    missing = bytes(caption_font.getmask("\U0010fffd"))

    # then each Icelandic and Norwegian letter has a glyph of its own, not the empty box
    assert bytes(caption_font.getmask(letter)) != missing


def test_a_demo_seeded_before_sizes_gets_them_and_its_sweaters_own_stock_counted_away():
    # given the demo as it was before sizes: a sized product stocked itself, and no sizes
    seed_demo()
    store = Store.objects.get(slug="laugavegur")
    sweater = Product.objects.filter(variants__isnull=False).order_by("pk").first()
    Product.objects.filter(parent__isnull=False).delete()
    set_on_hand(store=store, product=sweater, on_hand=7)

    # when it is seeded again
    report = seed_demo()

    # then the sizes are back, stocked, and the sweater itself has none to sell
    assert report.sizes_created == len(data.generate_sizes())
    assert StockLevel.objects.get(store=store, product=sweater).on_hand == 0
    assert StockLevel.objects.filter(store=store, product__parent=sweater).count() == sweater.variants.count()
