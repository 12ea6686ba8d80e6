"""Curbside pickup: the signed check-in link, "On my way", "I'm here", the staff queue and the
hand-over at the car."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory, UserFactory
from catalog.tests.factories import ProductFactory
from orders.models import OrderActivity, OrderEvent, OrderStatus
from orders.tests.factories import place_order
from pickup import curbside
from pickup.models import CurbsideState, CurbsideVisit
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from pickup.tests.factories import PickupSettingsFactory, place_curbside_order
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    laugavegur = StoreFactory(name="Laugavegur", slug="laugavegur")
    PickupSettingsFactory(store=laugavegur, curbside_bays=4)
    return laugavegur


@pytest.fixture
def mittens(store):
    product = ProductFactory(name="Lopi mittens", sku="MIT-1")
    StockLevelFactory(store=store, product=product, on_hand=50)
    return product


@pytest.fixture
def manager(store):
    return StoreManagerFactory(username="gunnar", first_name="Gunnar", stores=[store])


@pytest.fixture
def ready_order(store, mittens, manager):
    order = place_curbside_order(store=store, products_and_quantities=[(mittens, 2)])
    return mark_ready_for_pickup(order=order, by=manager)


def check_in_url(order):
    return curbside.check_in_path(order)


def test_the_ready_email_of_a_curbside_order_carries_a_working_check_in_link(
    client, store, mittens, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # given a curbside order
    order = place_curbside_order(store=store, products_and_quantities=[(mittens, 1)])

    # when the store marks it ready (the e-mail goes out after commit)
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)

    # then the e-mail links to the check-in page, which opens without logging in
    [email] = mailoutbox
    link = re.search(r"(http://testserver/pickup/check-in/\S+/)", email.body).group(1)
    assert "Park in the green bays" in email.body
    html = email.alternatives[0][0]
    assert link in html
    response = client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private") or "private" in response["Cache-Control"]
    assert b'data-testid="on-the-way"' in response.content
    assert b'data-testid="im-here"' in response.content
    assert "What happens next" in response.content.decode()


def test_an_in_store_order_gets_no_check_in_link(
    store, mittens, manager, mailoutbox, django_capture_on_commit_callbacks
):
    order = place_order(store=store, products_and_quantities=[(mittens, 1)])
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order, by=manager)
    [email] = mailoutbox
    assert "check-in" not in email.body


def test_on_my_way_then_im_here_records_the_trip_and_the_timeline(client, ready_order):
    url = check_in_url(ready_order)

    # when the shopper taps "On my way" with 10 minutes, then "I'm here" in bay 3
    response = client.post(url, {"action": "on_the_way", "eta_minutes": "10"})
    assert response.status_code == 302
    visit = CurbsideVisit.objects.get(fulfilment__order=ready_order)
    assert visit.state == CurbsideState.ON_THE_WAY
    assert timedelta(minutes=9) < visit.eta - timezone.now() <= timedelta(minutes=10)

    response = client.post(url, {"action": "arrived", "bay": "3", "vehicle": "Blue Skoda"})
    assert response.status_code == 302

    # then the visit is at the curb, and the order's history says so
    visit.refresh_from_db()
    assert (visit.state, visit.bay, visit.vehicle) == (CurbsideState.ARRIVED, 3, "Blue Skoda")
    assert visit.arrived_at is not None
    kinds = list(OrderEvent.objects.filter(order=ready_order).values_list("kind", flat=True))
    assert kinds[-2:] == [OrderActivity.ON_THE_WAY, OrderActivity.ARRIVED]
    page = client.get(url).content.decode()
    assert "You are checked in" in page
    order_page = client.get(ready_order.get_absolute_url()).content.decode()
    assert 'data-step="arrived"' in order_page
    assert "Checked in at the store: Waiting at bay 3 (Blue Skoda)." in order_page


def test_checking_in_twice_keeps_one_place_in_the_queue(client, ready_order, manager):
    url = check_in_url(ready_order)

    # when the shopper taps "I'm here" twice (and then moves to bay 2)
    client.post(url, {"action": "arrived", "bay": "1"})
    first = CurbsideVisit.objects.get(fulfilment__order=ready_order).arrived_at
    client.post(url, {"action": "arrived", "bay": "1"})
    client.post(url, {"action": "arrived", "bay": "2"})

    # then there is one visit, arrived when first checked in, one "checked in" event, one queue row
    assert CurbsideVisit.objects.filter(fulfilment__order=ready_order).count() == 1
    visit = CurbsideVisit.objects.get(fulfilment__order=ready_order)
    assert (visit.arrived_at, visit.bay) == (first, 2)
    assert OrderEvent.objects.filter(order=ready_order, kind=OrderActivity.ARRIVED).count() == 1
    client.force_login(manager)
    rows = client.get(reverse("admin:orders_order_curbside_queue_rows")).content.decode()
    assert rows.count(f'data-order="{ready_order.number}"') == 1

    # and "On my way" after arriving changes nothing
    client.logout()
    client.post(url, {"action": "on_the_way", "eta_minutes": "5"})
    visit.refresh_from_db()
    assert visit.state == CurbsideState.ARRIVED


def test_a_bay_outside_the_stores_numbers_is_refused(client, ready_order):
    response = client.post(check_in_url(ready_order), {"action": "arrived", "bay": "9"}, follow=True)
    assert "Bays are numbered 1 to 4." in response.content.decode()
    assert not CurbsideVisit.objects.filter(fulfilment__order=ready_order).exists()


def _nothing_changed(order):
    return (
        not CurbsideVisit.objects.filter(fulfilment__order=order).exists()
        and not OrderEvent.objects.filter(
            order=order, kind__in=[OrderActivity.ON_THE_WAY, OrderActivity.ARRIVED]
        ).exists()
    )


def test_a_forged_check_in_link_is_refused_and_changes_nothing(client, ready_order):
    forged = reverse("pickup:check_in", kwargs={"number": ready_order.number, "signature": "1abcde:forgedsig"})
    assert client.get(forged).status_code == 404
    response = client.post(forged, {"action": "arrived", "bay": "1"})
    assert response.status_code == 404
    assert "This check-in link is not valid" in response.content.decode()
    assert _nothing_changed(ready_order)


def test_a_check_in_link_for_another_order_is_refused(client, store, mittens, manager, ready_order):
    # given the shopper's valid signature put on another order's number
    other = mark_ready_for_pickup(
        order=place_curbside_order(store=store, products_and_quantities=[(mittens, 1)], email="bjorn@example.com"),
        by=manager,
    )
    signature = curbside.check_in_signature(ready_order)
    url = reverse("pickup:check_in", kwargs={"number": other.number, "signature": signature})

    # when it is used to check in, it is refused, and neither order changes
    response = client.post(url, {"action": "arrived", "bay": "1"})
    assert response.status_code == 404
    assert _nothing_changed(other) and _nothing_changed(ready_order)


def test_the_order_page_link_cannot_be_used_to_check_in(client, ready_order):
    # a signature made for another purpose (the order page's salt) is not a check-in signature
    order_signature = ready_order.access_token.split(":", 1)[1]
    url = reverse("pickup:check_in", kwargs={"number": ready_order.number, "signature": order_signature})
    assert client.post(url, {"action": "arrived"}).status_code == 404
    assert _nothing_changed(ready_order)


def test_an_expired_check_in_link_is_refused_and_changes_nothing(client, ready_order, monkeypatch):
    # given a link signed longer ago than the store keeps uncollected orders (7 days) plus a day
    signed_at = timezone.now() - timedelta(days=8, minutes=1)
    monkeypatch.setattr(signing.time, "time", lambda: signed_at.timestamp())
    url = check_in_url(ready_order)
    monkeypatch.undo()

    response = client.post(url, {"action": "arrived", "bay": "1"})
    assert response.status_code == 410
    assert "This check-in link has expired" in response.content.decode()
    assert _nothing_changed(ready_order)


def test_a_link_for_an_order_not_ready_yet_offers_no_check_in(client, store, mittens):
    order = place_curbside_order(store=store, products_and_quantities=[(mittens, 1)])
    url = check_in_url(order)
    page = client.get(url).content.decode()
    assert "Not ready yet" in page and 'data-testid="im-here"' not in page
    response = client.post(url, {"action": "arrived", "bay": "1"}, follow=True)
    assert "not ready yet" in response.content.decode()
    assert _nothing_changed(order)


def test_staff_hand_over_at_the_curb_with_the_code_and_the_wait_is_recorded(
    client, ready_order, manager, store, mittens
):
    # given a shopper waiting at the curb for 4 minutes
    curbside.check_in(order=ready_order, bay=2, vehicle="Blue Skoda", now=timezone.now() - timedelta(minutes=4))
    client.force_login(manager)
    queue = client.get(reverse("admin:orders_order_curbside_queue")).content.decode()
    assert f'data-order="{ready_order.number}"' in queue and "Blue Skoda" in queue and "Lopi mittens" in queue

    # when staff type a wrong code, then the right one
    url = reverse("admin:orders_order_curbside_hand_over", args=[ready_order.number])
    wrong = "000000" if pickup_of(ready_order).code != "000000" else "111111"
    response = client.post(url, {"code": wrong, "till_receipt_number": "4711"}, follow=True)
    assert "does not match" in response.content.decode()
    ready_order.refresh_from_db()
    assert ready_order.status == OrderStatus.READY_FOR_PICKUP
    response = client.post(url, {"code": pickup_of(ready_order).code, "till_receipt_number": "4711"}, follow=True)

    # then the order is collected through the counter's service, and the wait is on record
    assert "handed over to Anna Jónsdóttir" in response.content.decode()
    ready_order.refresh_from_db()
    assert ready_order.status == OrderStatus.COLLECTED
    assert pickup_of(ready_order).fulfilment.fulfilled_by == manager
    visit = CurbsideVisit.objects.get(fulfilment__order=ready_order)
    assert visit.state == CurbsideState.HANDED_OVER and visit.handed_over_by == manager
    assert 4 * 60 <= visit.wait_seconds < 5 * 60
    level = StockLevel.objects.get(store=store, product=mittens)
    assert (level.on_hand, level.reserved) == (48, 0)
    assert (
        f'data-order="{ready_order.number}"'
        not in client.get(reverse("admin:orders_order_curbside_queue_rows")).content.decode()
    )


def test_a_curbside_shopper_who_walks_in_to_the_counter_leaves_the_queue_with_the_wait_on_record(
    client, ready_order, manager
):
    # given a shopper who checked in at the curb 6 minutes ago, then walked in to the counter
    curbside.check_in(order=ready_order, bay=3, now=timezone.now() - timedelta(minutes=6))

    # when staff collect the order at the counter, as for any in-store pickup
    collect_order(order=ready_order, code=pickup_of(ready_order).code, by=manager)

    # then the visit is closed too: handed over by them, the wait recorded, gone from the queue
    visit = CurbsideVisit.objects.get(fulfilment__order=ready_order)
    assert visit.state == CurbsideState.HANDED_OVER and visit.handed_over_by == manager
    assert 6 * 60 <= visit.wait_seconds < 7 * 60
    client.force_login(manager)
    assert (
        f'data-order="{ready_order.number}"'
        not in client.get(reverse("admin:orders_order_curbside_queue_rows")).content.decode()
    )


def test_the_queue_is_for_staff_of_the_store_only(client, ready_order, store, mittens):
    curbside.check_in(order=ready_order, bay=1)
    url = reverse("admin:orders_order_curbside_queue")
    # anonymous and shoppers are sent to log in
    assert client.get(url).status_code == 302
    client.force_login(UserFactory(username="shopper"))
    assert client.get(url).status_code == 302
    # a manager of another store sees nobody and cannot hand over this store's order
    elsewhere = StoreFactory(name="Karl Johan", slug="karl-johan", city="Oslo", time_zone="Europe/Oslo")
    client.force_login(StoreManagerFactory(username="kari", stores=[elsewhere]))
    assert ready_order.number not in client.get(url).content.decode()
    response = client.post(
        reverse("admin:orders_order_curbside_hand_over", args=[ready_order.number]),
        {"code": pickup_of(ready_order).code},
    )
    assert response.status_code == 404
    ready_order.refresh_from_db()
    assert ready_order.status == OrderStatus.READY_FOR_PICKUP


def test_the_queue_refreshes_itself_with_and_without_javascript(client, manager):
    client.force_login(manager)
    page = client.get(reverse("admin:orders_order_curbside_queue")).content.decode()
    assert 'src="/static/js/curbside-queue.js"' in page
    assert 'data-queue-rows-url="/admin/orders/order/curbside/rows/"' in page
    assert '<noscript><meta http-equiv="refresh"' in page


@pytest.mark.parametrize("waiting", [10, 40])
def test_the_queue_takes_the_same_number_of_queries_however_many_wait(
    client, store, mittens, manager, waiting, django_assert_num_queries
):
    # given `waiting` shoppers, half at the curb and half on the way
    for index in range(waiting):
        order = mark_ready_for_pickup(
            order=place_curbside_order(
                store=store, products_and_quantities=[(mittens, 1)], email=f"s{index}@example.com"
            ),
            by=manager,
        )
        if index % 2:
            curbside.check_in(order=order, bay=1 + index % 4)
        else:
            curbside.announce_on_the_way(order=order, eta_minutes=index)
    client.force_login(manager)
    client.get(reverse("admin:orders_order_curbside_queue_rows"))  # warm the session and permission caches

    # then the rows take a fixed number of queries: session, user, 2 × permissions, stores, visits, lines
    with django_assert_num_queries(7):
        response = client.get(reverse("admin:orders_order_curbside_queue_rows"))
    assert response.content.decode().count('data-testid="queue-row"') == waiting


def test_the_curb_counts_wrong_codes_like_the_counter(client, ready_order, manager):
    # given a shopper at the curb, and someone at the car who does not know the code
    from pickup.services import MAX_FAILURES_PER_ORDER

    curbside.check_in(order=ready_order, bay=1)
    client.force_login(manager)
    url = reverse("admin:orders_order_curbside_hand_over", args=[ready_order.number])
    wrong = "000000" if pickup_of(ready_order).code != "000000" else "111111"

    # when wrong codes are typed until the limit
    for _attempt in range(MAX_FAILURES_PER_ORDER):
        client.post(url, {"code": wrong, "till_receipt_number": "4711"})

    # then even the right code is refused until a manager resets the lock: the same rule as collect
    response = client.post(url, {"code": pickup_of(ready_order).code, "till_receipt_number": "4711"}, follow=True)
    assert "is locked" in response.content.decode()
    ready_order.refresh_from_db()
    assert ready_order.status == OrderStatus.READY_FOR_PICKUP


def test_a_curbside_order_speaks_of_the_curb_and_an_in_store_one_of_the_counter(
    client, store, mittens, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # given a curbside order and an in-store one, placed (the received e-mails go out) and ready
    with django_capture_on_commit_callbacks(execute=True):
        at_the_curb = place_curbside_order(store=store, products_and_quantities=[(mittens, 1)])
        at_the_counter = place_order(store=store, products_and_quantities=[(mittens, 1)])
    assert len(mailoutbox) == 2
    for order in (at_the_curb, at_the_counter):
        mark_ready_for_pickup(order=order, by=manager)

    # when the shopper opens each order page
    def main_of(order):
        return client.get(order.get_absolute_url()).content.decode().split("<main>")[1].split("</main>")[0]

    curb_page, counter_page = main_of(at_the_curb), main_of(at_the_counter)

    # then the curbside page tells them to check in and wait at the car, never to go to the counter
    assert "counter" not in curb_page
    assert "we bring it out to your car" in curb_page
    assert "to the staff who bring the order to your car" in curb_page
    assert "Show the pickup code below at the counter." in counter_page
    # and the received e-mail of the curbside order says the same, the in-store one does not
    [email] = [email for email in mailoutbox if at_the_curb.number in email.subject]
    assert "check in from that e-mail or your order page" in email.body
    assert "check in from that e-mail or your order page" in email.alternatives[0][0]
    [other] = [email for email in mailoutbox if at_the_counter.number in email.subject]
    assert "curbside" not in other.body
