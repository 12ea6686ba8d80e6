"""The shopper's side of consent: subscribe on the account page, confirm (double opt-in),
unsubscribe (a link, or the mail client's one-click POST, no login), and the tracked link of a
campaign e-mail. Links from e-mails show a page with a button: a mail scanner that opens links
changes nothing. The one exception is RFC 8058's one-click POST, which is made to be automatic.
"""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from .forms import OffersForm
from .messages import recipient_of_link_token
from .models import CampaignRecipient, ConsentSource, ConsentState
from .services import (
    ConsentError,
    ConsentLinkInvalid,
    confirm_subscription,
    consent_of,
    consent_of_unsubscribe_token,
    subscribe,
    unsubscribe,
)


@login_required
@require_http_methods(["GET", "POST"])
def account_offers(request):
    """The account page's "Offers by e-mail": subscribe (a confirmation e-mail follows) or unsubscribe."""
    consent = consent_of(request.user.email)
    form = OffersForm(
        request.POST or None, initial={"subscribed": consent is not None and consent.state != ConsentState.UNSUBSCRIBED}
    )
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["subscribed"]:
                consent = subscribe(
                    email=request.user.email,
                    source=ConsentSource.ACCOUNT,
                    language=translation.get_language() or settings.LANGUAGE_CODE,
                    user=request.user,
                    recorded_by=request.user,
                )
                if consent.state == ConsentState.PENDING:
                    messages.success(
                        request,
                        gettext("We sent a confirmation link to %(email)s. You are subscribed when you open it.")
                        % {"email": consent.email},
                    )
                else:
                    messages.success(request, gettext("You are subscribed to offers by e-mail."))
            elif consent is not None:
                unsubscribe(consent=consent, source=ConsentSource.ACCOUNT, by=request.user)
                messages.success(request, gettext("You are unsubscribed: we send you no more offers."))
        except ConsentError as error:
            messages.error(request, str(error))
        return redirect("campaigns:account_offers")
    return render(request, "campaigns/account_offers.html", {"form": form, "consent": consent})


@require_http_methods(["GET", "POST"])
def confirm(request, token):
    """The double opt-in link: a page with a button that confirms the subscription."""
    if request.method == "POST":
        try:
            consent = confirm_subscription(token=token)
        except ConsentLinkInvalid as invalid:
            return render(request, "campaigns/link_invalid.html", {"reason": str(invalid)}, status=400)
        return render(request, "campaigns/confirmed.html", {"consent": consent})
    return render(request, "campaigns/confirm.html", {"token": token})


@csrf_exempt  # RFC 8058: the mail client POSTs with no cookie and no page; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe_link(request, token):
    """GET: a page with one button. POST (that button, or a mail client's
    `List-Unsubscribe=One-Click`): unsubscribed at once, no login."""
    try:
        consent, campaign = consent_of_unsubscribe_token(token)
    except ConsentLinkInvalid as invalid:
        return render(request, "campaigns/link_invalid.html", {"reason": str(invalid)}, status=400)
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        unsubscribe(
            consent=consent,
            source=ConsentSource.ONE_CLICK if one_click else ConsentSource.UNSUBSCRIBE_LINK,
            campaign=campaign,
        )
        if one_click:
            return HttpResponse(status=200)
        return render(request, "campaigns/unsubscribed.html", {"email": consent.email})
    return render(request, "campaigns/unsubscribe.html", {"email": consent.email, "token": token})


@require_GET
def open_link(request, token):
    """The tracked link of a campaign e-mail: counts the opening, then shows the recipient's
    coupon code with its QR code (to enter at checkout, or for staff to scan at the till); without
    a coupon, on to the shop. An altered link counts nothing and leads to the shop."""
    recipient_id = recipient_of_link_token(token)
    recipient = (
        CampaignRecipient.objects.select_related("code", "campaign__coupon").filter(pk=recipient_id).first()
        if recipient_id is not None
        else None
    )
    if recipient is None:
        return redirect("catalog:product_list")
    CampaignRecipient.objects.filter(pk=recipient.pk).update(
        opens=F("opens") + 1, opened_at=Coalesce("opened_at", Value(timezone.now()))
    )
    if recipient.code is None:
        return redirect("catalog:product_list")
    coupon = recipient.campaign.coupon
    context = {
        "campaign": recipient.campaign,
        "body": recipient.campaign.body_in(translation.get_language() or settings.LANGUAGE_CODE),
        "code": recipient.code.display,
        "qr_code": segno.make(recipient.code.code, micro=False).svg_data_uri(scale=6),
        "coupon": coupon,
    }
    return render(request, "campaigns/offer.html", context)
