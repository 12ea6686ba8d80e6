"""The member's coupons on the rewards member page (coupons.panels, O2O_MEMBER_PAGE_PANELS)."""

import datetime
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils import timezone

from accounts.tests.factories import StoreManagerFactory, UserFactory
from coupons.panels import member_coupons_panel
from coupons.selectors import coupons_for, redemptions_of_codes
from coupons.services import issue_codes, redeem_at_till
from stores.tests.factories import StoreFactory

from .factories import CouponFactory, till_receipt

pytestmark = pytest.mark.django_db


class Member:
    def __init__(self, user):
        self.user = user


def test_the_panel_lists_usable_used_and_ended_codes_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    # given Anna was sent three codes: one she used at a till, one of a coupon that ended
    anna = UserFactory()
    store = StoreFactory()
    winter = CouponFactory(name="Vetrartilboð", value=Decimal("15"))
    ended = CouponFactory(
        name="Sumartilboð",
        valid_from=timezone.now() - datetime.timedelta(days=60),
        valid_until=timezone.now() - datetime.timedelta(days=30),
    )
    used, unused = issue_codes(coupon=winter, count=2, issued_to=[anna, anna])
    [old] = issue_codes(coupon=ended, count=1, issued_to=[anna])
    redeem_at_till(
        code=used,
        store=store,
        purchase_amount=Decimal("5000"),
        by=StoreManagerFactory(stores=[store]),
        till_receipt=till_receipt(),
    )
    # when her member page asks for the panel
    request = RequestFactory().get("/")
    request.user = anna
    with django_assert_max_num_queries(2):
        html = str(member_coupons_panel(request, Member(anna)))
    # then the unused one has its QR code, the others say why not
    states = {item.code.code: (item.used, item.usable) for item in coupons_for(anna)}
    assert states == {used: (True, False), unused: (False, True), old: (False, False)}
    assert html.count("<svg") == 1 and f"<title>{unused}</title>" in html
    assert "Used" in html and "No longer valid" in html
    # and a campaign counts the one redemption of the codes it sent
    assert redemptions_of_codes([used, unused, old.lower()]) == 1


def test_a_guest_member_or_no_codes_shows_nothing():
    request = RequestFactory().get("/")
    assert member_coupons_panel(request, Member(None)) == ""
    assert member_coupons_panel(request, Member(UserFactory())) == ""
