"""The product list's shared HTML (storefront/listing_html.py): the category menu rendered once
and given each page's filters, and product cards rendered once for every page showing them;
neither ever shows a stale price or stock."""

import re
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.http import QueryDict
from django.template.defaulttags import querystring
from django.test import RequestFactory
from django.urls import reverse
from django.utils.html import escape

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory
from o2o_site.cache import stamps
from o2o_site.money import format_money
from stores import services as stock
from stores.selectors import MY_STORE_SESSION_KEY
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("catalog:product_list")


@pytest.fixture
def tree():
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    CategoryFactory(name="Knitwear", slug="knitwear", parent=clothing)
    CategoryFactory(name="Food", slug="food")


@pytest.mark.parametrize(
    "address",
    [
        "",
        "q=hat",
        "q=hat&sort=price",
        "available=1&category=knitwear&max_price=5000",
        "category=knitwear&q=h%C3%BAfa+%26+vettlingar&sort=-price",
        "a=1&b=2&b=3&category=food&size=m&size=l",
    ],
)
def test_each_menu_link_is_what_the_querystring_tag_makes_of_the_page_filters(client, tree, address):
    # given a list page's address (its parameters sorted, as the shared page sorts them)
    filters = QueryDict(address)

    # when two pages with other filters rendered the menu first, then this one is shown
    client.get(LIST_URL, {"q": "something else"})
    client.get(LIST_URL, {"sort": "name"})
    html = client.get(f"{LIST_URL}?{address}&page=1").content.decode()

    # then every category's link keeps this page's filters exactly as {% querystring %} does
    for slug in ("clothing", "knitwear", "food"):
        href = escape(querystring({}, filters, category=slug))
        assert html.count(f'href="{href}"') == 2, (slug, href)  # the phone menu and the sidebar
    everything = escape(LIST_URL + querystring({}, filters, category=None))
    assert len(re.findall(f'href="{re.escape(everything)}"[^>]*>All products</a>', html)) == 2


def test_the_current_category_is_marked_in_its_own_menu_only(client, tree):
    # when the knitwear page and then the food page are shown
    knitwear = client.get(LIST_URL, {"category": "knitwear"}).content.decode()
    food = client.get(LIST_URL, {"category": "food"}).content.decode()

    # then each marks its own category
    assert 'aria-current="true" class="is-current">Knitwear</a>' in knitwear
    assert 'aria-current="true" class="is-current">Food</a>' in food
    assert 'class="is-current">Knitwear' not in food


def test_a_card_is_rendered_once_for_every_page_and_shows_each_stores_units(client):
    # given mittens in stock at two stores, a shopper of each
    mittens = ProductFactory(name="Lopi mittens", slug="lopi-mittens", price=Decimal("4990"))
    reykjavik, akureyri = StoreFactory(name="Laugavegur"), StoreFactory(name="Glerártorg")
    StockLevelFactory(store=reykjavik, product=mittens, on_hand=3)
    StockLevelFactory(store=akureyri, product=mittens, on_hand=0)
    session = client.session
    session[MY_STORE_SESSION_KEY] = reykjavik.pk
    session.save()

    # when the list is shown to one, then a search to the other
    listed = client.get(LIST_URL).content.decode()
    card_key = stamps.key("catalog:card", stamps.versions(stamps.CATALOG)[stamps.CATALOG], mittens.pk)
    assert stamps.fragments().get(card_key) is not None
    other = type(client)()
    session = other.session
    session[MY_STORE_SESSION_KEY] = akureyri.pk
    session.save()
    searched = other.get(LIST_URL, {"q": "mittens"}).content.decode()

    # then each sees the card with their own store's units
    assert "3 in stock at Laugavegur" in listed
    assert "Out of stock at Glerártorg" in searched and "Laugavegur" not in card_of(searched)


def card_of(html):
    return re.search(r'<article class="product-card".*?</article>', html, re.S).group(0)


def test_a_shared_card_shows_a_new_price_and_stock_at_once(client, admin_user, django_capture_on_commit_callbacks):
    # given the mittens' card rendered on the list and on a search, 3 at my store
    mittens = ProductFactory(name="Lopi mittens", slug="lopi-mittens", price=Decimal("4990"))
    store = StoreFactory(name="Laugavegur")
    StockLevelFactory(store=store, product=mittens, on_hand=3)
    session = client.session
    session[MY_STORE_SESSION_KEY] = store.pk
    session.save()
    assert format_money(Decimal("4990")) in card_of(client.get(LIST_URL).content.decode())
    assert "3 in stock" in card_of(client.get(LIST_URL, {"q": "mittens"}).content.decode())

    # when a manager lowers the price in the admin, and two are reserved
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    mittens.price = Decimal("3990")
    with django_capture_on_commit_callbacks(execute=True):
        site._registry[Product].save_model(request, mittens, form=None, change=True)
        stock.reserve_stock(store=store, quantities={mittens.pk: 2})

    # then both pages show the new price and the one left
    for card in (
        card_of(client.get(LIST_URL).content.decode()),
        card_of(client.get(LIST_URL, {"q": "mittens"}).content.decode()),
    ):
        assert format_money(Decimal("3990")) in card and format_money(Decimal("4990")) not in card
        assert "1 in stock at Laugavegur" in card


def test_a_list_page_kept_once_for_every_store_shows_each_shopper_their_own_stores_parts():
    # given a sweater with sizes (its units are its sizes' for sale), mittens sold out at one of
    # two stores, and shoppers of each store and of none, in two languages
    from django.core.cache import caches
    from django.test import Client

    from catalog import services as catalog_services
    from catalog.tests.factories import sizes

    small, medium = sizes("S", "M")
    sweater = ProductFactory(name="Lopapeysa", slug="lopapeysa", price=Decimal("24990"))
    sweater_s = catalog_services.create_variant(parent=sweater, sku="LOPI-S", values=[small])
    sweater_m = catalog_services.create_variant(parent=sweater, sku="LOPI-M", values=[medium])
    mittens = ProductFactory(name="Lopi mittens", slug="lopi-mittens", price=Decimal("4990"))
    reykjavik, akureyri = StoreFactory(name="Laugavegur"), StoreFactory(name="Glerártorg & co")
    StockLevelFactory(store=reykjavik, product=sweater_s, on_hand=2)
    StockLevelFactory(store=reykjavik, product=sweater_m, on_hand=3, reserved=1)
    StockLevelFactory(store=akureyri, product=sweater_m, on_hand=1)
    StockLevelFactory(store=reykjavik, product=mittens, on_hand=0)
    StockLevelFactory(store=akureyri, product=mittens, on_hand=5)
    shoppers = []
    for language in ("en", "is"):
        for store in (None, reykjavik, akureyri):
            shopper = Client(HTTP_ACCEPT_LANGUAGE=language)
            if store is not None:
                session = shopper.session
                session[MY_STORE_SESSION_KEY] = store.pk
                session.save()
            shoppers.append(shopper)
    pages = ["/", "/?q=lopi", "/?available=1", "/?size=m", "/?available=1&size=s", "/?sort=price&available=1"]

    # when each opens each page, served from the cache after the first of each language
    served = {(page, index): _masked(shopper.get(page)) for page in pages for index, shopper in enumerate(shoppers)}

    # then each got what a fresh render gives them
    for page in pages:
        for index, shopper in enumerate(shoppers):
            caches["template_fragments"].clear()
            assert _masked(shopper.get(page)) == served[page, index], (page, index)
    assert not [key for key, html in served.items() if b"stockLine" in html or b"storeLabel" in html]
    home = {index: served["/", index].decode() for index in range(3)}  # in English
    assert "Only in stock at my store" in home[0] and 'data-testid="availability"' not in home[0]
    assert "4 in stock at Laugavegur" in home[1] and "Out of stock at Laugavegur" in home[1]
    assert "1 in stock at Glerártorg &amp; co" in home[2] and "5 in stock at Glerártorg &amp; co" in home[2]
    assert "Only in stock at Glerártorg &amp; co" in home[2]


def _masked(response):
    assert response.status_code == 200
    return re.sub(rb'(name="csrfmiddlewaretoken" value=")[^"]+', rb"\1TOKEN", response.content)


# includes/product_card.html as the template rendered each card (commit e8f60fe), before
# listing_html._card put each card's values into it rendered once: the reference the cards keep.
CARD_AS_RENDERED = (
    "{% load i18n money %}\n"
    '<article class="product-card" data-testid="product-card" data-sku="{{ product.sku }}">\n'
    '  <a class="product-card__image" href="{{ url }}" tabindex="-1" aria-hidden="true">\n'
    "    {% with image=product.first_images|first %}\n"
    "      {% if image %}\n"
    '        <img src="{% if image.thumbnail %}{{ image.thumbnail.url }}{% else %}{{ image.image.url }}{%'
    ' endif %}" alt="" loading="lazy" width="400" height="400">\n'
    "      {% else %}\n"
    '        <span class="placeholder">{{ name|slice:":1"|upper }}</span>\n'
    "      {% endif %}\n"
    "    {% endwith %}\n"
    "  </a>\n"
    '  <div class="product-card__body">\n'
    '    <h2 class="product-card__name"><a href="{{ url }}" data-testid="product-link">{{ name }}</a></h2>\n'
    '    <p class="price" data-testid="price">{{ product.price|money }}</p>\n'
    "    {{ stock_line }}\n"
    "  </div>\n"
    "</article>\n"
)


@pytest.mark.parametrize("language", ["en", "is", "nb"])
def test_each_card_is_what_the_card_template_rendered(language):
    # given products with names to escape, initials to upper-case, and each kind of picture
    from django.template import Context, Template
    from django.utils import translation

    from catalog.models import ProductImage
    from catalog.selectors import with_first_images
    from storefront.listing_html import STOCK_LINE, _card

    plain = ProductFactory(name="úlpa <b>&</b> \"hat\" 'x'", slug="ulpa", price=Decimal("4990"))
    pictured = ProductFactory(name="Lopi mittens", slug="lopi", price=Decimal("1234567"), sku="A&B<1>")
    ProductImage.objects.create(product=pictured, image="products/1/a b&c.png", position=0)
    thumbed = ProductFactory(name="ýsa", name_is="Ýsa", name_nb="Hyse", slug="ysa", price=Decimal("990.00"))
    ProductImage.objects.create(product=thumbed, image="products/2/big.png", thumbnail="products/2/thumbs/s m.jpg")
    ProductImage.objects.create(product=thumbed, image="products/2/second.png", position=1)
    nameless = ProductFactory(name="", slug="nameless")
    products = list(Product.objects.filter(pk__in=[plain.pk, pictured.pk, thumbed.pk, nameless.pk]))
    with_first_images(products)

    # when each card is made, then it is what the template rendered
    with translation.override(language):
        for product in products:
            rendered = Template(CARD_AS_RENDERED).render(
                Context(
                    {
                        "product": product,
                        "url": product.get_absolute_url(),
                        "name": product.name,
                        "stock_line": STOCK_LINE,
                    }
                )
            )
            assert _card(product) == rendered, product.slug


@pytest.mark.parametrize("language", ["en", "is", "nb"])
def test_each_categorys_menu_is_what_the_templates_render_for_it(language, tree):
    # given the tree (a category with a child, another without; a slug a link must quote)
    from django.template.loader import render_to_string
    from django.utils import translation
    from django.utils.safestring import mark_safe

    from catalog.selectors import category_tree
    from storefront import listing_html

    CategoryFactory(name="Ull & prjón", slug="ull-og-prjon")
    filters = QueryDict("q=h%C3%BAfa&sort=price&category=food")
    with translation.override(language):
        version = stamps.versions(stamps.CATALOG)[stamps.CATALOG]
        categories = category_tree(version)
        for category in [None, *(categories.get(slug) for slug in ("clothing", "knitwear", "food", "ull-og-prjon"))]:
            # when its menu is made from the tree every category's menu shares
            shared = listing_html.category_menu(
                roots=categories.roots, category=category, filters=filters, catalog_version=version
            )

            # then it is what the templates render with it current, byte for byte
            menu = render_to_string(
                "includes/category_menu.html",
                {
                    "category_roots": categories.roots,
                    "category": category,
                    "menu_head": "q=h%C3%BAfa&sort=price&",
                    "menu_tail": "",
                    "menu_all": "?q=h%C3%BAfa&sort=price",
                },
            )
            expected = render_to_string(
                "includes/category_menu_block.html", {"category": category, "menu": mark_safe(menu)}
            )
            assert shared == expected, category
            assert shared.count('class="is-current"') == 2  # the phone menu's and the sidebar's
