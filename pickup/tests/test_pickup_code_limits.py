"""Guessing a pickup code at the counter: random codes, few tries, every try on record."""

import collections
import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from zeal import zeal_ignore

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from orders.models import OrderActivity, OrderEvent, OrderStatus
from orders.tests.factories import place_order
from pickup.models import PickupCodeAttempt
from pickup.selectors import pickup_of
from pickup.services import (
    MAX_FAILURES_PER_ORDER,
    MAX_FAILURES_PER_USER,
    PICKUP_CODE_DIGITS,
    PickupCodeLocked,
    WrongPickupCode,
    collect_order,
    mark_ready_for_pickup,
    new_pickup_code,
    reset_pickup_code_lock,
)
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", slug="laugavegur")


@pytest.fixture
def grunerlokka():
    return StoreFactory(name="Grünerløkka", slug="grunerlokka", city="Oslo", country="NO", time_zone="Europe/Oslo")


@pytest.fixture
def mittens(laugavegur, grunerlokka):
    product = ProductFactory(name="Lopi mittens", price=Decimal("4990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=500)
    StockLevelFactory(store=grunerlokka, product=product, on_hand=500)
    return product


def ready_order(store, product):
    order = place_order(store=store, products_and_quantities=[(product, 1)])
    return mark_ready_for_pickup(order=order)


@pytest.fixture
def order(laugavegur, mittens):
    return ready_order(laugavegur, mittens)


@pytest.fixture
def clerk(laugavegur):
    return StoreManagerFactory(username="clerk", stores=[laugavegur])


def wrong_code(order):
    return f"{(int(pickup_of(order).code) + 1) % 10**PICKUP_CODE_DIGITS:0{PICKUP_CODE_DIGITS}d}"


def guess_wrong(order, by, times):
    for _ in range(times):
        with pytest.raises(WrongPickupCode):
            collect_order(order=order, code=wrong_code(order), by=by)


def test_pickup_codes_are_six_random_digits_unrelated_to_the_order_number(laugavegur, mittens):
    # given many orders
    orders = [place_order(store=laugavegur, products_and_quantities=[(mittens, 1)]) for _ in range(200)]

    # then every code is exactly six digits, never the digits of its order number
    codes = [pickup_of(order).code for order in orders]
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    for order in orders:
        number_digits = "".join(character for character in order.number if character.isdigit())
        assert pickup_of(order).code != number_digits
        assert pickup_of(order).code not in order.number
    # and codes hardly ever repeat (a birthday collision among 200 of a million is ~2%)
    assert len(set(codes)) >= 199


def test_pickup_code_digits_are_spread_evenly():
    # given 5,000 codes, 30,000 digits
    digits = collections.Counter("".join(new_pickup_code() for _ in range(5000)))

    # then each digit appears about 3,000 times: a chi-square with 9 degrees of freedom far
    # beyond 27.9 (p = 0.001) would mean the codes are not uniform
    expected = 30000 / 10
    chi_square = sum((digits[str(digit)] - expected) ** 2 / expected for digit in range(10))
    assert chi_square < 27.9
    # and the first digit is not fixed (no codes that all start alike)
    assert len({new_pickup_code()[0] for _ in range(200)}) == 10


def test_every_attempt_is_recorded_with_who_where_and_whether_it_matched(order, clerk):
    # when the clerk types a wrong code, then the right one
    with pytest.raises(WrongPickupCode):
        collect_order(order=order, code="000000" if pickup_of(order).code != "000000" else "111111", by=clerk)
    collect_order(order=order, code=pickup_of(order).code, by=clerk, ip_address="192.0.2.7")

    # then both attempts are on record, the failed one too
    attempts = list(PickupCodeAttempt.objects.filter(order=order).select_related("user").order_by("at", "pk"))
    assert [(a.user, a.succeeded, a.refused_as_locked) for a in attempts] == [
        (clerk, False, False),
        (clerk, True, False),
    ]
    assert attempts[1].ip_address == "192.0.2.7"
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED


def test_the_message_counts_down_the_tries_left(order, clerk):
    with pytest.raises(WrongPickupCode) as first:
        collect_order(order=order, code=wrong_code(order), by=clerk)
    assert "4 tries left" in str(first.value)


def test_five_wrong_codes_lock_the_order_even_against_the_right_code(order, clerk, laugavegur, mittens):
    # given five wrong codes for the order
    guess_wrong(order, clerk, MAX_FAILURES_PER_ORDER)

    # when someone then types the right code
    with pytest.raises(PickupCodeLocked) as locked:
        collect_order(order=order, code=pickup_of(order).code, by=StoreManagerFactory(stores=[laugavegur]))

    # then it is refused: the order waits with its units reserved, and the refusal is recorded
    assert "locked" in str(locked.value)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert StockLevel.objects.get(store=laugavegur, product=mittens).reserved == 1
    assert PickupCodeAttempt.objects.filter(order=order, refused_as_locked=True).count() == 1


def test_the_stores_manager_resets_the_lock_and_the_timeline_says_who(order, clerk, laugavegur):
    # given a locked order and a manager of its store (the "Store managers" group, nothing more)
    guess_wrong(order, clerk, MAX_FAILURES_PER_ORDER)
    head = StoreManagerFactory(username="head", stores=[laugavegur])

    # when the manager resets the lock
    cleared = reset_pickup_code_lock(order=order, by=head)

    # then the five failures are cleared but kept, the order's timeline names the manager, and the
    # right code now hands it over
    assert cleared == MAX_FAILURES_PER_ORDER
    assert PickupCodeAttempt.objects.filter(order=order, cleared_by=head).count() == MAX_FAILURES_PER_ORDER
    reset = OrderEvent.objects.get(order=order, kind=OrderActivity.PICKUP_LOCK_RESET)
    assert reset.actor == head
    assert "5 wrong pickup codes cleared" in reset.note
    collect_order(order=order, code=pickup_of(order).code, by=clerk)
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED


def test_only_a_manager_of_that_store_may_reset(order, clerk, grunerlokka, laugavegur):
    guess_wrong(order, clerk, MAX_FAILURES_PER_ORDER)
    other_store_head = StoreManagerFactory(stores=[grunerlokka])
    # staff linked to the store but outside the managers group (no permission)
    helper = UserFactory(is_staff=True)
    laugavegur.managers.add(helper)

    # when another store's manager and a staff member without the permission try to reset it
    with pytest.raises(PermissionDenied):
        reset_pickup_code_lock(order=order, by=other_store_head)
    with zeal_ignore(), pytest.raises(PermissionDenied):  # a second user's permissions: not an N+1
        reset_pickup_code_lock(order=order, by=helper)

    # then the order stays locked, and nothing is on its timeline
    with pytest.raises(PickupCodeLocked):
        collect_order(order=order, code=pickup_of(order).code, by=clerk)
    assert not OrderEvent.objects.filter(order=order, kind=OrderActivity.PICKUP_LOCK_RESET).exists()


def test_twenty_wrong_codes_across_orders_lock_the_clerk_out_for_an_hour(laugavegur, mittens, clerk):
    # given the clerk typed wrong codes for many orders, four each (never locking one order)
    orders = [ready_order(laugavegur, mittens) for _ in range(MAX_FAILURES_PER_USER // 4)]
    for each in orders:
        guess_wrong(each, clerk, 4)
    fresh = ready_order(laugavegur, mittens)

    # when the clerk types the right code for a fresh order
    with pytest.raises(PickupCodeLocked) as locked:
        collect_order(order=fresh, code=pickup_of(fresh).code, by=clerk)

    # then they are refused, while a colleague can hand the same order over
    assert "within an hour" in str(locked.value)
    collect_order(order=fresh, code=pickup_of(fresh).code, by=StoreManagerFactory(stores=[laugavegur]))

    # and an hour later the clerk may collect again
    PickupCodeAttempt.objects.filter(user=clerk).update(at=timezone.now() - datetime.timedelta(hours=1, minutes=1))
    later = ready_order(laugavegur, mittens)
    collect_order(order=later, code=pickup_of(later).code, by=clerk)


# The admin's collect screen and the reset action.


def collect_url(order):
    return reverse("admin:orders_order_collect", args=[order.pk])


def test_the_collect_screen_locks_after_five_wrong_codes_and_logs_the_ip(client, order, clerk):
    client.force_login(clerk)

    # when the clerk posts five wrong codes and then the right one
    for _ in range(MAX_FAILURES_PER_ORDER):
        client.post(
            collect_url(order), {"code": wrong_code(order), "till_receipt_number": "4711"}, REMOTE_ADDR="198.51.100.4"
        )
    last = client.post(
        collect_url(order), {"code": pickup_of(order).code, "till_receipt_number": "4711"}, REMOTE_ADDR="198.51.100.4"
    )

    # then the screen says it is locked and offers no form; the order was not handed over
    page = last.content.decode()
    assert last.status_code == 200
    assert 'data-testid="pickup-locked"' in page
    assert 'data-testid="collect-form"' not in page
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    assert set(PickupCodeAttempt.objects.filter(order=order).values_list("ip_address", flat=True)) == {"198.51.100.4"}


def action_names(client, changelist):
    return [name for name, _label in client.get(changelist).context["action_form"].fields["action"].choices]


def test_the_stores_manager_resets_the_lock_from_the_order_page(client, order, clerk, laugavegur):
    # given an order locked by the store's manager's own five wrong codes on the collect screen
    client.force_login(clerk)
    for _ in range(MAX_FAILURES_PER_ORDER):
        client.post(collect_url(order), {"code": wrong_code(order), "till_receipt_number": "4711"})
    change = reverse("admin:orders_order_change", args=[order.pk])

    # then the order page shows the lock and, beside it, the reset; the collect screen too
    page = client.get(change).content.decode()
    assert 'data-testid="pickup-locked"' in page
    assert 'data-testid="reset-pickup-lock"' in page
    assert 'data-testid="reset-pickup-lock"' in client.get(collect_url(order)).content.decode()

    # when the manager resets it from the order page
    response = client.post(reverse("admin:orders_order_reset_pickup_lock", args=[order.pk]))

    # then the order page offers the hand-over again and its timeline says who reset it
    assert response.status_code == 302
    page = client.get(change).content.decode()
    assert 'data-testid="pickup-locked"' not in page
    assert 'data-testid="hand-over-form"' in page
    assert OrderEvent.objects.get(order=order, kind=OrderActivity.PICKUP_LOCK_RESET).actor == clerk
    assert 'data-testid="collect-form"' in client.get(collect_url(order)).content.decode()


def test_the_reset_is_not_on_the_shoppers_order_page(client, order, clerk):
    guess_wrong(order, clerk, MAX_FAILURES_PER_ORDER)
    reset_pickup_code_lock(order=order, by=clerk)

    page = client.get(order.get_absolute_url()).content.decode()

    assert str(OrderActivity.PICKUP_LOCK_RESET.label) not in page
    assert "wrong pickup codes cleared" not in page


def test_another_stores_manager_cannot_reset_the_lock(client, order, clerk, grunerlokka):
    guess_wrong(order, clerk, MAX_FAILURES_PER_ORDER)
    client.force_login(StoreManagerFactory(stores=[grunerlokka]))

    # the button's address and the list's action find nothing to reset
    response = client.post(reverse("admin:orders_order_reset_pickup_lock", args=[order.pk]))
    client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "reset_pickup_code_lock", ACTION_CHECKBOX_NAME: [order.pk]},
    )

    assert response.status_code == 404
    assert PickupCodeAttempt.objects.filter(order=order).failures_counting_towards_lock().count() == 5


def test_the_lists_reset_action_is_offered_to_the_stores_manager(client, order, clerk):
    guess_wrong(order, clerk, MAX_FAILURES_PER_ORDER)
    changelist = reverse("admin:orders_order_changelist")
    client.force_login(clerk)

    assert "reset_pickup_code_lock" in action_names(client, changelist)
    client.post(changelist, {"action": "reset_pickup_code_lock", ACTION_CHECKBOX_NAME: [order.pk]})

    assert 'data-testid="collect-form"' in client.get(collect_url(order)).content.decode()


def test_managers_see_their_stores_attempts_in_the_admin_and_not_others(client, order, clerk, grunerlokka, mittens):
    oslo_order = ready_order(grunerlokka, mittens)
    guess_wrong(order, clerk, 1)
    guess_wrong(oslo_order, StoreManagerFactory(stores=[grunerlokka]), 1)
    client.force_login(clerk)

    response = client.get(reverse("admin:pickup_pickupcodeattempt_changelist"))

    assert response.status_code == 200
    assert [attempt.order for attempt in response.context["cl"].result_list] == [order]
    assert oslo_order.number not in response.content.decode()


def test_the_curbside_hand_over_obeys_the_same_lock(client, order, clerk):
    # given an order locked by wrong codes at the counter
    guess_wrong(order, clerk, MAX_FAILURES_PER_ORDER)
    client.force_login(clerk)

    # when staff try the right code from the curbside queue
    client.post(
        reverse("admin:orders_order_curbside_hand_over", args=[order.number]),
        {"code": pickup_of(order).code, "till_receipt_number": "4711"},
        REMOTE_ADDR="192.0.2.1",
    )

    # then the order is still waiting, and the refused try is on record with its address
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_FOR_PICKUP
    refused = PickupCodeAttempt.objects.get(order=order, refused_as_locked=True)
    assert refused.ip_address == "192.0.2.1"
