"""In-store mode's shopper pages: opening a store's link or a shelf label's QR code, and leaving
the store (instore.context says what the context is; instore.services counts the scans).

A link that is not the shop's (a tampered or made-up signature, a store that is closed, a
warehouse, a product no longer sold) is ignored: the shopper lands on the shop as if they had
typed its address, with no error page and nothing changed.
"""

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Product
from instore.context import current_context, enter_store, leave_store, read_link_token
from instore.services import record_scan
from stores.models import Store


@never_cache
@require_GET
def open_link(request, token):
    """A store's link (`/in-store/<store>:<signature>/`): this browser is in the store, and lands
    on the catalog with its stock. A shelf label's (`/in-store/<store>-<product>:<signature>/`):
    the same, the scan counted, and the product's page opened."""
    home = redirect("catalog:product_list")
    target = read_link_token(token)
    if target is None:
        return home
    store = Store.objects.for_shoppers().filter(pk=target.store_id).first()
    if store is None:
        return home
    product = None
    if target.product_id is not None:
        product = Product.objects.for_sale().select_related("parent").filter(pk=target.product_id).first()
    # A member of staff selling in this store who scans a label keeps selling.
    context = current_context(request)
    keeps_staff = (
        context is not None
        and context.store_id == store.pk
        and context.staff_id is not None
        and context.staff_id == request.user.pk
    )
    enter_store(request, store=store, staff=request.user if keeps_staff else None)
    if product is None:
        return home
    record_scan(request, store=store, product=product)
    return redirect(product.get_absolute_url())


@require_POST
def leave(request):
    """The banner's "Leave store mode": back to the shopper's own store, on the page they were on."""
    leave_store(request)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("catalog:product_list")
