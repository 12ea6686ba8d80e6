"""The coupons' part of the rewards member page, declared in O2O_MEMBER_PAGE_PANELS: the codes
issued to the member (campaigns, rewards), each with its QR code to show at a till while it can
be used, and which were used or have ended. Two queries whatever the number of codes."""

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from .selectors import coupons_for

if TYPE_CHECKING:
    from rewards.models import RewardAccount


def member_coupons_panel(request: HttpRequest, account: "RewardAccount") -> SafeString:
    """The member's coupons as HTML; empty for a member without an account (a guest) or codes."""
    user = getattr(account, "user", None)
    coupons = coupons_for(user) if user is not None else []
    if not coupons:
        return SafeString("")
    return render_to_string("coupons/member_coupons.html", {"coupons": coupons}, request=request)
