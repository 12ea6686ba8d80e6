"""Reading returns: the shopper's pages, and staff finding the order a shopper brings back."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from catalog.models import Product
from o2o_site.dates import format_date
from orders.models import Order, OrderLine
from pickup.models import Pickup
from stores.models import StockLevel, Store

from .models import ExchangeLine, Return, ReturnLine, ReturnStatus

if TYPE_CHECKING:
    from accounts.models import User

    from .services import Exchanged


def return_page_link(order_return: Return) -> str:
    """The shopper's page of a return (its code and QR), behind the order's signed link."""
    path = reverse("returns:detail", kwargs={"token": order_return.order.access_token, "code": order_return.code})
    return settings.SITE_URL.rstrip("/") + path


def returns_with_lines() -> QuerySet[Return]:
    return Return.objects.select_related("store", "receipt", "store_credit").prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line").order_by("pk")),
        Prefetch("exchange_lines", queryset=ExchangeLine.objects.order_by("pk")),
    )


def returns_of(order: Order) -> list[Return]:
    """The order's returns, oldest first, with their lines, store, receipt and store credit."""
    return list(returns_with_lines().filter(order=order).exclude(status=ReturnStatus.CANCELLED).order_by("created_at"))


# --- staff: exchanges ------------------------------------------------------------------------------


def exchange_choices(lines: list[OrderLine]) -> dict[int, list[Product]]:
    """For each order line, the other sizes or colours of its product that are for sale (what a
    line is most often exchanged for), offered as SKUs on the check-in screen. One query."""
    styles = {line.pk: line.product.parent_id or line.product_id for line in lines if line.product is not None}
    if not styles:
        return {}
    variants = Product.objects.for_sale().filter(parent_id__in=set(styles.values())).order_by("name", "pk")
    by_style: dict[int, list[Product]] = {}
    for variant in variants:
        by_style.setdefault(variant.parent_id, []).append(variant)
    return {
        line.pk: [each for each in by_style.get(styles[line.pk], []) if each.pk != line.product_id]
        for line in lines
        if line.pk in styles
    }


def exchange_for_sale(exchanged: Exchanged | None, *, store: Store) -> dict[int, int]:
    """Units of each item of an exchange for sale at `store` now, for the confirmation (the
    exchange itself checks again under the rows' locks)."""
    if exchanged is None:
        return {}
    wanted = [line.product_id for line in exchanged.lines]
    found = dict(
        StockLevel.objects.filter(store=store, product_id__in=wanted)
        .with_available()
        .values_list("product_id", "available_quantity")
    )
    return {product_id: max(found.get(product_id, 0), 0) for product_id in wanted}


# --- staff: finding the order ---------------------------------------------------------------------


class NotFound(Exception):
    """Nothing the member of staff may take back was found; the message says what to ask for."""


@dataclass(frozen=True)
class Found:
    order: Order
    # The shopper's return started online, when they showed its code.
    order_return: Return | None = None


RETURN_QR = re.compile(r"^O2O-RETURN:(?P<code>R[A-Z0-9]{8})$")
RETURN_CODE = re.compile(r"^R[A-Z0-9]{8}$")
PICKUP_QR = re.compile(r"^O2O:(?P<number>[A-Z0-9]{8}):(?P<code>\w+)$")
ORDER_LINK = re.compile(r"/orders/(?P<token>[^/]+)/")
ORDER_NUMBER = re.compile(r"^[A-Z0-9]{8}$")
TYPED_SEPARATORS = re.compile(r"[\s\-_.]+")


def find_for_return(*, query: str, contact: str, user: User) -> Found:
    """The order (and return) behind what staff typed or scanned, for a return at their store.

    A return code or its QR, the order's pickup QR (number and pickup code) or its signed link:
    the shopper has the order in hand, so it is found whichever store sold it. An order number
    alone finds only the orders of the member of staff's own stores; another store's order needs
    the shopper's e-mail or phone with it (`contact`), so a guessed number finds nothing there.
    E-mail or phone alone finds the latest of their own stores' orders placed with it.
    Raises NotFound, with the same message whether the order exists or not.
    """
    text = " ".join(unicodedata.normalize("NFKC", query or "").split())
    upper = text.upper()
    # A code or number as typed from paper or read aloud: "rcgc-hvn3f", "ds8w f98h" (coupon
    # codes are forgiven the same way).
    compact = TYPED_SEPARATORS.sub("", upper)
    contact = " ".join((contact or "").split())
    orders = Order.objects.select_related("store")
    if match := RETURN_QR.match(upper) or RETURN_CODE.match(compact):
        code = match.groupdict().get("code") or compact
        order_return = Return.objects.select_related("order__store", "store").filter(code=code).first()
        if order_return is None:
            raise NotFound(_("No return has the code %(code)s.") % {"code": code})
        if order_return.status == ReturnStatus.CANCELLED:
            raise NotFound(
                _("Return %(code)s was cancelled. For other items, look order %(number)s up by its number.")
                % {"code": code, "number": order_return.order.number}
            )
        if order_return.status != ReturnStatus.REQUESTED:
            # Its units are back: the code opens no second take-back of them.
            raise NotFound(
                _(
                    "Return %(code)s was already taken back on %(date)s. For other items, look order "
                    "%(number)s up by its number."
                )
                % {
                    "code": code,
                    "date": format_date(
                        order_return.received_at, zone=order_return.store.zone if order_return.store else None
                    ),
                    "number": order_return.order.number,
                }
            )
        return Found(order=order_return.order, order_return=order_return)
    if match := PICKUP_QR.match(upper):
        pickup = (
            Pickup.objects.select_related("fulfilment__order__store")
            .filter(fulfilment__order__number=match["number"], code=match["code"])
            .first()
        )
        if pickup is None:
            raise NotFound(_("That QR code is not an order of this shop."))
        return _with_open_request(pickup.fulfilment.order)
    if match := ORDER_LINK.search(text):
        number = Order.number_from_token(match["token"])
        order = orders.filter(number=number).first() if number else None
        if order is None:
            raise NotFound(_("That QR code is not an order of this shop."))
        return _with_open_request(order)
    own = orders if user.is_superuser else orders.filter(store__in=Store.objects.managed_by(user))
    if upper:
        number = compact if ORDER_NUMBER.match(compact) else upper
        order = own.filter(number=number).first()
        if order is None and contact:
            order = orders.filter(Q(number=number) & _contact_matches(contact)).first()
        if order is None:
            raise NotFound(
                _(
                    "No order %(number)s among your stores' orders. For an order picked up at another store, "
                    "ask the shopper for the e-mail or phone number it was placed with."
                )
                % {"number": number}
            )
        return _with_open_request(order)
    if contact:
        order = own.filter(_contact_matches(contact)).order_by("-created_at").first()
        if order is None:
            raise NotFound(
                _("No order of your stores was placed with %(contact)s. Ask for the order number too.")
                % {"contact": contact}
            )
        return _with_open_request(order)
    raise NotFound(_("Type or scan the order number, the order's QR code or the return code."))


def _contact_matches(contact: str) -> Q:
    digits = re.sub(r"\D", "", contact)
    match = Q(contact_email__iexact=contact)
    if len(digits) >= 7:
        # Phones are kept as typed ("+354 555 1234"): compare the last seven digits.
        match |= Q(contact_phone__regex=r"".join(f"{digit}\\D*" for digit in digits[-7:]) + "$")
    return match


def _with_open_request(order: Order) -> Found:
    """The order with the shopper's return started online and not yet brought (the oldest), found
    without its code: the take-back completes that request instead of leaving it open beside it."""
    requested = Return.objects.filter(order=order, status=ReturnStatus.REQUESTED).order_by("created_at", "pk").first()
    return Found(order=order, order_return=requested)
