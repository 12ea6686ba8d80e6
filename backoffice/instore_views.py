"""Staff pages of in-store selling (instore): for each store a member of staff manages, the
store's link and its QR code (a kiosk, the sign at the door), a printable sheet of shelf labels
per category, the labels' scan counts, and "Sell for a customer" (assisted selling).

Staff only (the admin's login, `staff_member_required`); a manager sees and acts on their own
stores only (stores.admin_scoping.managed_stores), anything else is a 404.

The label sheet is an HTML page laid out for A4 by print CSS (static/css/labels.css, @page):
staff print it, or save it as a PDF, from the browser. No PDF library: WeasyPrint would need
Pango and its system libraries on every server for a page any browser prints the same.
"""

import segno
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from catalog.selectors import category_tree
from instore.context import absolute_link, current_context, enter_store, leave_store
from instore.selectors import scan_counts, shelf_labels
from instore.services import may_sell_in
from stores.admin_scoping import managed_store_list


def _qr(link: str, *, scale: int) -> str:
    return segno.make(link, micro=False).svg_data_uri(scale=scale, border=2)


def _managed_store(request, slug):
    store = next((store for store in managed_store_list(request) if store.slug == slug), None)
    if store is None or store.is_warehouse or not store.is_active:
        raise Http404(gettext("You do not manage a store with this address."))
    return store


@staff_member_required
@require_GET
def in_store_index(request):
    """The stores the member of staff manages, each with its link, label sheets and scans."""
    stores = [store for store in managed_store_list(request) if not store.is_warehouse and store.is_active]
    tree = category_tree()
    return render(
        request,
        "backoffice/in_store_index.html",
        {
            "stores": [{"store": store, "link": absolute_link(store=store)} for store in stores],
            "categories": [(node.category, 0) for node in tree.roots]
            + [(child.category, 1) for node in tree.roots for child in node.children],
            "context": current_context(request),
        },
    )


@staff_member_required
@require_GET
def store_sign(request, slug):
    """A4 sign for the door or a kiosk: the store's QR code and link."""
    store = _managed_store(request, slug)
    link = absolute_link(store=store)
    return render(request, "backoffice/in_store_sign.html", {"store": store, "link": link, "qr": _qr(link, scale=12)})


@staff_member_required
@require_GET
def shelf_label_sheet(request, slug):
    """The shelf labels of one category (with its subcategories) for `store`, A4 sheets of 21
    (3 × 7): name, price, SKU and a QR code opening the product in the store's context. Queries:
    a fixed number whatever the number of products (instore.selectors.shelf_labels)."""
    store = _managed_store(request, slug)
    tree = category_tree()
    category = tree.get(request.GET.get("category", ""))
    if category is None:
        messages.error(request, gettext("Choose a category to print its shelf labels."))
        return redirect("backoffice:in_store")
    labels = shelf_labels(store=store, category_ids=tree.descendant_ids(category))
    return render(
        request,
        "backoffice/shelf_labels.html",
        {
            "store": store,
            "category": category,
            "labels": [{"label": label, "qr": _qr(label.link, scale=3)} for label in labels],
        },
    )


@staff_member_required
@require_GET
def store_scans(request, slug):
    """How often each shelf label of the store was scanned, and the orders that followed."""
    store = _managed_store(request, slug)
    return render(request, "backoffice/in_store_scans.html", {"store": store, "counts": scan_counts(store=store)})


@staff_member_required
@require_POST
def start_selling(request, slug):
    """Assisted selling: this browser is in the store with the member of staff selling. They use
    the shop as a shopper would (the store's stock first) and place the order at checkout with the
    customer's details; it records channel "in store", the store and them (instore.services)."""
    store = _managed_store(request, slug)
    if not may_sell_in(request.user, store):
        raise Http404(gettext("You do not manage a store with this address."))
    enter_store(request, store=store, staff=request.user)
    messages.success(
        request,
        gettext("You are selling for a customer at %(store)s. Add their items to the cart and check out.")
        % {"store": store.name},
    )
    return redirect("catalog:product_list")


@staff_member_required
@require_POST
def stop_selling(request):
    leave_store(request)
    return redirect("backoffice:in_store")
