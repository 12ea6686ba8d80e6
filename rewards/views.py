"""The member page (balance, history, member QR code, and the parts other apps add, such as
coupons) and joining: a signed-in customer joins with one click; a guest gets a link by e-mail
that proves the address is hers. Thin: forms check, services decide."""

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

from . import services
from .emails import send_join_link
from .forms import GuestJoinForm
from .models import RewardAccount
from .selectors import history, member_of

# A guest who opened her join link is the member in this browser's session.
SESSION_KEY = "rewards_member"


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
    form = GuestJoinForm(request.POST or None)
    if request.method == "POST" and request.user.is_authenticated:
        try:
            services.join(email=request.user.email, user=request.user, language=get_language())
        except services.RewardRefused as refused:
            messages.error(request, str(refused))
            return redirect("rewards:join")
        messages.success(request, gettext("Welcome! You are a member now."))
        return redirect("rewards:member")
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        token = services.join_token(email=email, language=get_language())
        link = settings.SITE_URL.rstrip("/") + reverse("rewards:join_confirm", args=[token])
        send_join_link(email=email, link=link, language=get_language())
        return _private(render(request, "rewards/join_sent.html", {"email": email}))
    return _private(render(request, "rewards/join.html", {"form": form, "earn_rate": settings.REWARDS_EARN_RATE}))


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
                {"form": GuestJoinForm(), "refusal": str(refused), "earn_rate": settings.REWARDS_EARN_RATE},
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
