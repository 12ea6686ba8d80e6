"""What shipping a cart to an address costs and where it ships from: one query, whatever the
number of lines, warehouses or fee rows."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from catalog.models import Product
from stores.models import Country, StockLevel, Store
from stores.postcodes import POSTCODE_FORMATS, normalise_postcode

from .models import Shipment, ShippingRate

POSTCODE_DIGITS = {"IS": 3, "NO": 4}


class ShippingProblem(Exception):
    """Why a cart cannot be shipped to an address; the message is the shopper's."""


@dataclass(frozen=True)
class ShippingQuote:
    warehouse: Store
    fee: Decimal
    weight_grams: int
    postcode: str
    country: str


def unit_weight(product: Product) -> int | None:
    """A unit's weight in grams: the product's own, else (a variant) its product's, else None.
    The caller loads products with select_related("parent")."""
    if product.weight_grams is not None:
        return product.weight_grams
    if product.parent_id is not None:
        return product.parent.weight_grams
    return None


def checked_postcode(postcode: str, country: str) -> str:
    """`postcode` in its stored form, if it is one of `country`'s; else ShippingProblem saying why."""
    value = normalise_postcode(postcode)
    if not value:
        raise ShippingProblem(_("Enter the postcode of the address."))
    if country not in POSTCODE_FORMATS:
        raise ShippingProblem(_("We ship to Iceland and Norway only."))
    if not POSTCODE_FORMATS[country].fullmatch(value):
        raise ShippingProblem(
            _("“%(postcode)s” is not a postcode in %(country)s: they have %(digits)s digits.")
            % {"postcode": value, "country": Country(country).label, "digits": POSTCODE_DIGITS[country]}
        )
    return value


def shipping_options(*, postcode: str, country: str, lines: Sequence[tuple[Product, int]]) -> ShippingQuote:
    """Where the cart `lines` ((product, units), products loaded with their parent) can be shipped
    from to `postcode` in `country`, and the fee: a warehouse of that country holding every line
    in full, and the cheapest fee row covering the postcode and the parcel's weight.

    One query: the warehouses with the stock (a subquery) annotated with the fee (another), the
    first by name. Raises ShippingProblem, with the shopper's message, for a postcode that is not
    one, a product without a weight, no warehouse with everything, or no fee for the area or weight.
    """
    value = checked_postcode(postcode, country)
    if not lines:
        raise ShippingProblem(_("Your cart is empty."))
    weight = 0
    quantities: dict[int, int] = {}
    for product, units in lines:
        grams = unit_weight(product)
        if grams is None:
            raise ShippingProblem(
                _("%(product)s cannot be shipped (its weight is not known): pick it up in a store instead.")
                % {"product": product.name}
            )
        weight += grams * units
        quantities[product.pk] = quantities.get(product.pk, 0) + units
    enough = Q()
    for product_id, units in quantities.items():
        enough |= Q(product_id=product_id, on_hand__gte=F("reserved") + units)
    holding_everything = (
        StockLevel.objects.filter(enough)
        .values("store_id")
        .annotate(lines_in_stock=Count("pk"))
        .filter(lines_in_stock=len(quantities))
        .values("store_id")
    )
    fee = (
        ShippingRate.objects.filter(
            country=OuterRef("country"),
            postcode_from__lte=int(value),
            postcode_to__gte=int(value),
            max_weight_grams__gte=weight,
        )
        .order_by("fee", "max_weight_grams")
        .values("fee")[:1]
    )
    warehouse = (
        Store.objects.warehouses()
        .filter(country=country, pk__in=holding_everything)
        .annotate(fee=Subquery(fee))
        .order_by(F("fee").asc(nulls_last=True), "name", "pk")
        .first()
    )
    if warehouse is None:
        raise ShippingProblem(_("None of our warehouses has everything in your cart to ship right now."))
    if warehouse.fee is None:
        raise ShippingProblem(
            _("We do not ship a parcel of %(kilos)s kg to %(postcode)s.")
            % {"kilos": number_format(Decimal(weight) / 1000, 1), "postcode": value}
        )
    return ShippingQuote(warehouse=warehouse, fee=warehouse.fee, weight_grams=weight, postcode=value, country=country)


def shipment_of(order) -> Shipment | None:
    """The shipment of `order` (an order shipped from a warehouse), or None: one query."""
    return Shipment.objects.filter(fulfilment__order=order).select_related("fulfilment").first()


def shippable_units(product: Product, *, country: str) -> int:
    """How many units of `product` (a variant loaded with its `parent`, or a product) one warehouse
    of `country` can ship now: the most any active warehouse there has to sell (a parcel leaves
    from one warehouse, shipping_options); 0 when it has no weight. One query (none without a
    weight)."""
    if unit_weight(product) is None:
        return 0
    best = (
        StockLevel.objects.filter(product=product, store__in=Store.objects.warehouses().filter(country=country))
        .with_available()
        .order_by("-available_quantity")
        .values_list("available_quantity", flat=True)
        .first()
    )
    return max(best or 0, 0)


def ships_to_country(product: Product, *, country: str) -> bool:
    """Whether a unit of `product` (a variant loaded with its `parent`, or a product) can be
    shipped now to an address in `country`: it has a weight (unit_weight) and an active warehouse
    of that country has a unit to sell. One query (none without a weight). The fee depends on the
    address: shipping_options quotes it at checkout; SHIPPING_DAYS says how long it takes."""
    if unit_weight(product) is None:
        return False
    return (
        StockLevel.objects.filter(product=product, store__in=Store.objects.warehouses().filter(country=country))
        .available()
        .exists()
    )
