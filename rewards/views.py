"""The member page (balance, history, member QR code, and the parts other apps add, such as
coupons) and joining: a signed-in customer joins with one click; a guest gets a link by e-mail
that proves the address is hers, or a code by text message that proves the phone number is hers
(rewards.verification). Thin: forms check, services decide."""

import functools

import segno
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.module_loading import import_string
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import services, verification
from .emails import send_join_link
from .forms import GuestJoinForm, PhoneCodeForm, PhoneJoinForm
from .models import PhoneVerification, RewardAccount
from .selectors import history, member_of

# A guest who opened her join link is the member in this browser's session.
SESSION_KEY = "rewards_member"
# The phone verification a guest joining by phone was texted a code for.
PHONE_SESSION_KEY = "rewards_phone_verification"


@functools.cache
def member_page_panels() -> list:
    """The callables of O2O_MEMBER_PAGE_PANELS (parts of the member page that other apps add, such
    as the member's coupons), imported once per process."""
    return [import_string(path) for path in settings.O2O_MEMBER_PAGE_PANELS]


def current_member(request) -> RewardAccount | None:
    """The signed-in customer's membership, or the guest member of this session."""
    account = member_of(request.user)
    if account is None and request.session.get(SESSION_KEY):
        account = RewardAccount.objects.filter(pk=request.session[SESSION_KEY], user__isnull=True).first()
    return account


def _private(response):
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
def member(request):
    account = current_member(request)
    if account is None:
        return redirect("rewards:join")
    context = {
        "account": account,
        "entries": history(account),
        "qr_code": segno.make(account.number, micro=False).svg_data_uri(scale=6),
        "panels": [panel(request, account) for panel in member_page_panels()],
        "earn_rate": settings.REWARDS_EARN_RATE,
        "valid_days": settings.REWARDS_POINTS_VALID_DAYS,
    }
    return _private(render(request, "rewards/member.html", context))


@require_http_methods(["GET", "POST"])
def join(request):
    if current_member(request) is not None:
        return redirect("rewards:member")
    by_phone = request.POST.get("by") == "phone"
    form = GuestJoinForm(None if by_phone else request.POST or None)
    phone_form = PhoneJoinForm(request.POST if by_phone else None)
    if by_phone and not request.user.is_authenticated and phone_form.is_valid():
        try:
            sent = verification.send_join_code(phone=phone_form.cleaned_data["phone"], language=get_language())
        except services.RewardRefused as refused:
            phone_form.add_error("phone", str(refused))
        else:
            request.session[PHONE_SESSION_KEY] = sent.pk
            return redirect("rewards:join_phone")
    if request.method == "POST" and request.user.is_authenticated:
        try:
            services.join(email=request.user.email, user=request.user, language=get_language())
        except services.RewardRefused as refused:
            messages.error(request, str(refused))
            return redirect("rewards:join")
        messages.success(request, gettext("Welcome! You are a member now."))
        return redirect("rewards:member")
    if request.method == "POST" and not by_phone and form.is_valid():
        email = form.cleaned_data["email"]
        token = services.join_token(email=email, language=get_language())
        link = settings.SITE_URL.rstrip("/") + reverse("rewards:join_confirm", args=[token])
        send_join_link(email=email, link=link, language=get_language())
        return _private(render(request, "rewards/join_sent.html", {"email": email}))
    return _private(
        render(
            request,
            "rewards/join.html",
            {"form": form, "phone_form": phone_form, "earn_rate": settings.REWARDS_EARN_RATE},
        )
    )


@require_http_methods(["GET", "POST"])
def join_phone(request):
    """A guest joining by phone types the code she was texted (the verification is in her
    session); a wrong code is said at the field, with the tries left."""
    verification_id = request.session.get(PHONE_SESSION_KEY)
    if verification_id is None:
        return redirect("rewards:join")
    form = PhoneCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = verification.join_with_code(verification_id=verification_id, code=form.cleaned_data["code"])
        except services.RewardRefused as refused:
            form.add_error("code", str(refused))
        else:
            request.session.pop(PHONE_SESSION_KEY, None)
            request.session[SESSION_KEY] = account.pk
            messages.success(request, gettext("Welcome! You are a member now."))
            return redirect("rewards:member")
    phone = PhoneVerification.objects.filter(pk=verification_id).values_list("phone", flat=True).first()
    return _private(render(request, "rewards/join_phone.html", {"form": form, "phone": phone}))


@require_http_methods(["GET", "HEAD", "POST"])
def join_confirm(request, token):
    """The link e-mailed to a guest. GET only shows a page with a button (mail scanners and link
    previews fetch links, and must not make anyone a member); the button's POST joins."""
    try:
        email = services.join_token_email(token)
        account = services.join_with_token(token) if request.method == "POST" else None
    except services.RewardRefused as refused:
        return _private(
            render(
                request,
                "rewards/join.html",
                {
                    "form": GuestJoinForm(),
                    "phone_form": PhoneJoinForm(),
                    "refusal": str(refused),
                    "earn_rate": settings.REWARDS_EARN_RATE,
                },
                status=400,
            )
        )
    if account is None:
        return _private(render(request, "rewards/join_confirm.html", {"email": email}))
    if account.user_id is None:
        request.session[SESSION_KEY] = account.pk
    messages.success(request, gettext("Welcome! You are a member now."))
    return redirect("rewards:member")


@require_POST
def leave_session(request):
    """A guest member forgets her membership on this browser (a shared computer)."""
    request.session.pop(SESSION_KEY, None)
    return redirect("catalog:product_list")
