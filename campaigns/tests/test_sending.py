"""Campaigns at small scale: the audience, recipients written set-based, pacing at the rate,
each recipient once (duplicate chunks, lost workers), the e-mail's headers and links, figures."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from campaigns import sending, tasks
from campaigns.audience import audience_of
from campaigns.messages import message_id_for
from campaigns.models import (
    Audience,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    ConsentSource,
    ConsentState,
    RecipientStatus,
)
from campaigns.selectors import figures_of
from campaigns.services import CampaignError, cancel_campaign, queue_campaign, unsubscribe
from catalog.tests.factories import CategoryFactory, ProductFactory
from coupons.services import CouponRefused, redeem_at_till
from coupons.tests.factories import CouponFactory, till_receipt
from orders.tests.factories import place_order
from pickup.selectors import pickup_of
from pickup.services import collect_order, mark_ready_for_pickup
from stores.tests.factories import StockLevelFactory, StoreFactory

from .factories import CampaignFactory, EmailConsentFactory

pytestmark = pytest.mark.django_db


def sending_campaign(*, recipients: int, rate_per_minute: int = 600, **fields):
    """A campaign whose recipients are written and whose pacer has not ticked yet."""
    consents = [EmailConsentFactory(email=f"r{number}@example.com") for number in range(recipients)]
    campaign = CampaignFactory(rate_per_minute=rate_per_minute, status=CampaignStatus.PREPARING, **fields)
    step = sending.prepare(campaign_id=campaign.pk, after=0)
    while not step.done:
        step = sending.prepare(campaign_id=campaign.pk, after=step.through)
    campaign.refresh_from_db()
    return campaign, consents


def test_a_queued_campaign_goes_to_every_subscribed_address_once_in_its_language(
    django_capture_on_commit_callbacks, mailoutbox
):
    # given two subscribed shoppers (English, Icelandic), one pending and one unsubscribed
    EmailConsentFactory(email="anna@example.com", language="en")
    EmailConsentFactory(email="sigga@example.is", language="is")
    EmailConsentFactory(email="pending@example.com", state=ConsentState.PENDING)
    EmailConsentFactory(email="gone@example.com", state=ConsentState.UNSUBSCRIBED)
    campaign = CampaignFactory()

    # when the manager sends it (tasks in-process: the pacer's ticks run one after the other)
    with django_capture_on_commit_callbacks(execute=True):
        queue_campaign(campaign=campaign)

    # then each subscribed address got one e-mail, in its language, with the unsubscribe headers
    by_address = {message.to[0]: message for message in mailoutbox}
    assert sorted(by_address) == ["anna@example.com", "sigga@example.is"] and len(mailoutbox) == 2
    assert by_address["sigga@example.is"].subject == "Hlý ull, 20 % afsláttur"
    assert "Vetrarullin er komin." in by_address["sigga@example.is"].body
    assert by_address["anna@example.com"].subject == "Warm wool, 20 % off"
    for message in mailoutbox:
        unsubscribe_url = re.fullmatch(r"<(.+)>", message.extra_headers["List-Unsubscribe"]).group(1)
        assert unsubscribe_url.startswith("http://testserver/email/unsubscribe/")
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe_url in message.body
    campaign.refresh_from_db()
    assert (campaign.status, campaign.recipient_count) == (CampaignStatus.SENT, 2)
    figures = figures_of(campaign)
    assert (figures.recipients, figures.sent, figures.failed, figures.waiting) == (2, 2, 0, 0)


def test_recipients_are_written_a_range_at_a_time_and_a_lost_step_goes_on_from_what_is_written(monkeypatch):
    # given 7 subscribed shoppers and steps of 3 consent ids
    monkeypatch.setattr(sending, "PREPARE_BATCH", 3)
    consents = [EmailConsentFactory(email=f"r{number}@example.com") for number in range(7)]
    coupon = CouponFactory()
    campaign = CampaignFactory(status=CampaignStatus.PREPARING, coupon=coupon)
    start = consents[0].pk - 1

    # when the first step runs, and the task of the second is lost
    first = sending.prepare(campaign_id=campaign.pk, after=start)
    assert (first.through, first.done) == (start + 3, False)
    assert CampaignRecipient.objects.filter(campaign=campaign).count() == 3

    # then a restart (beat: no `after`) goes on from the highest consent written, to the end
    step = sending.prepare(campaign_id=campaign.pk)
    while not step.done:
        step = sending.prepare(campaign_id=campaign.pk, after=step.through)
    # and running a step again writes nothing twice
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PREPARING)
    sending.prepare(campaign_id=campaign.pk, after=start)
    recipients = CampaignRecipient.objects.filter(campaign=campaign)
    assert sorted(recipients.values_list("consent_id", flat=True)) == [consent.pk for consent in consents]
    assert recipients.filter(code__isnull=True).count() == 0
    assert len(set(recipients.values_list("code", flat=True))) == 7


def test_the_pacer_claims_no_more_than_the_rate_allows():
    # given 30 recipients at 120 a minute (2 a second), chunks of 50, a tick a second
    campaign, _ = sending_campaign(recipients=30, rate_per_minute=120)
    start = campaign.sending_since

    # when the pacer ticks at 0 s: one tick's worth
    first = sending.pace(campaign_id=campaign.pk, now=start)
    assert first.claimed == 2 and len(first.chunks) == 1
    # and those are still in flight at 1 s: at most two ticks' worth in flight
    assert sending.pace(campaign_id=campaign.pk, now=start + datetime.timedelta(seconds=1)).claimed == 2
    assert sending.pace(campaign_id=campaign.pk, now=start + datetime.timedelta(seconds=2)).claimed == 0
    for token in [*first.chunks]:
        sending.send_chunk(campaign_id=campaign.pk, token=token)

    # then after 10 s of clock, never more than 2 × (10 + 1) claimed in all
    for second in range(3, 11):
        tick = sending.pace(campaign_id=campaign.pk, now=start + datetime.timedelta(seconds=second))
        for token in tick.chunks:
            sending.send_chunk(campaign_id=campaign.pk, token=token)
    campaign.refresh_from_db()
    assert campaign.claimed_count <= 2 * 11
    assert CampaignRecipient.objects.filter(campaign=campaign, status=RecipientStatus.SENT).count() >= 16


def test_a_tick_late_in_its_slot_still_claims_the_slot_s_worth_and_never_more_than_the_rate():
    # given 100 recipients at 120 a minute (2 a second), a tick a second
    campaign, _ = sending_campaign(recipients=100, rate_per_minute=120)
    start = campaign.sending_since

    # when each tick runs late in its slot by a different amount (a busy worker, the pacer's own
    # queries), each at the start of the slot the one before named, and every chunk is sent
    lateness = [0.0, 0.4, 0.1, 0.7, 0.2, 0.9, 0.0, 0.5, 0.3, 0.8]
    claimed_by_now = []
    due = start
    for slot, late in enumerate(lateness):
        assert due == start + datetime.timedelta(seconds=slot)
        now = due + datetime.timedelta(seconds=late)
        tick = sending.pace(campaign_id=campaign.pk, now=now)
        for token in tick.chunks:
            sending.send_chunk(campaign_id=campaign.pk, token=token)
        campaign.refresh_from_db()
        claimed_by_now.append((now, campaign.claimed_count))
        due = tick.next_at

    # then the ten ticks ran within ten seconds and every slot claimed its 2 (each tick a second
    # after the one before had run, as a countdown did, the same lateness spread them over 12.9 s:
    # 0.72 × the rate), and never more than 2 a second ahead of the clock
    assert claimed_by_now[-1][0] - start < datetime.timedelta(seconds=len(lateness))
    assert campaign.claimed_count == 2 * len(lateness)
    assert CampaignRecipient.objects.filter(campaign=campaign, status=RecipientStatus.SENT).count() == 20
    for now, claimed in claimed_by_now:
        assert claimed <= 2 * ((now - start).total_seconds() + 1)


def test_the_pacer_task_schedules_its_next_tick_at_the_start_of_the_next_slot(monkeypatch, settings):
    # given a sending campaign whose pacer runs 0.3 s into its third slot, on a real broker
    campaign, _ = sending_campaign(recipients=10, rate_per_minute=60)
    start = campaign.sending_since
    monkeypatch.setitem(tasks.current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(tasks.send_campaign_chunk, "delay", lambda **kwargs: None)
    scheduled = []
    monkeypatch.setattr(tasks.pace_campaign, "apply_async", lambda **options: scheduled.append(options))
    late = start + datetime.timedelta(seconds=2.3)
    monkeypatch.setattr(sending.timezone, "now", lambda: late)

    # when it ticks
    tasks.pace_campaign(campaign_id=campaign.pk)

    # then the next tick is due at 3 s, not a whole tick after this one ran
    [options] = scheduled
    assert options["eta"] == start + datetime.timedelta(seconds=3)


def test_a_pacer_chain_running_twice_does_not_double_the_rate():
    campaign, _ = sending_campaign(recipients=20, rate_per_minute=60)
    now = campaign.sending_since
    assert sending.pace(campaign_id=campaign.pk, now=now).claimed == 1
    # a second chain ticking at the same moment: the campaign already ticked
    assert sending.pace(campaign_id=campaign.pk, now=now) is None


def test_a_chunk_delivered_twice_sends_each_recipient_once(mailoutbox):
    campaign, _ = sending_campaign(recipients=5)
    [token] = sending.pace(campaign_id=campaign.pk, now=campaign.sending_since).chunks
    assert sending.send_chunk(campaign_id=campaign.pk, token=token) == 5
    assert sending.send_chunk(campaign_id=campaign.pk, token=token) == 0
    assert len(mailoutbox) == 5
    assert sorted(message.to[0] for message in mailoutbox) == [f"r{number}@example.com" for number in range(5)]


def test_a_lost_workers_chunk_is_taken_over_unsent_rows_again_started_rows_never_twice(settings, mailoutbox):
    # given a chunk of 4 claimed by a worker that died: 2 never started, 1 handed to the mail server
    # (which got it), 1 handed over but lost on the way; the locmem backend cannot be asked
    campaign, _ = sending_campaign(recipients=4)
    [token] = sending.pace(campaign_id=campaign.pk, now=campaign.sending_since).chunks
    rows = list(CampaignRecipient.objects.filter(campaign=campaign).order_by("pk"))
    started = timezone.now()
    CampaignRecipient.objects.filter(pk__in=[rows[2].pk, rows[3].pk]).update(send_started_at=started)

    # when the pacer ticks after the claim timeout
    later = campaign.sending_since + datetime.timedelta(seconds=settings.CAMPAIGN_CLAIM_TIMEOUT + 1)
    tick = sending.pace(campaign_id=campaign.pk, now=later)

    # then the unstarted rows are sent again in a new chunk, the started ones are unconfirmed
    assert tick.recovered == 4
    for new_token in tick.chunks:
        sending.send_chunk(campaign_id=campaign.pk, token=new_token)
    statuses = dict(CampaignRecipient.objects.filter(campaign=campaign).values_list("pk", "status"))
    assert [statuses[row.pk] for row in rows] == [
        RecipientStatus.SENT,
        RecipientStatus.SENT,
        RecipientStatus.UNCONFIRMED,
        RecipientStatus.UNCONFIRMED,
    ]
    assert sorted(message.to[0] for message in mailoutbox) == sorted([rows[0].email, rows[1].email])
    # and the old chunk, delivered late, sends nothing
    assert sending.send_chunk(campaign_id=campaign.pk, token=token) == 0
    assert figures_of(campaign).unconfirmed == 2


class AskableBackend(LocmemBackend):
    """A mail server that can say whether it took a message (like a transactional mail API)."""

    accepted = set()

    def delivery_status(self, message_id):
        return message_id in self.accepted


def test_with_a_mail_server_that_can_be_asked_a_started_row_is_sent_or_settled(settings, mailoutbox):
    settings.EMAIL_BACKEND = "campaigns.tests.test_sending.AskableBackend"
    campaign, _ = sending_campaign(recipients=2)
    [token] = sending.pace(campaign_id=campaign.pk, now=campaign.sending_since).chunks
    got, lost = CampaignRecipient.objects.filter(campaign=campaign).order_by("pk")
    CampaignRecipient.objects.filter(campaign=campaign).update(send_started_at=timezone.now())
    AskableBackend.accepted = {message_id_for(got)}

    # when the same chunk task is delivered again after its worker died
    assert sending.send_chunk(campaign_id=campaign.pk, token=token) == 1

    # then the one the mail server has is sent (not again), the lost one is sent now
    got.refresh_from_db()
    lost.refresh_from_db()
    assert (got.status, lost.status) == (RecipientStatus.SENT, RecipientStatus.SENT)
    assert [message.to[0] for message in mailoutbox] == [lost.email]


def test_a_shopper_who_unsubscribes_after_queueing_gets_nothing(mailoutbox):
    campaign, consents = sending_campaign(recipients=3)
    unsubscribe(consent=consents[1], source=ConsentSource.ACCOUNT)
    [token] = sending.pace(campaign_id=campaign.pk, now=campaign.sending_since).chunks
    sending.send_chunk(campaign_id=campaign.pk, token=token)
    assert sorted(message.to[0] for message in mailoutbox) == [consents[0].email, consents[2].email]
    assert figures_of(campaign).skipped == 1


def test_a_refused_message_is_tried_again_then_failed(settings):
    settings.EMAIL_BACKEND = "orders.tests.mail_backends.FailingBackend"
    settings.CAMPAIGN_MAX_ATTEMPTS = 2
    campaign, _ = sending_campaign(recipients=1)
    now = campaign.sending_since
    for second in range(4):
        tick = sending.pace(campaign_id=campaign.pk, now=now + datetime.timedelta(seconds=second))
        for token in tick.chunks if tick else []:
            sending.send_chunk(campaign_id=campaign.pk, token=token)
    recipient = CampaignRecipient.objects.get(campaign=campaign)
    assert (recipient.status, recipient.attempts) == (RecipientStatus.FAILED, 2)
    assert "SMTPServerDisconnected" in recipient.last_error
    assert figures_of(campaign).failed == 1


def test_a_cancelled_campaign_sends_no_more(mailoutbox):
    campaign, _ = sending_campaign(recipients=3)
    [token] = sending.pace(campaign_id=campaign.pk, now=campaign.sending_since).chunks
    cancel_campaign(campaign=campaign)
    assert sending.send_chunk(campaign_id=campaign.pk, token=token) == 0
    assert mailoutbox == []
    assert sending.pace(campaign_id=campaign.pk) is None
    with pytest.raises(CampaignError):
        cancel_campaign(campaign=campaign)
    with pytest.raises(CampaignError):
        queue_campaign(campaign=campaign)


def test_the_tracked_link_counts_the_opening_and_leads_to_the_shop(django_capture_on_commit_callbacks, mailoutbox):
    EmailConsentFactory(email="anna@example.com")
    campaign = CampaignFactory()
    with django_capture_on_commit_callbacks(execute=True):
        queue_campaign(campaign=campaign)
    link = re.search(r"http://testserver(/email/offer/\S+/)", mailoutbox[0].body).group(1)
    for _ in range(2):
        response = Client().get(link)
        assert response.status_code == 302
    recipient = CampaignRecipient.objects.get()
    assert recipient.opens == 2 and recipient.opened_at is not None
    assert figures_of(campaign).opened == 1
    # an altered link leads to the shop and counts nothing
    assert Client().get(link[:-3] + "xx/").status_code == 302
    recipient.refresh_from_db()
    assert recipient.opens == 2


def test_audience_near_a_store_and_bought_in_a_category():
    # given Reykjavík's store, one in Akureyri (250 km away), and shoppers of each
    reykjavik = StoreFactory(name="Laugavegur")
    akureyri = StoreFactory(name="Akureyri", latitude=Decimal("65.6835"), longitude=Decimal("-18.0878"))
    near_by_store = EmailConsentFactory(email="given-in-reykjavik@example.is", source="store", store=reykjavik)
    account = UserFactory(username="kringla", preferred_store=reykjavik)
    near_by_account = EmailConsentFactory(email="chose-reykjavik@example.is", user=account)
    EmailConsentFactory(email="given-in-akureyri@example.is", source="store", store=akureyri)
    EmailConsentFactory(email="unsubscribed@example.is", store=reykjavik, source="store", state="unsubscribed")

    near = CampaignFactory(audience=Audience.NEAR_STORE, store=reykjavik, radius_km=25)
    assert set(audience_of(near)) == {near_by_store, near_by_account}

    # and of those, the one who collected an order of wool (a category below "Wool")
    wool = CategoryFactory(name="Wool", slug="wool")
    yarn = CategoryFactory(name="Yarn", slug="yarn", parent=wool)
    skein = ProductFactory(category=yarn)
    StockLevelFactory(store=reykjavik, product=skein, on_hand=5)
    order = place_order(store=reykjavik, products_and_quantities=[(skein, 1)], email="Given-in-Reykjavik@example.is")
    not_collected = place_order(store=reykjavik, products_and_quantities=[(skein, 1)], email=account.email)
    mark_ready_for_pickup(order=order)
    collect_order(order=order, code=pickup_of(order).code, by=None)
    assert not_collected.status == "placed"
    bought = CampaignFactory(audience=Audience.BOUGHT_IN_CATEGORY, category=wool)
    assert list(audience_of(bought)) == [near_by_store]


def test_admin_campaign_list_costs_the_same_queries_for_many_campaigns(admin_client, django_assert_max_num_queries):
    for _ in range(2):
        CampaignFactory()
    with django_assert_max_num_queries(8) as few:
        admin_client.get(reverse("admin:campaigns_campaign_changelist"))
    for _ in range(20):
        CampaignFactory()
    with django_assert_max_num_queries(len(few)):
        response = admin_client.get(reverse("admin:campaigns_campaign_changelist"))
    assert response.status_code == 200


def test_each_recipient_gets_a_code_of_their_own_and_a_code_used_at_a_till_counts_as_redeemed(
    django_capture_on_commit_callbacks, mailoutbox
):
    # given three subscribed shoppers and a campaign with a 10 % coupon
    for number in range(3):
        EmailConsentFactory(email=f"r{number}@example.com", language=("en", "is", "nb")[number])
    coupon = CouponFactory(name="Winter wool 10 %")
    campaign = CampaignFactory(coupon=coupon)

    # when it is sent
    with django_capture_on_commit_callbacks(execute=True):
        queue_campaign(campaign=campaign)

    # then each e-mail carries its recipient's own single-use code, in the recipient's language
    recipients = list(CampaignRecipient.objects.filter(campaign=campaign).select_related("code__coupon").order_by("pk"))
    codes = [recipient.code for recipient in recipients]
    assert all(code.single_use and code.coupon == coupon for code in codes) and len({c.pk for c in codes}) == 3
    by_address = {message.to[0]: message for message in mailoutbox}
    for recipient in recipients:
        assert recipient.code.display in by_address[recipient.email].body
    assert "Kóðinn þinn" in by_address["r1@example.com"].body

    # and the offer page behind the tracked link shows the code and its QR code
    first = recipients[0]
    link = re.search(r"http://testserver(/email/offer/\S+/)", by_address[first.email].body).group(1)
    page = Client().get(link)
    assert page.status_code == 200 and first.code.display in page.content.decode()
    assert 'data-testid="offer-qr"' in page.content.decode()

    # when the first shopper's code is used at a till, and someone types another's wrongly
    store = StoreFactory()
    redeem_at_till(
        code=codes[0].display.lower(),
        store=store,
        purchase_amount=Decimal("10000"),
        by=None,
        till_receipt=till_receipt(),
    )
    with pytest.raises(CouponRefused):
        redeem_at_till(
            code=codes[0].code, store=store, purchase_amount=Decimal("10000"), by=None, till_receipt=till_receipt()
        )

    # then the campaign counts one redemption, in store, and one opening of the link
    figures = figures_of(campaign)
    assert (figures.sent, figures.opened, figures.redeemed, figures.redeemed_in_store) == (3, 1, 1, 1)


def test_a_campaign_with_a_coupon_that_has_ended_is_not_sent():
    coupon = CouponFactory(
        valid_from=timezone.now() - datetime.timedelta(days=10),
        valid_until=timezone.now() - datetime.timedelta(days=1),
    )
    campaign = CampaignFactory(coupon=coupon)
    with pytest.raises(CampaignError, match="ended on"):
        queue_campaign(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
