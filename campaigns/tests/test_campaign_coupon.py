"""A campaign's coupon must be usable by every recipient from the first e-mail to the last: the
admin refuses, at the coupon field, one that has ended, is used up, is not valid yet or ends
before the campaign would be sent, keeps what was typed and writes nothing."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus
from campaigns.services import CampaignError, coupon_refusal, queue_campaign
from coupons.models import Redemption
from coupons.services import redeem_at_till
from coupons.tests.factories import CouponCodeFactory, CouponFactory
from stores.tests.factories import StoreFactory

from .factories import CampaignFactory, EmailConsentFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def campaign_form(coupon, **fields):
    return {
        "name": "Winter wool",
        "audience": "everyone",
        "radius_km": "25",
        "coupon": coupon.pk,
        "subject_en": "Warm wool, 20 % off",
        "body_en": "Our winter wool is in.",
        "subject_is": "",
        "body_is": "",
        "subject_nb": "",
        "body_nb": "",
        "rate_per_minute": "600",
        **fields,
    }


def used_up_coupon():
    coupon = CouponFactory(name="Two uses", limit_total=2)
    code = CouponCodeFactory(coupon=coupon, code="TWOUSES")
    store = StoreFactory()
    for receipt in ("R-1", "R-2"):
        redeem_at_till(code=code.code, store=store, purchase_amount=10000, by=None, till_receipt=receipt)
    assert Redemption.objects.filter(coupon=coupon).count() == 2
    return coupon


@pytest.mark.parametrize(
    ("make_coupon", "rate", "said"),
    [
        (
            lambda: CouponFactory(
                name="Summer", valid_from=timezone.now() - datetime.timedelta(days=60), valid_until=timezone.now()
            ),
            "600",
            "The coupon “Summer” ended on",
        ),
        (used_up_coupon, "600", "The coupon “Two uses” has been used up (2 uses)."),
        (
            lambda: CouponFactory(name="Christmas", valid_from=timezone.now() + datetime.timedelta(days=20)),
            "600",
            "The coupon “Christmas” is valid only from",
        ),
        (
            # three recipients at one a minute: the last e-mail goes out in three minutes
            lambda: CouponFactory(name="Flash", valid_until=timezone.now() + datetime.timedelta(minutes=2)),
            "1",
            "The coupon “Flash” ends on",
        ),
        (lambda: CouponFactory(name="Paused", is_active=False), "600", "The coupon “Paused” is switched off"),
    ],
    ids=["ended", "used-up", "not-yet-valid", "ends-during-the-send", "switched-off"],
)
def test_a_coupon_that_cannot_serve_the_whole_send_is_refused_at_its_field(admin_client, make_coupon, rate, said):
    # given three subscribed shoppers and a coupon that cannot be used by them all
    for number in range(3):
        EmailConsentFactory(email=f"r{number}@example.com")
    coupon = make_coupon()

    # when a campaign with it is saved in the admin
    response = admin_client.post(reverse("admin:campaigns_campaign_add"), campaign_form(coupon, rate_per_minute=rate))

    # then the page comes back with the reason at the coupon field, what was typed kept, nothing written
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors) == ["coupon"]
    assert said in form.errors["coupon"][0]
    assert form["name"].value() == "Winter wool" and form["rate_per_minute"].value() == rate
    assert not Campaign.objects.exists()


def test_a_coupon_valid_through_the_send_is_saved(admin_client):
    # given three shoppers, sent at one a minute, and a coupon valid for another ten minutes
    for number in range(3):
        EmailConsentFactory(email=f"r{number}@example.com")
    coupon = CouponFactory(name="Flash", valid_until=timezone.now() + datetime.timedelta(minutes=10), limit_total=1)

    response = admin_client.post(reverse("admin:campaigns_campaign_add"), campaign_form(coupon, rate_per_minute="1"))

    # then it is saved: a limit smaller than the audience is an offer ("the first one to come")
    assert response.status_code == 302
    assert Campaign.objects.get().coupon == coupon


def test_a_draft_whose_coupon_ended_since_it_was_saved_is_not_queued():
    # given a draft saved while its coupon was valid, the coupon used up since
    EmailConsentFactory()
    coupon = used_up_coupon()
    campaign = CampaignFactory(coupon=coupon)

    with pytest.raises(CampaignError, match="used up"):
        queue_campaign(campaign=campaign)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_the_send_time_is_the_recipients_over_the_rate():
    coupon = CouponFactory(valid_until=NOW + datetime.timedelta(minutes=10))
    assert coupon_refusal(coupon=coupon, recipients=5_000, rate_per_minute=600, now=NOW) is None  # 8⅓ minutes
    assert "ends on" in coupon_refusal(coupon=coupon, recipients=6_000, rate_per_minute=600, now=NOW)  # 10


def test_the_campaign_form_offers_no_expired_or_switched_off_coupon(admin_client):
    now = timezone.now()
    live = CouponFactory(name="Live coupon")
    later = CouponFactory(name="Later coupon", valid_from=now + datetime.timedelta(days=3))
    CouponFactory(
        name="Expired coupon",
        valid_from=now - datetime.timedelta(days=30),
        valid_until=now - datetime.timedelta(days=1),
    )
    CouponFactory(name="Switched-off coupon", is_active=False)

    page = admin_client.get(reverse("admin:campaigns_campaign_add"))

    offered = {choice.value for choice, _label in page.context["adminform"].form.fields["coupon"].choices if choice}
    assert offered == {live.pk, later.pk}
    html = page.content.decode()
    assert "Live coupon" in html and "Later coupon" in html
    assert "Expired coupon" not in html and "Switched-off coupon" not in html
