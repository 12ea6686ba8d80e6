"""The order's own e-mails: "order received" when it is placed, "order cancelled" with the reason.

Through the outbox like every e-mail to a shopper: written with the change, sent after commit,
exactly once, in the order's language, and shown on the order's timeline. (Tasks run in-process
here; orders/tests/test_worker.py sends the same e-mails with a real worker on Redis.)
"""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import StoreManagerFactory
from catalog.tests.factories import ProductFactory
from orders.models import CancelReason, Notification, NotificationKind, NotificationStatus, OrderActivity, OrderEvent
from orders.notifications.messages import email_builders
from orders.services import AlreadyPlaced, IllegalTransition, cancel_order
from orders.tests.factories import place_order
from pickup.models import Pickup
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup
from stores.models import StockLevel
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

SLOT = datetime.datetime(2031, 3, 4, 15, 0, tzinfo=datetime.UTC)  # a Tuesday, 15:00 in Reykjavík


@pytest.fixture
def laugavegur():
    return StoreFactory(name="Laugavegur", address="Laugavegur 12", postcode="101", city="Reykjavík")


@pytest.fixture
def mittens(laugavegur):
    product = ProductFactory(name_en="Lopi mittens", name_is="Lopavettlingar", sku="MIT-1", price=Decimal("4990"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return product


@pytest.fixture
def scarf(laugavegur):
    product = ProductFactory(name_en="Wool scarf", name_is="Ullartrefill", sku="SCA-1", price=Decimal("3500"))
    StockLevelFactory(store=laugavegur, product=product, on_hand=5)
    return product


def placed(store, lines, capture, **extra):
    """An order placed through the checkout service, its transaction committed (hooks run)."""
    with capture(execute=True):
        order = place_order(store=store, products_and_quantities=lines, **extra)
    order.refresh_from_db()
    return order


def emails_about(order, mailoutbox):
    return [message for message in mailoutbox if order.number in message.subject]


def timeline_emails(order):
    return list(OrderEvent.objects.filter(order=order, kind=OrderActivity.EMAILED).values_list("note", flat=True))


def test_placing_an_order_emails_what_was_ordered_where_when_and_the_code_once(
    laugavegur, mittens, scarf, mailoutbox, django_capture_on_commit_callbacks
):
    # when a shopper places an order for two mittens and a scarf, with a pickup time
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = place_order(store=laugavegur, products_and_quantities=[(mittens, 2), (scarf, 1)])
        # then nothing is sent before the order is committed
        assert mailoutbox == []
    for callback in callbacks:
        callback()
    order.refresh_from_db()

    # then one "order received" e-mail went out after the commit, to the shopper
    [email] = mailoutbox
    assert email.to == ["anna@example.com"]
    assert email.subject == f"We have received your order {order.number}"
    html_text = re.sub(r"<[^>]+>", "", html.unescape(email.alternatives[0][0]))
    link = f"http://testserver/orders/{order.access_token}/"
    for body in (email.body, html_text):
        # the lines, the total, the store, the order link and the pickup code
        assert "2 × Lopi mittens (MIT-1)" in body and "1 × Wool scarf (SCA-1)" in body
        assert "ISK\u00a09,980" in body and "ISK\u00a03,500" in body and "ISK\u00a013,480" in body
        assert "Laugavegur" in body and "Laugavegur 12" in body and "101 Reykjavík" in body
        assert link in body
        assert pickup_of(order).code in body
    notification = Notification.objects.get(order=order)
    assert (notification.kind, notification.status) == (NotificationKind.ORDER_RECEIVED, NotificationStatus.SENT)
    # and the order's timeline shows it
    assert timeline_emails(order) == ["Order received"]


def test_the_received_email_gives_the_booked_pickup_time_in_the_stores_time(
    laugavegur, mittens, django_capture_on_commit_callbacks
):
    # given an order placed with a pickup time (booked as the checkout books it)
    order = placed(laugavegur, [(mittens, 1)], django_capture_on_commit_callbacks)
    Pickup.objects.filter(fulfilment__order=order).update(
        slot_start=SLOT, slot_end=SLOT + datetime.timedelta(minutes=30)
    )

    # when its e-mail is written
    message = email_builders()[NotificationKind.ORDER_RECEIVED](order)

    # then it says when, in the store's time
    assert "Your pickup time: Tuesday 4 March, 15:00–15:30" in message.body


def test_the_received_email_is_in_the_language_the_order_was_placed_in(
    laugavegur, mittens, mailoutbox, django_capture_on_commit_callbacks
):
    # when a shopper reading the shop in Icelandic places an order
    with translation.override("is"):
        order = placed(laugavegur, [(mittens, 2)], django_capture_on_commit_callbacks, language="is")

    # then the e-mail and the timeline entry are Icelandic, with the product's Icelandic name
    [email] = mailoutbox
    assert email.subject == f"Við höfum móttekið pöntun {order.number}"
    assert "Hæ Anna Jónsdóttir," in email.body
    assert "2 × Lopavettlingar (MIT-1)" in email.body
    assert "9.980\u00a0kr." in email.body
    assert '<html lang="is">' in email.alternatives[0][0]
    assert timeline_emails(order) == ["Pöntun móttekin"]


def test_a_checkout_submitted_twice_gets_one_received_email(
    laugavegur, mittens, mailoutbox, django_capture_on_commit_callbacks
):
    # when the same checkout (same token) is placed twice
    first = placed(laugavegur, [(mittens, 1)], django_capture_on_commit_callbacks, checkout_token="t-1")
    with pytest.raises(AlreadyPlaced) as second:
        placed(laugavegur, [(mittens, 1)], django_capture_on_commit_callbacks, checkout_token="t-1")

    # then it is one order with one e-mail
    assert second.value.order == first
    assert len(mailoutbox) == 1
    assert Notification.objects.filter(order=first).count() == 1


def test_an_order_that_is_not_placed_emails_nothing(
    laugavegur, mittens, mailoutbox, django_capture_on_commit_callbacks
):
    # when placing succeeds but the surrounding transaction fails afterwards
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        place_order(store=laugavegur, products_and_quantities=[(mittens, 1)])
        raise RuntimeError("the request failed after placing")

    # then there is no order, no notification and no e-mail
    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("reason", "sentence", "page_says"),
    [
        (
            CancelReason.STORE,
            "Laugavegur has cancelled your order {number}. If you have questions, please contact the store.",
            "Reason: Cancelled by the store",
        ),
        (
            CancelReason.NOT_COLLECTED,
            "Your order {number} waited for you at Laugavegur and was not collected in time, so we have "
            "cancelled it and put the items back on sale.",
            "Reason: Not collected in time",
        ),
        (
            CancelReason.SHOPPER,
            "You cancelled your order {number}. Nothing is reserved for it any more.",
            "Reason: Cancelled by you",
        ),
    ],
)
def test_cancelling_emails_the_reason_once_and_the_order_page_shows_it(
    client, laugavegur, mittens, mailoutbox, django_capture_on_commit_callbacks, reason, sentence, page_says
):
    # given a placed order (its "order received" e-mail sent)
    order = placed(laugavegur, [(mittens, 2)], django_capture_on_commit_callbacks)
    mailoutbox.clear()

    # when it is cancelled for this reason, and someone tries to cancel it again
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason=reason)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(IllegalTransition):
        cancel_order(order=order, reason=reason)

    # then the shopper got one "order cancelled" e-mail saying why
    [email] = mailoutbox
    assert email.subject == f"Your order {order.number} was cancelled"
    assert sentence.format(number=order.number) in email.body
    assert sentence.format(number=order.number) in html.unescape(email.alternatives[0][0])
    assert "1 × Lopi mittens" not in email.body and "2 × Lopi mittens" in email.body
    # and the reason is kept on the order, its units are back on sale
    order.refresh_from_db()
    assert order.cancel_reason == reason
    assert StockLevel.objects.get(store=laugavegur, product=mittens).reserved == 0
    # and the order's page and timeline show both
    page = html.unescape(client.get(order.get_absolute_url()).content.decode())
    assert page_says in page
    timeline = page.split('data-testid="order-timeline"')[1].split("</ol>")[0]
    assert "E-mail sent: Order received" in timeline and "E-mail sent: Order cancelled" in timeline
    assert timeline_emails(order) == ["Order received", "Order cancelled"]


def test_the_cancelled_email_is_in_the_language_of_the_order(
    laugavegur, mittens, mailoutbox, django_capture_on_commit_callbacks
):
    order = placed(laugavegur, [(mittens, 1)], django_capture_on_commit_callbacks, language="nb")
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason=CancelReason.SHOPPER)

    [email] = mailoutbox
    assert email.subject == f"Bestilling {order.number} er kansellert"
    assert f"Du kansellerte bestilling {order.number}." in email.body
    assert timeline_emails(order) == ["Bestilling mottatt", "Bestilling kansellert"]
    cancelled = OrderEvent.objects.get(order=order, kind=OrderActivity.STATUS, to_status="cancelled")
    assert cancelled.note == "Kansellert av kunden"  # the reason, in the order's language


def test_a_manager_cancelling_from_the_admin_emails_the_shopper_once(
    client, laugavegur, mittens, mailoutbox, django_capture_on_commit_callbacks
):
    # given a ready order and its store's manager
    order = placed(laugavegur, [(mittens, 1)], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        mark_ready_for_pickup(order=order)
    mailoutbox.clear()
    client.force_login(StoreManagerFactory(stores=[laugavegur]))

    # when the manager cancels it in the admin (confirming)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:orders_order_changelist"),
            {"action": "cancel_orders", "_selected_action": [order.pk], "confirm": "yes"},
        )

    # then the shopper is told the store cancelled it, once, and the order says why
    [email] = mailoutbox
    assert "Laugavegur has cancelled your order" in email.body
    order.refresh_from_db()
    assert order.cancel_reason == CancelReason.STORE
    assert timeline_emails(order) == ["Order received", "Ready for pickup", "Order cancelled"]
