"""Filling a fresh database with the demo shop: stores, catalogue, stock, logins and postcodes.

seed_demo is safe to run again (`make run` runs it every time): stores, categories, products
and users are looked up by slug, SKU and username, images are added only to products without
one, and stock is set only where a store has no count for a product yet, so demo orders and
stock changes made in the admin survive a restart. reset_demo removes what seed_demo made.

The catalogue is written in English, Icelandic and Norwegian Bokmål (a database seeded before
it was gets its missing translations on the next run). Prices follow the demo country: whole
krónur for Iceland (SHOP_CURRENCY=ISK), kroner with øre for Norway (SHOP_CURRENCY=NOK).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import translation

from accounts.services import set_preferred_store
from catalog.models import Category, Product, ProductImage, VariantAttribute, VariantAttributeValue, VatClass
from catalog.services import NewVariant, add_product_image, create_variants
from delivery.models import DeliveryWindow, DeliveryZone, ZoneKind
from delivery.services import delivery_changed
from orders.models import Order
from pickup.models import PickupSettings
from shipping.models import ShippingRate
from stores.models import OpeningHours, SpecialOpeningHours, StockLevel, Store, StoreKind
from stores.postcodes import ImportResult, import_postcode_file
from stores.services import add_store_manager, record_opening_stock, set_stock_counts, stores_changed

from . import data
from .images import product_card

POSTCODE_FILE = Path(settings.BASE_DIR) / "stores" / "data" / "postcodes_is_no.csv"

# Demo-only passwords, printed by the command and listed in the README. seed_demo refuses to
# run with DEBUG off unless forced, so these never reach a real shop by accident.
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "nordurbud-admin"
MANAGER_PASSWORD = "nordurbud-manager"
SHOPPER_USERNAME = "shopper"
SHOPPER_PASSWORD = "nordurbud-shopper"
# Every n-th product gets a second, "detail" picture, so the product page's gallery has work to do.
SECOND_IMAGE_EVERY = 7


def manager_username(store_slug: str) -> str:
    return f"manager-{store_slug}"


class DemoCurrencyMismatch(Exception):
    """The demo country's currency is not the shop's, or the database holds the other country's prices."""


def demo_country(currency: str | None = None) -> str:
    """The demo country that goes with the shop's currency: Norway for NOK, else Iceland."""
    return "NO" if (currency or settings.SHOP_CURRENCY) == "NOK" else "IS"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


@dataclass
class SeedReport:
    stores_created: int = 0
    categories_created: int = 0
    products_created: int = 0
    sizes_created: int = 0
    images_created: int = 0
    stock_levels_created: int = 0
    postcodes: ImportResult | None = None
    logins: list[DemoLogin] = field(default_factory=list)


def seed_demo(*, reset: bool = False, country: str | None = None) -> SeedReport:
    """Create (or complete) the demo shop; with `reset`, remove the previous demo first.

    `country` (IS or NO, default: the one for settings.SHOP_CURRENCY) decides the prices; its
    currency must be the shop's, or every price would be shown in the wrong money.
    """
    country = country or demo_country()
    currency = data.COUNTRY_CURRENCIES[country]
    if currency != settings.SHOP_CURRENCY:
        raise DemoCurrencyMismatch(
            f"The {country} demo is priced in {currency} but the shop's currency is {settings.SHOP_CURRENCY}: "
            f"set SHOP_CURRENCY={currency}."
        )
    if reset:
        reset_demo()
    report = SeedReport()
    # Model translation fields are written explicitly per language; English is the default.
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        stores = _seed_stores(report, country)
        _seed_store_pages(stores)
        _seed_delivery(stores, currency)
        stores_changed()
        categories = _seed_categories(report)
        products = _seed_products(report, categories, currency)
        sold = _seed_sizes(report, products)
        _seed_stock(report, stores, sold)
        warehouse = _seed_shipping(country, currency, sold)
        report.logins = _seed_logins({**stores, warehouse.slug: warehouse})
        report.postcodes = import_postcode_file(path=POSTCODE_FILE)
    return report


# Stores with a car park offer curbside pickup in the demo (the others run on the defaults).
CURBSIDE_DEMO_STORES = ("kringlan", "smaralind", "majorstuen")


def _seed_stores(report, country: str) -> dict[str, Store]:
    """The demo country's stores only: the shop has one currency (SHOP_CURRENCY), so Oslo's
    stores in the Icelandic demo sold in krónur (and Reykjavík's in the Norwegian one in kroner).
    As a Shopify market or a Saleor channel is one currency with its own locations, each demo
    is one country's shop, like its warehouse (DEMO_WAREHOUSES)."""
    stores = {}
    for spec in data.STORES:
        if spec.country != country:
            continue
        store, created = Store.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "address": spec.address,
                "postcode": spec.postcode,
                "city": spec.city,
                "country": spec.country,
                "latitude": spec.latitude,
                "longitude": spec.longitude,
                "time_zone": spec.time_zone,
                "phone": spec.phone,
                "offers_pickup": True,
                "is_active": True,
            },
        )
        if created:
            report.stores_created += 1
            OpeningHours.objects.bulk_create(
                OpeningHours(store=store, weekday=weekday, opens=opens, closes=closes)
                for weekday, opens, closes in spec.opening_hours()
            )
            if spec.slug in CURBSIDE_DEMO_STORES:
                PickupSettings.objects.create(
                    store=store,
                    offers_curbside=True,
                    curbside_bays=6,
                    curbside_instructions_en="Park in the numbered pickup bays by the side entrance and check in.",
                    curbside_instructions_is=(
                        "Leggðu í númeruðu afhendingarstæðin við hliðarinnganginn og láttu vita af komu þinni."
                    ),
                    curbside_instructions_nb=(
                        "Parker på de nummererte henteplassene ved sideinngangen og meld fra at du er her."
                    ),
                )
        stores[spec.slug] = store
    return stores


# Stores whose van delivers in the demo: (zone name, postcodes or None, radius km or None) per store.
DELIVERY_DEMO_ZONES = {
    "laugavegur": ("Miðbær og Vesturbær", "101-108, 170", None),
    "kringlan": ("Within 6 km", None, Decimal("6")),
    "grunerlokka": ("Oslo sentrum og øst", "0150-0199, 0550-0599", None),
}
# Fee, free from, minimum order, in the demo's currency.
DELIVERY_DEMO_PRICES = {
    "ISK": (Decimal("990"), Decimal("15000"), Decimal("3000")),
    "NOK": (Decimal("79"), Decimal("1000"), Decimal("200")),
}


def _seed_delivery(stores, currency) -> None:
    """Delivery zones and evening windows for a few stores, added where the store has none
    (weekdays 17:00-19:00 ordered by 15:00, Saturdays 12:00-14:00 ordered by 10:00)."""
    fee, free_above, minimum = DELIVERY_DEMO_PRICES.get(currency, DELIVERY_DEMO_PRICES["ISK"])
    for slug, (name, postcodes, radius_km) in DELIVERY_DEMO_ZONES.items():
        store = stores.get(slug)
        if store is None or DeliveryZone.objects.filter(store=store).exists():
            continue
        DeliveryZone.objects.create(
            store=store,
            name=name,
            kind=ZoneKind.RADIUS if radius_km else ZoneKind.POSTCODES,
            postcodes=postcodes or "",
            radius_km=radius_km,
            fee=fee,
            free_above=free_above,
            minimum_order=minimum,
            lead_time_minutes=120,
            days_ahead=7,
        )
        windows = [(weekday, datetime.time(17), datetime.time(19), datetime.time(15), 8) for weekday in range(5)]
        windows.append((5, datetime.time(12), datetime.time(14), datetime.time(10), 6))
        DeliveryWindow.objects.bulk_create(
            DeliveryWindow(store=store, weekday=weekday, starts=starts, ends=ends, cutoff=cutoff, capacity=capacity)
            for weekday, starts, ends, cutoff, capacity in windows
        )
    delivery_changed()


def _seed_store_pages(stores) -> None:
    """Parking directions and the coming holidays' hours, added where missing (what staff wrote stays)."""
    for slug, store in stores.items():
        parking = data.PARKING.get(slug)
        if parking and not store.parking_en:
            store.parking_en, store.parking_is, store.parking_nb = parking
            store.save(update_fields=["parking_en", "parking_is", "parking_nb"])
        today = store.local_now().date()
        for month, day, opens, closes, (reason_en, reason_is, reason_nb) in data.HOLIDAYS:
            SpecialOpeningHours.objects.get_or_create(
                store=store,
                date=data.next_date(month, day, today),
                defaults={
                    "opens": datetime.time(opens) if opens is not None else None,
                    "closes": datetime.time(closes) if closes is not None else None,
                    "reason_en": reason_en,
                    "reason_is": reason_is,
                    "reason_nb": reason_nb,
                },
            )


def _seed_categories(report) -> dict[str, Category]:
    categories = {}
    for position, spec in enumerate(data.CATEGORIES):
        names = {"name": spec.name, "name_en": spec.name, "name_is": spec.name_is, "name_nb": spec.name_nb}
        category, created = Category.objects.get_or_create(
            slug=spec.slug,
            defaults={**names, "parent": categories.get(spec.parent), "position": position},
        )
        report.categories_created += created
        if not created and not (category.name_is and category.name_nb):
            _fill_missing(category, names)
            category.save(update_fields=["name_en", "name_is", "name_nb"])
        categories[spec.slug] = category
    return categories


def _department(categories, category_slug) -> str:
    category = categories[category_slug]
    while category.parent_id is not None:
        category = next(parent for parent in categories.values() if parent.pk == category.parent_id)
    return category.slug


def _texts(spec) -> dict[str, str]:
    texts = {"name": spec.name, "description": spec.description}
    for language in ("en", "is", "nb"):
        texts[f"name_{language}"] = spec.names[language]
        texts[f"description_{language}"] = spec.descriptions[language]
    return texts


def _fill_missing(instance, values) -> None:
    """Set the translations an instance does not have yet; what staff wrote stays."""
    for field_name, value in values.items():
        if not getattr(instance, field_name, None):
            setattr(instance, field_name, value)


def _seed_products(report, categories, currency) -> dict[str, Product]:
    specs = data.generate_products()
    products = Product.objects.in_bulk([spec.sku for spec in specs], field_name="sku")
    _check_existing_prices(products, specs, currency)
    untranslated = []
    for spec in specs:
        product = products.get(spec.sku)
        if product is not None and not (product.name_is and product.name_nb):
            _fill_missing(product, _texts(spec))
            untranslated.append(product)
    Product.objects.bulk_update(
        untranslated, [f"{field}_{language}" for field in ("name", "description") for language in ("en", "is", "nb")]
    )
    # Demo products seeded before products had a VAT class (all standard): food and drink get the
    # reduced rate; a class staff chose stays.
    reclassed = []
    for spec in specs:
        product = products.get(spec.sku)
        if product is not None and product.vat_class == VatClass.STANDARD != spec.vat_class:
            product.vat_class = spec.vat_class
            reclassed.append(product)
    Product.objects.bulk_update(reclassed, ["vat_class"])
    new = [
        Product(
            sku=spec.sku,
            slug=spec.slug,
            category=categories[spec.category],
            price=spec.price_in(currency),
            vat_class=spec.vat_class,
            is_active=True,
            **_texts(spec),
        )
        for spec in specs
        if spec.sku not in products
    ]
    for product in Product.objects.bulk_create(new):
        products[product.sku] = product
    report.products_created = len(new)
    # In catalogue order, so stock counts drawn for them are the same on every run.
    products = {spec.sku: products[spec.sku] for spec in specs}

    with_images = set(ProductImage.objects.filter(product__in=products.values()).values_list("product__sku", flat=True))
    for number, spec in enumerate(specs, start=1):
        if spec.sku in with_images:
            continue
        product, department = products[spec.sku], _department(categories, spec.category)
        # No alt text of their own: the product page then uses the name in the shopper's language.
        add_product_image(product=product, image_file=product_card(spec, department=department), alt_text="")
        report.images_created += 1
        if number % SECOND_IMAGE_EVERY == 0:
            add_product_image(
                product=product,
                image_file=product_card(spec, department=department, detail=True),
                alt_text="",
                position=1,
            )
            report.images_created += 1
    return products


def _check_existing_prices(products, specs, currency):
    """Refuse to add, say, Norwegian products beside Icelandic ones already priced in krónur."""
    if not products:
        return
    priced_here = (products[spec.sku].price == spec.price_in(currency) for spec in specs if spec.sku in products)
    if not any(priced_here):
        raise DemoCurrencyMismatch(
            f"The demo products in this database are not priced in {currency}: run seed_demo --reset, "
            "or use another database (make run-no keeps the Norwegian demo in db-no.sqlite3)."
        )


def _seed_sizes(report, products) -> dict[str, Product]:
    """The sizes of the clothing and footwear (catalog variants), added where missing; returns
    what the shop sells by SKU: the products without sizes and the sizes of the others."""
    size, _created = VariantAttribute.objects.get_or_create(
        slug="size", defaults={f"name_{language}": name for language, name in data.SIZE_NAMES.items()}
    )
    values = {}
    for position, name in enumerate(data.ALL_SIZES):
        values[name], _created = VariantAttributeValue.objects.get_or_create(
            attribute=size,
            slug=name.lower(),
            defaults={"value": name, "value_en": name, "value_is": name, "value_nb": name, "position": position},
        )
    sizes = data.generate_sizes()
    existing = Product.objects.in_bulk([spec.sku for spec in sizes], field_name="sku")
    new = [
        NewVariant(parent=products[spec.parent_sku], sku=spec.sku, values=(values[spec.size],))
        for spec in sizes
        if spec.sku not in existing
    ]
    for variant in create_variants(variants=new):
        existing[variant.sku] = variant
    report.sizes_created = len(new)
    # A demo seeded before sizes stocked the sweater itself: its sizes are on the shelves now, so
    # the sweater's own units (none reserved) are counted away, through one stocktake.
    sized = [products[spec.parent_sku].pk for spec in sizes]
    set_stock_counts(
        counts={
            (store_id, product_id): 0
            for store_id, product_id in StockLevel.objects.filter(
                product__in=sized, on_hand__gt=0, reserved=0
            ).values_list("store_id", "product_id")
        }
    )
    by_sku = {**products, **existing}
    return {sku: by_sku[sku] for sku in data.sold_skus()}


def _seed_stock(report, stores, products):
    counts = data.stock_counts(store_slugs=list(stores), skus=list(products))
    for slug, store in stores.items():
        report.stock_levels_created += record_opening_stock(
            store=store, counts={product.pk: counts[slug, sku] for sku, product in products.items()}
        )


# Ship to home (the shipping app): one warehouse in the demo's country, holding the whole range, and
# a fee table by postcode area and parcel weight.
DEMO_WAREHOUSES = {
    "IS": {
        "slug": "voruhus-hafnarfirdi",
        "name": "Vöruhús Hafnarfirði",
        "address": "Hringhella 6",
        "postcode": "221",
        "city": "Hafnarfjörður",
        "latitude": Decimal("64.052400"),
        "longitude": Decimal("-21.958600"),
        "time_zone": "Atlantic/Reykjavik",
    },
    "NO": {
        "slug": "lager-alnabru",
        "name": "Lager Alnabru",
        "address": "Strømsveien 266",
        "postcode": "0668",
        "city": "Oslo",
        "latitude": Decimal("59.930800"),
        "longitude": Decimal("10.840000"),
        "time_zone": "Europe/Oslo",
    },
}
DEMO_WAREHOUSE_UNITS = 40
# (first postcode, last postcode, up to grams, fee) per country, in the country's currency.
DEMO_SHIPPING_RATES = {
    "IS": [
        (100, 299, 2000, Decimal("990")),
        (100, 299, 10000, Decimal("1790")),
        (100, 299, 30000, Decimal("3490")),
        (300, 999, 2000, Decimal("1490")),
        (300, 999, 10000, Decimal("2490")),
        (300, 999, 30000, Decimal("4990")),
    ],
    "NO": [
        (1, 1299, 2000, Decimal("99")),
        (1, 1299, 10000, Decimal("149")),
        (1, 1299, 30000, Decimal("249")),
        (1300, 9999, 2000, Decimal("129")),
        (1300, 9999, 10000, Decimal("199")),
        (1300, 9999, 30000, Decimal("349")),
    ],
}
# What a unit weighs packed, by department (grams); the rest weigh DEMO_DEFAULT_GRAMS.
DEMO_WEIGHTS = {
    "knitwear": 700,
    "outerwear": 1100,
    "base-layers": 300,
    "hats-gloves": 150,
    "tents": 3200,
    "backpacks": 1400,
    "footwear": 1300,
    "blankets": 1200,
    "ceramics": 800,
    "candles": 400,
    "coffee-tea": 300,
    "chocolate": 200,
    "pantry": 500,
}
DEMO_DEFAULT_GRAMS = 600


def _seed_shipping(country, currency, products) -> Store:
    """The demo warehouse with DEMO_WAREHOUSE_UNITS of everything sold, each product's weight where
    it has none, and the fee table when there is none yet (what staff changed stays)."""
    spec = DEMO_WAREHOUSES[country]
    warehouse, created = Store.objects.get_or_create(
        slug=spec["slug"],
        defaults={
            **spec,
            "country": country,
            "kind": StoreKind.WAREHOUSE,
            "offers_pickup": False,
            "accepts_returns": False,
        },
    )
    if created:
        record_opening_stock(store=warehouse, counts={p.pk: DEMO_WAREHOUSE_UNITS for p in products.values()})
    unweighed = list(Product.objects.filter(weight_grams__isnull=True, parent__isnull=True).select_related("category"))
    for product in unweighed:
        product.weight_grams = DEMO_WEIGHTS.get(product.category.slug, DEMO_DEFAULT_GRAMS)
    Product.objects.bulk_update(unweighed, ["weight_grams"])
    _seed_shipping_rates(country)
    return warehouse


def _seed_shipping_rates(country) -> None:
    """The fee table of `country`, when it has none yet (what staff changed stays)."""
    if not ShippingRate.objects.filter(country=country).exists():
        ShippingRate.objects.bulk_create(
            ShippingRate(country=country, postcode_from=first, postcode_to=last, max_weight_grams=grams, fee=fee)
            for first, last, grams, fee in DEMO_SHIPPING_RATES[country]
        )


def _seed_logins(stores) -> list[DemoLogin]:
    """The demo accounts. Existing accounts keep their password (seed_demo --reset restores it)."""
    User = get_user_model()
    logins = [DemoLogin(ADMIN_USERNAME, ADMIN_PASSWORD, "superuser: every store")]
    if not User.objects.filter(username=ADMIN_USERNAME).exists():
        User.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD)

    # Hashing is slow on purpose; the managers share one password, so hash it once.
    manager_password_hash = make_password(MANAGER_PASSWORD)
    for slug, store in stores.items():
        username = manager_username(slug)
        manager, _created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.com",
                "first_name": "Manager",
                "last_name": store.name,
                "password": manager_password_hash,
            },
        )
        add_store_manager(store=store, user=manager)
        logins.append(DemoLogin(username, MANAGER_PASSWORD, f"manager of {store.name}"))

    shopper, created = User.objects.get_or_create(
        username=SHOPPER_USERNAME,
        defaults={
            "email": "shopper@example.com",
            "first_name": "Anna",
            "last_name": "Jónsdóttir",
            "password": make_password(SHOPPER_PASSWORD),
        },
    )
    if created:
        set_preferred_store(user=shopper, store=next(iter(stores.values())))
    logins.append(DemoLogin(SHOPPER_USERNAME, SHOPPER_PASSWORD, "shopper account"))
    return logins


def reset_demo() -> None:
    """Remove the demo stores (with their orders and stock), products, categories and logins."""
    store_slugs = [spec.slug for spec in data.STORES] + [spec["slug"] for spec in DEMO_WAREHOUSES.values()]
    skus = [spec.sku for spec in data.generate_products()] + [spec.sku for spec in data.generate_sizes()]
    with transaction.atomic():
        Order.objects.filter(store__slug__in=store_slugs).delete()
        Store.objects.filter(slug__in=store_slugs).delete()
        stores_changed()
        images = list(ProductImage.objects.filter(product__sku__in=skus))
        Product.objects.filter(sku__in=skus).delete()
        # Children before parents; a category that also holds products of the shop's own stays.
        for spec in reversed(data.CATEGORIES):
            try:
                Category.objects.filter(slug=spec.slug, children__isnull=True).delete()
            except ProtectedError:
                continue
        get_user_model().objects.filter(
            username__in=[ADMIN_USERNAME, SHOPPER_USERNAME, *map(manager_username, store_slugs)]
        ).delete()
        transaction.on_commit(lambda: _delete_files(images))


def _delete_files(images):
    for picture in images:
        for file in (picture.image, picture.thumbnail):
            if file:
                file.storage.delete(file.name)
