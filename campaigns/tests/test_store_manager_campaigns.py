"""Store managers write campaigns to the shoppers near their own stores: within a radius that
reaches no store of someone else, with a coupon of their own stores. Another store's campaign,
head office's campaigns to other audiences, and other stores' coupons are not there for them."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.tests.factories import StoreManagerFactory
from campaigns.models import Audience, Campaign, CampaignStatus
from coupons.tests.factories import CouponFactory
from stores.tests.factories import StoreFactory

from .factories import CampaignFactory, EmailConsentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    # Laugavegur and Kringlan are 2.4 km apart in Reykjavík; Glerártorg is in Akureyri, 250 km north.
    own = StoreFactory(name="Laugavegur", latitude=Decimal("64.145800"), longitude=Decimal("-21.929000"))
    kringlan = StoreFactory(name="Kringlan", latitude=Decimal("64.130000"), longitude=Decimal("-21.894000"))
    akureyri = StoreFactory(name="Glerártorg", latitude=Decimal("65.683500"), longitude=Decimal("-18.087800"))
    mine = CouponFactory(name="Laugavegur regulars")
    mine.stores.set([own])
    theirs = CouponFactory(name="Kringlan opening")
    theirs.stores.set([kringlan])
    chain = CouponFactory(name="Chain-wide winter")
    kringlans = CampaignFactory(name="Kringlan autumn", audience=Audience.NEAR_STORE, store=kringlan, radius_km=2)
    everyone = CampaignFactory(name="Head office winter")
    return {
        "own": own,
        "kringlan": kringlan,
        "akureyri": akureyri,
        "mine": mine,
        "theirs": theirs,
        "chain": chain,
        "kringlans": kringlans,
        "everyone": everyone,
    }


@pytest.fixture
def manager(client, world):
    user = StoreManagerFactory(username="gudrun", stores=[world["own"]])
    client.force_login(user)
    return user


def campaign_form(world, **fields):
    return {
        "name": "Laugavegur late opening",
        "audience": "near_store",
        "store": world["own"].pk,
        "radius_km": "2",
        "coupon": world["mine"].pk,
        "subject_en": "Open till ten on Thursday",
        "body_en": "Come by.",
        "subject_is": "",
        "body_is": "",
        "subject_nb": "",
        "body_nb": "",
        "rate_per_minute": "600",
        **fields,
    }


def test_a_manager_writes_a_campaign_to_the_shoppers_near_their_store_with_their_coupon(client, manager, world):
    response = client.post(reverse("admin:campaigns_campaign_add"), campaign_form(world))

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = Campaign.objects.get(name="Laugavegur late opening")
    assert (campaign.store, campaign.coupon, campaign.created_by) == (world["own"], world["mine"], manager)


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"radius_km": "5"}, "radius_km", "Kringlan, not one of your stores, is 2.4 km"),
        ({"audience": "everyone"}, "audience", "Select a valid choice."),
        ({"audience": "bought_in_category"}, "audience", "Select a valid choice."),
        ({"store": "kringlan"}, "store", "Select a valid choice."),
        ({"coupon": "theirs"}, "coupon", "Select a valid choice."),
        ({"coupon": "chain"}, "coupon", "Select a valid choice."),
    ],
    ids=["radius-reaches-another-store", "everyone", "bought-in-category", "other-store", "their-coupon", "chain"],
)
def test_a_manager_cannot_reach_beyond_their_stores(client, manager, world, fields, field, said):
    fields = {name: world[value].pk if value in world else value for name, value in fields.items()}

    response = client.post(reverse("admin:campaigns_campaign_add"), campaign_form(world, **fields))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert field in form.errors and said in form.errors[field][0], form.errors
    assert form["name"].value() == "Laugavegur late opening"
    assert not Campaign.objects.filter(name="Laugavegur late opening").exists()


def test_the_radius_message_says_how_far_the_manager_may_go(client, manager, world):
    response = client.post(reverse("admin:campaigns_campaign_add"), campaign_form(world, radius_km="3"))
    assert response.context["adminform"].form.errors["radius_km"] == [
        "Kringlan, not one of your stores, is 2.4 km from Laugavegur: choose at most 2 km, "
        "so the campaign goes to your stores' shoppers only."
    ]


def test_a_manager_sees_and_sends_only_their_stores_campaigns(
    client, manager, world, django_capture_on_commit_callbacks
):
    # given a campaign of theirs, and shoppers near their store
    own = CampaignFactory(name="Laugavegur books", audience=Audience.NEAR_STORE, store=world["own"], radius_km=1)
    EmailConsentFactory(email="near@example.com", store=world["own"], source="store")

    # then the list shows theirs only, and the others' pages are not there for them
    listed = client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "Laugavegur books" in listed
    assert "Kringlan autumn" not in listed and "Head office winter" not in listed
    for other in (world["kringlans"], world["everyone"]):
        page = client.get(reverse("admin:campaigns_campaign_change", args=[other.pk]))
        assert page.status_code == 302

    # when they post "send" with every campaign's id, the others stay drafts and theirs goes out
    ids = [own.pk, world["kringlans"].pk, world["everyone"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:campaigns_campaign_changelist"), {"action": "send_campaigns", ACTION_CHECKBOX_NAME: ids}
        )
    statuses = dict(Campaign.objects.filter(pk__in=ids).values_list("name", "status"))
    assert statuses == {
        "Laugavegur books": CampaignStatus.SENT,
        "Kringlan autumn": CampaignStatus.DRAFT,
        "Head office winter": CampaignStatus.DRAFT,
    }

    # and the add page offers none of the other stores or their coupons
    add = client.get(reverse("admin:campaigns_campaign_add")).content.decode()
    for name in ("Kringlan opening", "Chain-wide winter", "Glerártorg"):
        assert name not in add


def test_a_draft_whose_radius_a_new_store_now_reaches_is_not_sent(client, manager, world):
    campaign = CampaignFactory(name="Laugavegur books", audience=Audience.NEAR_STORE, store=world["own"], radius_km=3)
    StoreFactory(name="Hlemmur", latitude=Decimal("64.143000"), longitude=Decimal("-21.915000"))

    response = client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "send_campaigns", ACTION_CHECKBOX_NAME: [campaign.pk]},
        follow=True,
    )

    assert "would reach the shoppers of Hlemmur" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
