"""Every form that changes something carries a CSRF token, and posting without one is refused.

The pages are crawled as a shopper and as a store manager would see them; each POST form found
is checked for the token and then posted from a client that enforces CSRF, without the token.
"""

import re
from decimal import Decimal
from urllib.parse import urljoin

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from o2o_site.tests.test_security_headers import inline_code
from orders.tests.factories import place_order
from pickup import curbside
from pickup.models import CurbsideVisit
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

POST_FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S | re.I)
ACTION = re.compile(r'\baction="(?P<action>[^"]*)"', re.I)
CSRF_INPUT = re.compile(r'<input[^>]+name="csrfmiddlewaretoken"[^>]+value="[^"]{20,}"', re.I)


def post_forms(html, page_url):
    """(action URL, form HTML) of every form on the page that posts."""
    found = []
    for form in POST_FORM.finditer(html):
        if 'method="post"' not in form.group("attrs").lower():
            continue
        action = ACTION.search(form.group("attrs"))
        found.append((urljoin(page_url, action.group("action") if action else "") or page_url, form.group(0)))
    return found


@pytest.fixture
def shop():
    store = StoreFactory(name="Laugavegur", slug="laugavegur")
    mittens = ProductFactory(name="Lopi mittens", slug="lopi-mittens", price=Decimal("4990"))
    StockLevelFactory(store=store, product=mittens, on_hand=20)
    order = place_order(store=store, products_and_quantities=[(mittens, 1)])
    ready = place_order(store=store, products_and_quantities=[(mittens, 1)])
    mark_ready_for_pickup(order=ready)
    return {"store": store, "product": mittens, "order": order, "ready": ready}


def shopper_pages(client, shop):
    """The shop's pages a shopper sees, with something in the cart (and no store chosen yet)."""
    client.post(reverse("checkout:cart_add"), {"product_id": shop["product"].pk, "quantity": 1})
    pages = [
        reverse("catalog:product_list"),
        reverse("catalog:product_detail", args=[shop["product"].slug]),
        reverse("stores:store_list"),
        reverse("stores:store_detail", args=[shop["store"].slug]),
        reverse("checkout:cart"),
        reverse("checkout:checkout"),
        shop["order"].get_absolute_url(),
        reverse("accounts:login"),
        reverse("accounts:signup"),
    ]
    return pages


def manager_pages(shop):
    order, ready = shop["order"], shop["ready"]
    return [
        reverse("admin:index"),
        reverse("admin:orders_order_changelist"),
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:orders_order_collect", args=[ready.pk]),
        reverse("admin:stores_stocklevel_changelist"),
        reverse("admin:pickup_pickupcodeattempt_changelist"),
        reverse("admin:password_change"),
        reverse("admin:orders_order_curbside_queue"),
    ]


def collect_forms(client, pages):
    forms = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        for action, form in post_forms(response.content.decode(), url):
            forms.setdefault((url, action), form)
    return forms


def test_every_shopper_form_has_a_token_and_no_page_has_inline_code(client, shop):
    # given a shopper's session, and a logged-in shopper's account pages
    pages = shopper_pages(client, shop)
    forms = collect_forms(client, pages)
    client.force_login(UserFactory(username="anna"))
    forms |= collect_forms(client, [reverse("accounts:orders"), reverse("catalog:product_list")])

    # then there are forms that post (cart, store choice, checkout, login, sign up, log out)…
    actions = {action for _page, action in forms}
    expected = {"checkout:cart_add", "checkout:checkout", "stores:choose_store", "accounts:login", "accounts:signup"}
    assert {reverse(name) for name in expected | {"accounts:logout"}} <= actions
    # …and every one carries the token
    missing = [key for key, form in forms.items() if not CSRF_INPUT.search(form)]
    assert missing == []
    # and no page has inline scripts, event handlers or style attributes a strict CSP would block
    for url in pages:
        assert inline_code(client.get(url).content.decode()) == [], url


def test_every_admin_form_a_manager_uses_has_a_token(client, shop):
    client.force_login(StoreManagerFactory(username="gudrun", stores=[shop["store"]]))
    forms = collect_forms(client, manager_pages(shop))

    assert len(forms) >= 5
    assert [key for key, form in forms.items() if not CSRF_INPUT.search(form)] == []


def test_posting_any_shopper_form_without_the_token_is_refused(client, shop):
    # given every form found on the shopper's pages
    forms = collect_forms(client, shopper_pages(client, shop))
    attacker = Client(enforce_csrf_checks=True)
    attacker.force_login(UserFactory(username="anna"))

    # when each is posted from another site's page (no token), with plausible values
    statuses = {
        action: attacker.post(
            action,
            {
                "product_id": shop["product"].pk,
                "quantity": 1,
                "store_id": shop["store"].pk,
                "store": shop["store"].pk,
                "username": "anna",
                "password": "x",
            },
        ).status_code
        for _page, action in forms
    }

    # then every one is refused
    assert statuses and set(statuses.values()) == {403}, statuses


@pytest.mark.parametrize(
    "name",
    [
        "checkout:cart_add",
        "checkout:cart_update",
        "checkout:checkout",
        "stores:choose_store",
        "accounts:login",
        "accounts:logout",
        "accounts:signup",
        "set_language",
        "admin:login",
        "admin:logout",
    ],
)
def test_state_changing_urls_refuse_a_post_without_the_token(shop, name):
    attacker = Client(enforce_csrf_checks=True)
    attacker.force_login(UserFactory(username="anna"))
    assert attacker.post(reverse(name), {"quantity": 1, "product_id": shop["product"].pk}).status_code == 403


def test_admin_actions_and_the_collect_screen_refuse_a_post_without_the_token(shop):
    # given a signed-in manager whose browser is tricked into posting
    manager_browser = Client(enforce_csrf_checks=True)
    manager_browser.force_login(StoreManagerFactory(username="gudrun", stores=[shop["store"]]))
    order, ready = shop["order"], shop["ready"]

    # when another site posts "mark ready" and a pickup code for them
    action = manager_browser.post(
        reverse("admin:orders_order_changelist"),
        {"action": "mark_ready_for_pickup", ACTION_CHECKBOX_NAME: [order.pk]},
    )
    collect = manager_browser.post(
        reverse("admin:orders_order_collect", args=[ready.pk]), {"code": pickup_of(ready).code}
    )

    # then both are refused and nothing moved
    assert (action.status_code, collect.status_code) == (403, 403)
    order.refresh_from_db()
    ready.refresh_from_db()
    assert (order.status, ready.status) == ("placed", "ready_for_pickup")


def test_the_curbside_check_in_and_the_curb_hand_over_refuse_a_post_without_the_token(shop):
    # given a curbside order ready at Laugavegur, the shopper's check-in link, and a signed-in manager
    PickupSettingsFactory(store=shop["store"])
    order = mark_ready_for_pickup(
        order=place_curbside_order(store=shop["store"], products_and_quantities=[(shop["product"], 1)])
    )
    shopper_browser = Client(enforce_csrf_checks=True)
    manager_browser = Client(enforce_csrf_checks=True)
    manager_browser.force_login(StoreManagerFactory(username="gudrun", stores=[shop["store"]]))

    # when another site posts "I'm here" to the shopper's link, and a hand-over for the manager
    arrived = shopper_browser.post(curbside.check_in_path(order), {"action": "arrived", "bay": "1"})
    on_the_way = shopper_browser.post(curbside.check_in_path(order), {"action": "on_the_way", "eta_minutes": "5"})
    handed_over = manager_browser.post(
        reverse("admin:orders_order_curbside_hand_over", args=[order.number]),
        {"code": pickup_of(order).code, "store": shop["store"].slug},
    )

    # then all are refused and nothing happened
    assert (arrived.status_code, on_the_way.status_code, handed_over.status_code) == (403, 403, 403)
    assert not CurbsideVisit.objects.filter(fulfilment__order=order).exists()
    order.refresh_from_db()
    assert order.status == "ready_for_pickup"
