"""Shoppers' accounts: sign up, and the order history. Log in and out are Django's own views."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.forms import SignupForm
from accounts.services import register_shopper
from orders.selectors import order_history
from stores.selectors import my_store

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
    page = Paginator(order_history(request.user), ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/orders.html", {"page": page, "orders": page.object_list})
