"""Store managers make coupons for their own stores in the admin, and only for them: the stores
field offers theirs and must name one (never chain-wide), and another store's coupon, a
chain-wide one or one shared with another store is not there for them to see, change, add codes
to or export."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory
from coupons.models import Coupon, CouponBatch, CouponCode
from coupons.services import generate_batch
from coupons.tests.factories import CouponFactory
from stores.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    own = StoreFactory(name="Laugavegur")
    other = StoreFactory(name="Glerártorg", city="Akureyri")
    theirs = CouponFactory(name="Glerártorg opening")
    theirs.stores.set([other])
    chain = CouponFactory(name="Chain-wide winter")
    shared = CouponFactory(name="Both stores")
    shared.stores.set([own, other])
    mine = CouponFactory(name="Laugavegur regulars")
    mine.stores.set([own])
    return {"own": own, "other": other, "theirs": theirs, "chain": chain, "shared": shared, "mine": mine}


@pytest.fixture
def manager(client, world):
    user = StoreManagerFactory(username="gudrun", stores=[world["own"]])
    client.force_login(user)
    return user


def coupon_form(client, url, **fields):
    """The admin's coupon form as the page offers it (management forms of the inlines included),
    with `fields` typed in."""
    page = client.get(url)
    assert page.status_code == 200
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {management.add_prefix(name): management[name].value() for name in management.fields}
    now = timezone.localtime()
    data |= {
        "name": "Laugavegur 15 %",
        "kind": "percent",
        "value": "15",
        "is_active": "on",
        "valid_from_0": now.strftime("%Y-%m-%d"),
        "valid_from_1": "00:00:00",
        "valid_until_0": (now + datetime.timedelta(days=30)).strftime("%Y-%m-%d"),
        "valid_until_1": "00:00:00",
        "minimum_order": "0",
        "online": "on",
        "in_store": "on",
        **fields,
    }
    return data


def test_a_manager_makes_a_coupon_for_their_store(client, manager, world):
    url = reverse("admin:coupons_coupon_add")

    response = client.post(url, coupon_form(client, url, stores=[world["own"].pk]))

    assert response.status_code == 302, response.context["adminform"].form.errors
    coupon = Coupon.objects.get(name="Laugavegur 15 %")
    assert list(coupon.stores.all()) == [world["own"]]


@pytest.mark.parametrize("stores", ["none", "other", "both"])
def test_a_manager_cannot_make_a_chain_wide_coupon_or_one_for_another_store(client, manager, world, stores):
    url = reverse("admin:coupons_coupon_add")
    chosen = {"none": [], "other": [world["other"].pk], "both": [world["own"].pk, world["other"].pk]}[stores]
    before = Coupon.objects.count()

    response = client.post(url, coupon_form(client, url, stores=chosen))

    # then the stores field says why, what was typed is kept, and nothing is written
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors) == ["stores"]
    if stores == "none":
        assert "Choose one or more of your stores" in form.errors["stores"][0]
    assert form["name"].value() == "Laugavegur 15 %"
    assert Coupon.objects.count() == before


def test_a_manager_cannot_widen_their_coupon_to_another_store(client, manager, world):
    mine = world["mine"]
    url = reverse("admin:coupons_coupon_change", args=[mine.pk])

    response = client.post(url, coupon_form(client, url, name=mine.name, stores=[world["own"].pk, world["other"].pk]))

    assert response.status_code == 200 and list(response.context["adminform"].form.errors) == ["stores"]
    assert list(mine.stores.all()) == [world["own"]]


def test_a_manager_sees_only_coupons_of_their_own_stores(client, manager, world):
    # the list, and a search for the others by name
    listed = client.get(reverse("admin:coupons_coupon_changelist")).content.decode()
    assert "Laugavegur regulars" in listed
    for name in ("Glerártorg opening", "Chain-wide winter", "Both stores"):
        assert name not in listed
        searched = client.get(reverse("admin:coupons_coupon_changelist"), {"q": name}).content.decode()
        assert "0 results" in searched and searched.count(name) == 1  # the search box, echoing it

    # their pages, code generation, batches and CSV exports are not there for them
    for key in ("theirs", "chain", "shared"):
        coupon = world[key]
        page = client.get(reverse("admin:coupons_coupon_change", args=[coupon.pk]))
        assert page.status_code == 302 and coupon.name not in client.get(page.url).content.decode()
        generate = client.post(reverse("admin:coupons_coupon_generate", args=[coupon.pk]), {"count": 5})
        assert generate.status_code == 404
        batch = generate_batch(coupon=coupon, count=2, label=f"{key} batch")
        assert client.get(reverse("admin:coupons_couponbatch_export", args=[batch.pk])).status_code == 404
        assert f"{key} batch" not in client.get(reverse("admin:coupons_couponbatch_changelist")).content.decode()
    assert CouponCode.objects.filter(coupon__in=[world["theirs"], world["chain"], world["shared"]]).count() == 6

    # and they generate and export codes of their own coupon
    mine = world["mine"]
    assert client.post(reverse("admin:coupons_coupon_generate", args=[mine.pk]), {"count": 3}).status_code == 302
    batch = CouponBatch.objects.get(coupon=mine)
    export = client.get(reverse("admin:coupons_couponbatch_export", args=[batch.pk]))
    assert export.status_code == 200 and len(b"".join(export.streaming_content).splitlines()) == 4


def test_head_office_sees_and_makes_every_kind_of_coupon(admin_client, world):
    listed = admin_client.get(reverse("admin:coupons_coupon_changelist")).content.decode()
    for name in ("Glerártorg opening", "Chain-wide winter", "Both stores", "Laugavegur regulars"):
        assert name in listed
    url = reverse("admin:coupons_coupon_add")
    response = admin_client.post(url, coupon_form(admin_client, url, name="Everywhere", stores=[]))
    assert response.status_code == 302
    assert not Coupon.objects.get(name="Everywhere").stores.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "amount", "value": "10.5"}, "value"),
        ({"minimum_order": "4999.5"}, "minimum_order"),
        ({"minimum_order": "-1"}, "minimum_order"),
    ],
)
def test_a_coupons_amount_the_currency_cannot_pay_is_refused_in_its_words(client, manager, world, fields, field):
    # given the manager makes a coupon with an amount finer than ISK has (or below zero)
    url = reverse("admin:coupons_coupon_add")
    response = client.post(url, coupon_form(client, url, name="Half a króna", stores=[world["own"].pk], **fields))
    # then the field says why, as every amount field does, and nothing is made (not "ISK 11" off)
    expected = (
        "An amount cannot be negative."
        if fields.get(field, "").startswith("-")
        else "Amounts in ISK have no decimals: enter a whole number."
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [expected]
    assert not Coupon.objects.filter(name="Half a króna").exists()


def test_a_percent_coupon_may_have_decimals(client, manager, world):
    url = reverse("admin:coupons_coupon_add")
    response = client.post(url, coupon_form(client, url, name="12.5 %", value="12.5", stores=[world["own"].pk]))
    assert response.status_code == 302
    assert Coupon.objects.get(name="12.5 %").value == Decimal("12.5")
