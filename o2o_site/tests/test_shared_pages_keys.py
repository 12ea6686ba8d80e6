"""Every cached page, in every language, for two stores (and none), logged in and out, with and
without a cart: what the cache serves is exactly what a fresh render gives that shopper, so no
page (or fragment, or count) leaks into another (o2o_site/cache/)."""

import itertools
import re
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog import services
from catalog.selectors import PRODUCTS_PER_PAGE
from catalog.tests.factories import CategoryFactory, ProductFactory, sizes
from checkout.cart import SESSION_KEY, Cart
from o2o_site.cache import stamps
from o2o_site.cache.pages import CART_SESSION_KEY, cart_item_count
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import PostcodeLocationFactory, StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "is", "nb")
LOGGED_IN = (False, True)
CART_UNITS = (0, 3)


@pytest.fixture
def shop():
    # Two stores far apart with different stock, never open (so "open now" cannot change while
    # the test runs), a nested catalogue in three languages, more than a page of products.
    reykjavik = StoreFactory(
        name="Laugavegur",
        slug="laugavegur",
        open_every_day=False,
        latitude=Decimal("64.1458"),
        longitude=Decimal("-21.929"),
    )
    oslo = StoreFactory(
        name="Karl Johans gate",
        slug="karl-johans-gate",
        open_every_day=False,
        city="Oslo",
        country="NO",
        postcode="0154",
        latitude=Decimal("59.9127"),
        longitude=Decimal("10.7461"),
        time_zone="Europe/Oslo",
    )
    PostcodeLocationFactory(postcode="101")
    clothing = CategoryFactory(slug="clothing", name_en="Clothing", name_is="Fatnaður", name_nb="Klær")
    knitwear = CategoryFactory(
        slug="knitwear", parent=clothing, name_en="Knitwear", name_is="Prjónavörur", name_nb="Strikkevarer"
    )
    products = []
    for index in range(PRODUCTS_PER_PAGE + 4):
        product = ProductFactory(
            category=knitwear if index % 2 else clothing,
            slug=f"scarf-{index}",
            name_en=f"Wool scarf {index:02}",
            name_is=f"Ullartrefill {index:02}",
            name_nb=f"Ullskjerf {index:02}",
            description_en="Warm.",
            description_is="Hlýr.",
            description_nb="Varm.",
            price=Decimal("4990") + index,
        )
        StockLevelFactory(store=reykjavik, product=product, on_hand=index % 4)
        StockLevelFactory(store=oslo, product=product, on_hand=(index + 2) % 5)
        products.append(product)
    # A sweater in two sizes: the picker shows each one's units at my store, the chosen one its
    # stock here and elsewhere; the small one is sold out in Reykjavík, the medium one in Oslo.
    sweater = ProductFactory(
        category=knitwear, slug="sweater", name_en="Sweater", name_is="Peysa", name_nb="Genser", price=Decimal("24990")
    )
    small, medium = sizes("S", "M")
    variants = [
        services.create_variant(parent=sweater, sku="SWEATER-S", values=[small]),
        services.create_variant(parent=sweater, sku="SWEATER-M", values=[medium], price=Decimal("25990")),
    ]
    for variant, (in_reykjavik, in_oslo) in zip(variants, ((0, 2), (3, 0)), strict=True):
        StockLevelFactory(store=reykjavik, product=variant, on_hand=in_reykjavik)
        StockLevelFactory(store=oslo, product=variant, on_hand=in_oslo)
    return {
        "stores": (reykjavik, oslo),
        "products": products,
        "sweater": (sweater, *variants),
        "shopper": UserFactory(username="gudrun"),
    }


def cached_pages(shop):
    """Every page the shop caches, by its address: each view under @shared_page, with the query
    strings that change what it shows, and the availability JSON."""
    product = shop["products"][1]
    sweater, small, medium = shop["sweater"]
    store_list = reverse("stores:store_list")
    return [
        "/",  # home: every product, page 1
        "/?page=2",  # a deep page
        "/?category=clothing",  # a category with its sub-category's products
        "/?category=knitwear&page=2",
        "/?q=trefill",  # a search in Icelandic: finds nothing in English (the names are searched per language)
        "/?q=scarf",
        "/?q=ullskjerf&available=1",  # a search, in stock at my store only
        "/?available=1",
        "/?page=1&q=Wool",  # parameters out of order: the same page as "?q=Wool&page=1"
        product.get_absolute_url(),
        # Sold out at one store (Reykjavík), not at the other.
        shop["products"][0].get_absolute_url(),
        # A product with variants: none chosen (each one's units at my store), one chosen, and
        # a choice no longer sold.
        sweater.get_absolute_url(),
        f"{sweater.get_absolute_url()}?variant={small.pk}",
        f"{sweater.get_absolute_url()}?variant={medium.pk}",
        f"{sweater.get_absolute_url()}?variant=0",
        store_list,
        f"{store_list}?postcode=101",  # the locator by postcode
        f"{store_list}?lat=59.91&lon=10.75",  # and by the browser's location
        reverse("catalog:availability_json", kwargs={"sku": product.sku}),
    ]


def shoppers(shop):
    """(description, client) for every combination of language, store, login and cart."""
    for language, store, logged_in, units in itertools.product(
        LANGUAGES, (None, *shop["stores"]), LOGGED_IN, CART_UNITS
    ):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        if logged_in:
            client.force_login(shop["shopper"])
        session = client.session
        if store is not None:
            session[MY_STORE_SESSION_KEY] = store.pk
        if units:
            session[CART_SESSION_KEY] = {str(shop["products"][0].pk): units}
        session.save()
        description = (
            f"{language}, store {store.slug if store else '-'}, {'logged in' if logged_in else 'guest'}, cart {units}"
        )
        yield description, client


def comparable(response):
    # Each response carries its own masking of the shopper's CSRF secret.
    return re.sub(rb'(name="csrfmiddlewaretoken" value=")[^"]+', rb"\1TOKEN", response.content)


def test_no_cached_page_leaks_into_another_shoppers(shop):
    # given every shopper (language, store, login, cart) has opened every cached page, in turn,
    # each served from the cache whenever an earlier shopper's page was kept under the same key
    everyone = list(shoppers(shop))
    pages = cached_pages(shop)
    served = {}
    for page in pages:
        for description, client in everyone:
            response = client.get(page)
            assert response.status_code == 200, (page, description)
            served[page, description] = comparable(response)
        assert page.endswith(".json") or _served_from_the_cache(everyone[0][1], page), page

    # when each page is rendered afresh for each shopper, nothing cached
    leaks = []
    for page in pages:
        for description, client in everyone:
            caches["template_fragments"].clear()
            fresh = comparable(client.get(page))
            # then what the cache served them is exactly that
            if fresh != served[page, description]:
                leaks.append(f"{page} for {description}")
    assert not leaks, f"{len(leaks)} cached pages differ from a fresh render:\n" + "\n".join(leaks)


def _served_from_the_cache(client, page):
    # The test would prove nothing if nothing were cached: a visit right after the shoppers' renders
    # no template. Pages live 60 s and the product page is also keyed by the minute ("open now"), so
    # on a slow machine one visit may fall just after a boundary and render: the next one may not.
    return any(not client.get(page).templates for _attempt in range(2))


def test_the_pages_differ_where_the_shoppers_do(shop):
    # The comparison above finds leaks only where shoppers see different pages: they do.
    reykjavik, oslo = shop["stores"]
    seen = {}
    for description, client in shoppers(shop):
        seen[description] = client.get("/").content.decode()
    guest_en = seen["en, store -, guest, cart 0"]
    assert (
        '<html lang="is">' in seen["is, store -, guest, cart 0"]
        and '<html lang="nb">' in seen["nb, store -, guest, cart 0"]
    )
    assert "My store: Laugavegur" in seen["en, store laugavegur, guest, cart 0"]
    assert "My store: Karl Johans gate" in seen["en, store karl-johans-gate, guest, cart 0"]
    assert "Log out" in seen["en, store -, logged in, cart 0"] and "Log out" not in guest_en
    assert "Cart (3 items)" in seen["en, store -, guest, cart 3"] and "Cart (0 items)" in guest_en


def test_a_product_page_is_one_body_for_every_store_with_each_stores_stock_in_it(shop):
    # given a shopper of Reykjavík opened the sweater with the small size chosen (none there)
    reykjavik, oslo = shop["stores"]
    sweater, small, _medium = shop["sweater"]
    url = f"{sweater.get_absolute_url()}?variant={small.pk}"
    first = next(
        client for description, client in shoppers(shop) if description == "en, store laugavegur, guest, cart 0"
    )
    assert first.get(url)["X-Page-Cache"] == "miss"

    # when a shopper of Oslo opens it
    oslo_shopper = next(
        client for description, client in shoppers(shop) if description == "en, store karl-johans-gate, guest, cart 3"
    )
    response = oslo_shopper.get(url)

    # then the body came from the cache, with Oslo's stock, button and picker in it
    page = response.content.decode()
    assert response["X-Page-Cache"] == "hit"
    assert "2 in stock at Karl Johans gate" in page and "Laugavegur has none" not in page
    assert 'data-testid="add-to-cart">' in page  # not disabled
    assert "2 here" in page and "none here" in page  # small: 2 in Oslo; medium: none
    assert "My store: Karl Johans gate" in page and "Cart (3 items)" in page


@pytest.mark.parametrize("language", ["is", "nb"])
def test_the_availability_json_names_the_product_in_the_language_asked_for(client, shop, language):
    # given an English client asked first
    product = shop["products"][1]
    url = reverse("catalog:availability_json", kwargs={"sku": product.sku})
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["name"] == "Wool scarf 01"

    # when another asks in Icelandic or Norwegian
    name = client.get(url, HTTP_ACCEPT_LANGUAGE=language).json()["name"]

    # then it gets the name in that language
    assert name == {"is": "Ullartrefill 01", "nb": "Ullskjerf 01"}[language]


def test_the_same_page_under_any_order_of_its_query_is_one_page(client, shop):
    # given a search seen with its parameters in one order
    first = client.get("/?q=scarf&category=knitwear")

    # when the same search comes with them in another
    second = client.get("/?category=knitwear&q=scarf")

    # then it is served from the cache, the same page
    assert first.templates and not second.templates
    assert comparable(first) == comparable(second)


def test_a_change_of_currency_is_a_change_of_page(client, shop):
    # given the home page was seen priced in krónur
    assert "ISK" in client.get("/").content.decode()

    # when the shop's currency is another
    with override_settings(SHOP_CURRENCY="NOK"):
        page = client.get("/").content.decode()

    # then its prices are not the krónur kept in the cache
    assert "NOK" in page and "ISK" not in page


def test_the_page_cache_counts_the_cart_as_the_cart_does():
    # given carts as the cart writes them, and as a tampered or outdated session might hold them
    for raw in ({}, {"7": 2, "9": 1}, {"7": 0, "8": "x", "y": 1, "9": 4}, {"07": 2, "7": 3}, None, ["7"]):
        session = {SESSION_KEY: raw}
        # then the page cache's count (part of every page's key) is the count the header shows
        expected = len(Cart(session)) if isinstance(raw, dict | type(None)) else 0
        assert cart_item_count(session) == expected, raw
    assert CART_SESSION_KEY == SESSION_KEY


def test_a_key_carries_the_language_unless_its_value_is_the_same_in_every_one():
    from django.utils import translation

    with translation.override("is"):
        icelandic, neutral_is = stamps.key("catalog:count", "v1"), stamps.key("catalog:tree", "v1", neutral=True)
    with translation.override("nb"):
        norwegian, neutral_nb = stamps.key("catalog:count", "v1"), stamps.key("catalog:tree", "v1", neutral=True)
    assert icelandic != norwegian
    assert neutral_is == neutral_nb


def test_templates_cache_fragments_only_with_the_language_in_the_key():
    # {% cache %} keys hold only what the template lists, and a fragment once forgot the
    # language; {% fragment %} always adds it (o2o_site/templatetags/fragments.py).
    from django.conf import settings

    templates = [path for directory in settings.TEMPLATES[0]["DIRS"] for path in directory.rglob("*.html")]
    assert templates
    using_cache = [
        str(path) for path in templates if re.search(r"{%\s*(load\b[^%]*\bcache\b|cache\s)", path.read_text())
    ]
    assert not using_cache


def test_one_page_body_serves_every_login_and_cart_each_with_its_own_nav(shop):
    # given a guest with an empty cart has opened the home page (rendered and kept)
    guest = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert guest.get("/")["X-Page-Cache"] == "miss"
    # and a logged-in shopper with three units in the cart
    member = Client(HTTP_ACCEPT_LANGUAGE="en")
    member.force_login(shop["shopper"])
    session = member.session
    session[CART_SESSION_KEY] = {str(shop["products"][0].pk): 3}
    session.save()

    # when the member opens the same page
    response = member.get("/")

    # then the body kept for the guest serves them (only their nav rendered, once in this process),
    # with their own nav: their cart and the log-out form with their own CSRF token
    assert response["X-Page-Cache"] == "hit"
    assert [template.name for template in response.templates] in ([], ["includes/site_nav.html"])
    page = response.content.decode()
    assert "Cart (3 items)" in page and "Log out" in page and "Log in" not in page
    token = member.cookies["csrftoken"].value
    assert page.count('name="csrfmiddlewaretoken"') == 2  # the language form's and the log-out form's
    assert "csrfPlaceholder" not in page and "siteNavPlaceholder" not in page
    assert token and all(len(value) == 64 for value in re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))


def test_a_page_that_fills_its_stores_parts_is_one_body_for_every_store(rf, shop):
    # given a view whose body is the same for every store, with a placeholder for the store's part
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpResponse

    from o2o_site.cache.pages import SharedPage, shared_page

    builds = []

    @shared_page
    def view(request, store):
        def build(extra_context):
            builds.append(store.pk)
            return HttpResponse(f"<p>storePart9Xk</p>{extra_context['shared_nav']}".encode())

        return SharedPage(
            stamps=("test:fill",),
            store=store,
            build=build,
            fill=lambda body: body.replace(b"storePart9Xk", store.name.encode()),
        )

    def ask(store):
        request = rf.get("/fill-test/")
        request.session, request.user = SessionStore(), AnonymousUser()
        return view(request, store)

    reykjavik, oslo = shop["stores"]

    # when a shopper of each store asks for it
    first, second = ask(reykjavik), ask(oslo)

    # then it was rendered once, and each got their own store's part and nav
    assert builds == [reykjavik.pk]
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert first.content.startswith(b"<p>Laugavegur</p>") and b"My store: Laugavegur" in first.content
    assert second.content.startswith(b"<p>Karl Johans gate</p>") and b"My store: Karl Johans gate" in second.content


def test_a_page_rendered_with_a_message_waiting_has_its_stores_parts_filled(shop):
    # given a shopper of a store with a message waiting (as after choosing a store, or signing up)
    reykjavik, _oslo = shop["stores"]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post(reverse("stores:choose_store"), {"store_id": reykjavik.pk, "next": "/?category=clothing"})

    # when the list page shows it (rendered for them alone, not from the cache)
    response = client.get("/?category=clothing")
    page = response.content.decode()

    # then the message is there, and so are their store's parts: no placeholder left
    assert "Laugavegur is now your store." in page
    assert "Only in stock at Laugavegur" in page and "in stock at Laugavegur" in page
    assert not re.search(r"(storeLabel|stockLine|siteNav|csrfPlaceholder)[0-9a-f]{16}", page)


@pytest.mark.parametrize("name", ["siteNav", "csrfPlaceholder", "stockLine", "storeLabel", "pdpPart", "menuTail"])
def test_nothing_a_shopper_types_is_taken_for_a_placeholder(shop, name):
    # given the placeholders the code names, as someone without the SECRET_KEY could make them
    with override_settings(SECRET_KEY="not-this-shops-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"):
        guessed = stamps.marker(name)
    assert guessed != stamps.marker(name) and re.fullmatch(r"[A-Za-z0-9]+", stamps.marker(name))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.get("/")  # the shopper has a CSRF cookie

    # when a shopper searches for one, or puts it in any parameter a page echoes
    for address in (f"/?q={guessed}", f"/?zzz={guessed}", f"{shop['products'][1].get_absolute_url()}?zzz={guessed}"):
        page = client.get(address).content.decode()

        # then the page shows what they typed where it echoes it, and nothing was put in its place
        assert guessed in page, address
        assert page.count('class="site-nav"') == 1, address
        assert client.cookies["csrftoken"].value not in page, address


def test_a_store_renamed_shows_at_once_on_every_page_that_names_it(shop, django_capture_on_commit_callbacks):
    # given a shopper of Laugavegur who has seen a product page and the list, in the store
    from instore.context import link_path
    from stores.services import stores_changed

    reykjavik, _oslo = shop["stores"]
    product = shop["products"][1]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.get(link_path(store=reykjavik))
    for address in (product.get_absolute_url(), "/"):
        assert "You are in Laugavegur" in client.get(address).content.decode()
    shopper = Client(HTTP_ACCEPT_LANGUAGE="en")
    session = shopper.session
    session[MY_STORE_SESSION_KEY] = reykjavik.pk
    session.save()
    assert "at Laugavegur" in shopper.get(product.get_absolute_url()).content.decode()

    # when the store is renamed (the admin's save calls stores_changed)
    with django_capture_on_commit_callbacks(execute=True):
        reykjavik.name = "Laugavegur 77"
        reykjavik.save()
        stores_changed()

    # then the next page names it so: the product page's store parts and the in-store banner
    page = shopper.get(product.get_absolute_url()).content.decode()
    assert "at Laugavegur 77" in page and not re.search(r"at Laugavegur(?! 77)", page)
    for address in (product.get_absolute_url(), "/"):
        assert "You are in Laugavegur 77" in client.get(address).content.decode(), address
