"""Dates and times go through one path (o2o_site.dates, the `dates` template filters): each language
writes them its own way, the same moment reads the same on the order page, in the e-mails and on
the receipt, in the store's time zone, and no sentence ends in two full stops ("11:54 a.m..",
"12.990 kr..") in any language."""

import datetime
import html
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import transaction
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from payments.core import PROVIDER_CACHE

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from o2o_site import dates
from orders.tests.factories import place_order
from payment.models import PaymentStatus, Receipt
from payment.receipts import CapturedLine, issue_receipt
from payment.services import Actor, capture_payment
from pickup.emails import pickup_reminder_email
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from pickup.slots import available_slots
from stores.tests.factories import StockLevelFactory, StoreFactory

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "is", "nb"]
OSLO = ZoneInfo("Europe/Oslo")
# 11:54 UTC is 12:54 in Oslo: every page shows the store's clock.
MOMENT = datetime.datetime(2026, 11, 30, 11, 54, tzinfo=datetime.UTC)
WRITTEN = {
    "en": {
        "date": "30 November 2026",
        "time": "12:54",
        "datetime": "30 November 2026, 12:54",
        "weekday date": "Monday 30 November",
        "weekday datetime": "Monday 30 November, 12:54",
    },
    "is": {
        "date": "30. nóvember 2026",
        "time": "12:54",
        "datetime": "30. nóvember 2026 kl. 12:54",
        "weekday date": "mánudagur 30. nóvember",
        "weekday datetime": "mánudagur 30. nóvember kl. 12:54",
    },
    "nb": {
        "date": "30. november 2026",
        "time": "12:54",
        "datetime": "30. november 2026 kl. 12:54",
        "weekday date": "mandag 30. november",
        "weekday datetime": "mandag 30. november kl. 12:54",
    },
}
# Two full stops that are not part of an ellipsis ("…" or "...").
DOUBLE_FULL_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


def double_full_stops(text):
    """Where `text` (a page or an e-mail; its tags taken out, so "kr.</b>." counts) has ".."."""
    text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return [text[max(0, match.start() - 50) : match.end() + 10] for match in DOUBLE_FULL_STOP.finditer(text)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_writes_dates_and_times_its_own_way(language):
    expected = WRITTEN[language]
    with translation.override(language):
        # from Python (messages, services)
        assert dates.format_date(MOMENT, zone=OSLO) == expected["date"]
        assert dates.format_time(MOMENT, zone="Europe/Oslo") == expected["time"]
        assert dates.format_datetime(MOMENT, zone=OSLO) == expected["datetime"]
        assert dates.format_weekday_date(MOMENT, zone=OSLO) == expected["weekday date"]
        assert dates.format_weekday_datetime(MOMENT, zone=OSLO) == expected["weekday datetime"]
        assert dates.format_time_range(datetime.time(9, 5), datetime.time(17)) == "09:05–17:00"
        assert dates.format_date(datetime.date(2026, 11, 30)) == expected["date"]
        # and from templates, in the time zone of a {% timezone %} block, the same
        rendered = Template(
            "{% load tz dates %}{% timezone 'Europe/Oslo' %}{{ at|local_date }}|{{ at|local_time }}|"
            "{{ at|local_datetime }}|{{ at|weekday_date }}|{{ at|weekday_datetime }}|{{ at|time_range:at }}"
            "{% endtimezone %}"
        ).render(Context({"at": MOMENT}))
    assert rendered.split("|") == [
        expected["date"],
        expected["time"],
        expected["datetime"],
        expected["weekday date"],
        expected["weekday datetime"],
        f"{expected['time']}–{expected['time']}",
    ]
    # and nothing ends in a full stop that would double at the end of a sentence
    assert not any(value.endswith(".") for value in expected.values())


@pytest.fixture
def dummy_payments(settings):
    settings.PAYMENT_VARIANTS = {"dummy": ("payments.dummy.DummyProvider", {"capture": False})}
    PROVIDER_CACHE.clear()
    yield
    PROVIDER_CACHE.clear()


def authorise(client, payment):
    page = f"/payments/{payment.token}/"
    client.get(page)
    client.post(page, {"status": "preauth", "fraud_status": "accept", "gateway_response": "3ds-disabled"})
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PREAUTH
    return payment


def collected_and_receipted(client, capture, *, store, product, language):
    """An order paid online, for a pickup time, collected at MOMENT, its receipt issued at MOMENT;
    every e-mail it sends on the way is sent."""
    slot = available_slots(store)[0]
    with capture(execute=True):
        order = place_order(
            store=store,
            products_and_quantities=[(product, 2)],
            payment="dummy",
            language=language,
            pickup_slot=slot.starts_at,
        )
    payment = authorise(client, order.payments.get())
    with capture(execute=True):
        mark_ready_for_pickup(order=order)
    with capture(execute=True):
        collect_order(order=order, code=pickup_of(order).code, by=None, now=MOMENT)
        with transaction.atomic():
            capture_payment(payment=payment, amount=order.total, by=Actor.staff(None))
            receipt = issue_receipt(
                payment=payment,
                lines=[CapturedLine(order_line=line, quantity=line.quantity) for line in order.lines.all()],
            )
            Receipt.objects.filter(pk=receipt.pk).update(issued_at=MOMENT)
    return order, receipt


@pytest.fixture
def oslo(settings):
    settings.SHOP_CURRENCY = "NOK"
    store = StoreFactory(name="Grünerløkka", city="Oslo", country="NO", time_zone="Europe/Oslo")
    blanket = ProductFactory(name_en="Wool blanket", name_is="Ullarteppi", name_nb="Ullpledd", price=Decimal("1299.90"))
    StockLevelFactory(store=store, product=blanket, on_hand=10)
    return store, blanket


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_same_moment_reads_the_same_on_the_order_page_in_the_e_mail_and_on_the_receipt(
    client, oslo, dummy_payments, mailoutbox, django_capture_on_commit_callbacks, language
):
    store, blanket = oslo
    order, receipt = collected_and_receipted(
        client, django_capture_on_commit_callbacks, store=store, product=blanket, language=language
    )
    written = WRITTEN[language]["datetime"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    order_page = html.unescape(client.get(order.get_absolute_url()).content.decode())
    receipt_page = html.unescape(
        client.get(
            reverse("payment_receipt", kwargs={"token": order.access_token, "number": receipt.number})
        ).content.decode()
    )
    [receipt_email] = [
        email for email in mailoutbox if str(receipt.number) in email.body and "/receipts/" in email.body
    ]

    # the order page says when it was collected, the receipt page and e-mail when it was issued:
    # the same moment, written the same way, on the store's clock
    assert written in order_page, written
    assert f'data-testid="receipt-date"><time datetime="2026-11-30T12:54:00+01:00">{written}</time>' in receipt_page
    assert f"{written}" in receipt_email.body
    assert written in html.unescape(receipt_email.alternatives[0][0])
    # and the order page's pickup time reads as the e-mails' does
    with translation.override(language):
        slot = pickup_of(order)
        pickup_time = (
            f"{dates.format_weekday_date(slot.slot_start, zone=store.zone)}, "
            f"{dates.format_time_range(slot.slot_start, slot.slot_end, zone=store.zone)}"
        )
    assert pickup_time in order_page
    assert all(
        pickup_time in email.body
        for email in mailoutbox
        if order.number in email.subject and "/receipts/" not in email.body
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_sentence_ends_in_two_full_stops(
    client, settings, dummy_payments, mailoutbox, django_capture_on_commit_callbacks, language
):
    # given an Icelandic shop, whose krónur end in a full stop in Icelandic ("12.990 kr.")
    settings.SHOP_CURRENCY = "ISK"
    store = StoreFactory(name="Laugavegur", city="Reykjavík", country="IS", time_zone="Atlantic/Reykjavik")
    sweater = ProductFactory(
        name_en="Hekla sweater", name_is="Hekla lopapeysa", name_nb="Hekla-genser", price=Decimal("12990")
    )
    StockLevelFactory(store=store, product=sweater, on_hand=10)
    order, receipt = collected_and_receipted(
        client, django_capture_on_commit_callbacks, store=store, product=sweater, language=language
    )
    with translation.override(language):
        reminder = pickup_reminder_email(order)

    # when the shopper reads the pages and the e-mails in their language
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pages = {
        "order page": order.get_absolute_url(),
        "receipt": reverse("payment_receipt", kwargs={"token": order.access_token, "number": receipt.number}),
        "store page": store.get_absolute_url(),
        "product page": sweater.get_absolute_url(),
    }
    texts = {name: client.get(url).content.decode() for name, url in pages.items()}
    client.post(reverse("checkout:cart_add"), {"product_id": sweater.pk, "quantity": 1, "next": "/cart/"})
    texts["cart"] = client.get(reverse("checkout:cart")).content.decode()
    texts["checkout"] = client.get(reverse("checkout:checkout")).content.decode()
    # and staff refund from the admin ("Up to 12.990 kr. can be refunded")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    texts["admin refund"] = client.get(reverse("admin:orders_order_refund", args=[order.pk])).content.decode()
    for email in [*mailoutbox, reminder]:
        texts[f"e-mail {email.subject}"] = email.subject + "\n" + email.body
        texts[f"e-mail {email.subject} (HTML)"] = email.alternatives[0][0]

    # then no sentence ends twice
    assert {name: stops for name, text in texts.items() if (stops := double_full_stops(text))} == {}
    assert 'data-testid="refundable"' in texts["admin refund"]


# An own format ({{ at|date:"D j M" }}, date_format(), f"{at:%H:%M}"); an ISO timestamp for a
# machine (|date:"c" in <time datetime>, a form value in UTC) is not one.
OWN_FORMAT = re.compile(
    r"""\|(?:date|time):(?!["']c["'])|\bdate_format\(|\btime_format\(|dateformat\.format\(|:%H:%M\}"""
)


def test_every_page_e_mail_and_message_formats_dates_through_the_one_path():
    # The shopper's pages and the admin's (templates/admin/, the apps' admin.py) alike; Django's
    # own admin templates (in the virtualenv) are not ours.
    root = settings.BASE_DIR
    patterns = ("templates/**/*.html", "templates/**/*.txt", "*/templates/**/*.html", "*/templates/**/*.txt", "*/*.py")
    paths = {path for pattern in patterns for path in root.glob(pattern)}
    checked = [
        path
        for path in paths
        if not {".venv", "tests", "bench", "lighthouse"} & set(path.relative_to(root).parts)
        and path != root / "o2o_site" / "dates.py"
    ]
    assert len(checked) > 100
    own_formats = {str(path.relative_to(root)): OWN_FORMAT.findall(path.read_text()) for path in checked}
    assert {path: found for path, found in own_formats.items() if found} == {}
