"""Shoppers' accounts: sign up, the order history and ordering again, changing the e-mail
address. Log in and out and the password reset are Django's own views (account_urls.py)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.emails import send_email_change_link, send_email_changed_notice
from accounts.forms import EmailChangeForm, SignupForm
from accounts.services import EmailChangeRefused, change_email, email_change_of, email_change_token, register_shopper
from checkout.cart import Cart
from orders.models import Order
from orders.selectors import order_history
from payment.models import Refund
from stores.selectors import my_store

from .order_again import put_order_in_cart

ORDERS_PER_PAGE = 20


def _next_url(request):
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:orders")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = register_shopper(
            username=data["username"],
            email=data["email"],
            password=data["password1"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            # The store a guest chose stays theirs once they have an account.
            preferred_store=my_store(request),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, gettext("Welcome, %(name)s! Your account is ready.") % {"name": user.username})
        return redirect(_next_url(request) or "accounts:orders")
    return render(request, "accounts/signup.html", {"form": form, "next": _next_url(request) or ""})


@require_GET
@login_required
def order_list(request):
    # What each order had refunded, as its page says it (a subquery: beside the lines' sum, a
    # join would count each refund once per line).
    refunded = (
        Refund.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    orders = order_history(request.user).annotate(refunded=Subquery(refunded))
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/orders.html", {"page": page, "orders": page.object_list})


@require_POST
@login_required
def order_again(request, number):
    """Put what an earlier order held, and is still sold, in the cart; say what is not."""
    order = get_object_or_404(Order.objects.for_customer(request.user), number=number)
    again = put_order_in_cart(order=order, cart=Cart(request.session))
    if again.added:
        messages.success(
            request,
            ngettext(
                "Added %(count)s item from order %(number)s to your cart.",
                "Added %(count)s items from order %(number)s to your cart.",
                again.added_units,
            )
            % {"count": again.added_units, "number": order.number},
        )
    if again.not_sold:
        messages.warning(
            request,
            gettext("No longer sold, so not added: %(products)s.")
            % {"products": ", ".join(line.product_name for line in again.not_sold)},
        )
    return redirect("checkout:cart")


@require_http_methods(["GET", "POST"])
@login_required
def email_change(request):
    form = EmailChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["email"]
        token = email_change_token(user=request.user, new_email=new_email)
        link = request.build_absolute_uri(reverse("accounts:email_change_confirm", kwargs={"token": token}))
        send_email_change_link(user=request.user, new_email=new_email, link=link)
        messages.success(
            request,
            gettext("We sent a link to %(email)s. Your e-mail address changes when you open it.")
            % {"email": new_email},
        )
        return redirect("accounts:email_change")
    return render(request, "accounts/email_change.html", {"form": form})


@require_http_methods(["GET", "POST"])
def email_change_confirm(request, token):
    """The link from the e-mail: a page with a button (a mail scanner opening links changes
    nothing), which changes the address. Works signed in or not: the signed link is the proof."""
    try:
        user, new_email = email_change_of(token)
        if request.method == "POST":
            user, old_email = change_email(token=token)
            send_email_changed_notice(user=user, old_email=old_email)
            messages.success(request, gettext("Your e-mail address is now %(email)s.") % {"email": user.email})
            return redirect("accounts:orders" if request.user.is_authenticated else "accounts:login")
    except EmailChangeRefused as refused:
        return render(request, "accounts/email_change_refused.html", {"reason": str(refused)}, status=400)
    return render(request, "accounts/email_change_confirm.html", {"new_email": new_email, "account": user})
