"""Refunds (payment.services.refund_order): by lines or by an amount, always with a reason, never
more than was taken, per line never more than was handed over; each refund recorded per line."""

from decimal import Decimal

import pytest
from django.utils import translation

from accounts.tests.factories import StoreManagerFactory
from checkout.handover import hand_over
from payment.models import PaymentEvent, PaymentStatus, Refund, RefundLine, RefundReason
from payment.services import RefundRefused, refund_order, refunded_by_line
from pickup.selectors import pickup_of
from pickup.services import mark_ready_for_pickup

from .factories import authorised_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(order):
    return StoreManagerFactory(stores=[order.store])


def lines_of(order):
    """{product name: order line} of Anna's order (a sweater, two pairs of mittens)."""
    return {line.product_name: line for line in order.lines.all()}


@pytest.fixture
def collected(order, manager):
    """Anna's order, paid online (ISK 32,970 authorised), handed over in part: the sweater and one
    pair of mittens (ISK 28,980 captured, ISK 3,990 released)."""
    payment = authorised_payment(order)
    mark_ready_for_pickup(order=order)
    lines = lines_of(order)
    hand_over(
        order=order,
        code=pickup_of(order).code,
        by=manager,
        quantities={lines["Hekla lopapeysa"].pk: 1, lines["Lopi mittens"].pk: 1},
    )
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("28980")
    return payment


def test_a_refund_by_lines_gives_back_their_value_and_records_each_line(order, manager, collected):
    mittens = lines_of(order)["Lopi mittens"]

    refund = refund_order(order=order, lines={mittens.pk: 1}, reason=RefundReason.FAULTY, by=manager)

    collected.refresh_from_db()
    assert (refund.amount, refund.reason, refund.created_by, refund.payment) == (
        Decimal("3990"),
        "faulty",
        manager,
        collected,
    )
    assert list(refund.lines.values_list("order_line", "quantity", "amount")) == [(mittens.pk, 1, Decimal("3990"))]
    assert (collected.refunded_amount, collected.status) == (Decimal("3990"), PaymentStatus.CONFIRMED)
    event = refund.event
    assert (event.kind, event.amount, event.actor, event.note) == (
        "refund",
        Decimal("3990"),
        manager,
        "Faulty or damaged",
    )
    assert refunded_by_line(order=order) == {mittens.pk: 1}


def test_a_line_is_refunded_at_most_as_often_as_it_was_handed_over(order, manager, collected):
    mittens = lines_of(order)["Lopi mittens"]  # two ordered, one handed over
    refund_order(order=order, lines={mittens.pk: 1}, reason=RefundReason.RETURNED, by=manager)

    with pytest.raises(RefundRefused, match="Lopi mittens: 0 can be refunded, not 1"):
        refund_order(order=order, lines={mittens.pk: 1}, reason=RefundReason.RETURNED, by=manager)

    assert Refund.objects.count() == 1 and RefundLine.objects.count() == 1


def test_a_refund_by_amount_has_no_lines_and_never_exceeds_what_was_taken(order, manager, collected):
    refund = refund_order(
        order=order, amount=Decimal("5000"), reason=RefundReason.GOODWILL, note="Scratched buttons", by=manager
    )

    assert (refund.amount, refund.note, refund.lines.count()) == (Decimal("5000"), "Scratched buttons", 0)
    with pytest.raises(RefundRefused, match="At most ISK\u00a023,980 can be refunded; ISK\u00a023,981 is more."):
        refund_order(order=order, amount=Decimal("23981"), reason=RefundReason.GOODWILL, by=manager)
    last = refund_order(order=order, amount=Decimal("23980"), reason=RefundReason.GOODWILL, by=manager)

    collected.refresh_from_db()
    assert (collected.refunded_amount, collected.status) == (Decimal("28980"), PaymentStatus.REFUNDED)
    assert last.amount == Decimal("23980")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "Refund either lines or an amount."),
        ({"amount": Decimal("1"), "lines": {}}, "Refund either lines or an amount."),
        ({"amount": Decimal("0")}, "Choose what to refund"),
        ({"amount": Decimal("10"), "reason": RefundReason.OTHER}, "Say why in the note"),
    ],
)
def test_a_refund_without_what_or_why_is_refused(order, manager, collected, arguments, message):
    arguments = {"reason": RefundReason.RETURNED, **arguments}

    with pytest.raises(RefundRefused, match=message):
        refund_order(order=order, by=manager, **arguments)

    assert not Refund.objects.exists()
    assert not PaymentEvent.objects.filter(kind="refund").exists()


def test_an_order_not_yet_paid_has_nothing_to_refund(order, manager):
    authorised_payment(order)  # authorised, nothing taken

    with pytest.raises(RefundRefused, match="Nothing paid for this order is left to refund."):
        refund_order(order=order, amount=Decimal("10"), reason=RefundReason.GOODWILL, by=manager)


def test_a_till_payment_is_refunded_with_the_tills_return_receipt(order, manager):
    # given Anna paid ISK 32,970 at the till when she collected
    mark_ready_for_pickup(order=order)
    hand_over(order=order, code=pickup_of(order).code, by=manager, till_receipt_number="4711")
    sweater = lines_of(order)["Hekla lopapeysa"]

    # when a manager refunds the sweater, first without the till's return receipt
    with pytest.raises(RefundRefused, match="paid at the till: refund it at the till"):
        refund_order(order=order, lines={sweater.pk: 1}, reason=RefundReason.RETURNED, by=manager)
    refund = refund_order(
        order=order, lines={sweater.pk: 1}, reason=RefundReason.RETURNED, till_receipt_number="R-4720", by=manager
    )

    # then the refund names the return receipt, as does its payment event
    assert (refund.amount, refund.till_receipt_number, refund.payment.variant) == (Decimal("24990"), "R-4720", "till")
    assert refund.event.provider_reference == "R-4720"


def test_the_shopper_is_e_mailed_what_was_refunded_and_when_the_money_arrives(
    order, manager, collected, mailoutbox, django_capture_on_commit_callbacks
):
    # given Anna's order paid online and collected in part
    mittens = lines_of(order)["Lopi mittens"]

    # when a manager refunds a faulty pair of mittens, and later gives ISK 1,000 back as goodwill
    with django_capture_on_commit_callbacks(execute=True):
        refund_order(order=order, lines={mittens.pk: 1}, reason=RefundReason.FAULTY, by=manager)
    with django_capture_on_commit_callbacks(execute=True):
        refund_order(order=order, amount=Decimal("1000"), reason=RefundReason.GOODWILL, note="Late", by=manager)

    # then she got one e-mail for each: the amount, what it was for, why, where and when it arrives
    first, second = [message for message in mailoutbox if "refund" in message.subject]
    assert first.subject == f"Your refund for order {order.number}" and first.to == [order.contact_email]
    assert "We have refunded ISK\u00a03,990 for your order" in first.body
    assert f"- 1 × Lopi mittens ({mittens.sku}): ISK\u00a03,990" in first.body  # given back, not charged
    assert "−ISK" not in first.body and "−ISK" not in first.alternatives[0][0]
    assert "Reason: Faulty or damaged" in first.body
    assert "Refunded to: Test payment (Dummy provider)" in first.body
    assert "usually shows it within 5–10 working days" in first.body
    assert order.absolute_link() in first.body and "ISK\u00a03,990" in first.alternatives[0][0]
    assert "We have refunded ISK\u00a01,000" in second.body and "Reason: Goodwill or price adjustment" in second.body
    # the staff's note is theirs: not sent to the shopper
    assert "Late" not in second.body and "Late" not in second.alternatives[0][0]
    assert "What was refunded" not in second.body


def test_a_refund_e_mail_is_in_the_orders_language(
    order, manager, collected, mailoutbox, django_capture_on_commit_callbacks
):
    order.language = "nb"
    order.save(update_fields=["language"])

    with django_capture_on_commit_callbacks(execute=True):
        refund_order(order=order, amount=Decimal("1000"), reason=RefundReason.GOODWILL, by=manager)

    [sent] = [message for message in mailoutbox if order.number in message.subject and "ISK" in message.body]
    assert "5–10 virkedager" in sent.body and "Refund" not in sent.subject


def test_a_till_refund_e_mail_says_where_in_the_orders_language_not_the_staffs(
    order, manager, mailoutbox, django_capture_on_commit_callbacks
):
    # given Anna's Icelandic order, paid at the till when she collected
    order.language = "is"
    order.save(update_fields=["language"])
    mark_ready_for_pickup(order=order)
    hand_over(order=order, code=pickup_of(order).code, by=manager, till_receipt_number="4711")
    sweater = lines_of(order)["Hekla lopapeysa"]

    # when a manager using the admin in English refunds the sweater at the till
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        refund_order(
            order=order, lines={sweater.pk: 1}, reason=RefundReason.FAULTY, till_receipt_number="R-4720", by=manager
        )

    # then the e-mail says where the money went in Icelandic, as the rest of it
    [sent] = [message for message in mailoutbox if "R-4720" in message.body]
    assert "Endurgreitt á: í kassa" in sent.body and "at the till" not in sent.body
    assert "í kassa" in sent.alternatives[0][0]


def test_my_orders_says_what_each_order_had_refunded(client, order, manager, collected):
    # given Anna's collected order, refunded twice by amount
    from django.urls import reverse

    from accounts.tests.factories import UserFactory
    from o2o_site.money import format_money
    from orders.models import Order

    anna = UserFactory(username="anna")
    Order.objects.filter(pk=order.pk).update(customer=anna)
    refund_order(order=order, amount=Decimal("5000"), reason=RefundReason.GOODWILL, by=manager)
    refund_order(order=order, amount=Decimal("3000"), reason=RefundReason.GOODWILL, by=manager)
    client.force_login(anna)

    # when she opens My orders
    html = client.get(reverse("accounts:orders")).content.decode()

    # then the order says what was refunded in all, beside its total (found by a fresh-eyes test)
    assert f'data-testid="order-refunded">{format_money(Decimal("8000"), order.currency)} refunded' in html
    assert html.count('data-testid="order-refunded"') == 1
