"""The JSON API's operations (README, "JSON API"): products with availability per store, nearest
stores with opening status, delivery options for a postcode, an order's status by its signed
link token, and a kiosk's cart and checkout in its store. Each reads through the selectors the
shop's own pages use and writes only through checkout.services; every answer is limited to the
key's channel's stores (request.auth.store_ids).
"""

import datetime
import functools
import uuid
from decimal import Decimal
from typing import Literal

from django import forms
from django.conf import settings
from django.core import signing
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from catalog.models import Product, VariantAttributeValue
from catalog.selectors import category_tree, product_listing
from checkout.forms import validate_phone
from checkout.selectors import order_discounts
from checkout.services import (
    PAY_AT_PICKUP,
    CheckoutChanged,
    ConfirmedCheckout,
    ConfirmedLine,
    pickup_methods_at,
    place_pickup_order,
)
from delivery.selectors import PostcodeProblem, check_postcode, delivery_of, delivery_options
from o2o_site.cache import stamps
from orders.models import Channel, Order, OrderActivity, OrderStatus
from orders.selectors import orders_for_page
from orders.services import AlreadyPlaced, Contact, OrderError
from payment.models import Refund, RefundLine
from payment.selectors import order_payments
from pickup.selectors import pickup_of, with_pickups
from shipping.selectors import shipment_of
from stores.models import SpecialOpeningHours, StockLevel
from stores.models import Store as StoreModel
from stores.opening import opening_status, specials_by_date
from stores.selectors import locate_postcode, store_directory, store_listings

from . import schemas
from .models import ChannelKind
from .security import CACHE_CONTROL, VARY, etag_of, not_modified
from .validation import FieldErrors

router = Router()

# Answers every operation may give besides its own (api.api's handlers make them).
COMMON = {401: schemas.Error, 404: schemas.Error, 422: schemas.Error, 429: schemas.Error}
READ = {304: None, **COMMON}
PRODUCTS_PER_PAGE = 24
MAX_PRODUCTS_PER_PAGE = 100
NEAREST_STORES = 10
CART_SALT = "api.kiosk-cart"
CART_TOKEN_SECONDS = 60 * 60


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _currency() -> str:
    return settings.SHOP_CURRENCY


def _channel_stores(request) -> list[StoreModel]:
    """The channel's stores shoppers may see, by city and name, from the store directory (no query)."""
    return [store for store in store_directory().by_city_and_name if store.pk in request.auth.store_ids]


def _scope(request) -> tuple:
    """What every answer depends on besides its query: the channel's stores and the language."""
    return (request.auth.channel_id, tuple(sorted(request.auth.store_ids)), stamps.variant())


def takes_query(*names: str):
    """Refuse (422) a query parameter the operation does not take: a misspelt `limt` is an error
    the caller hears of, not a default silently applied."""

    def decorate(view):
        @functools.wraps(view)
        def checked(request, *args, **kwargs):
            unknown = sorted(set(request.GET) - set(names))
            if unknown:
                raise FieldErrors(
                    [
                        {"field": name, "message": _("This operation takes no parameter “%(name)s”.") % {"name": name}}
                        for name in unknown
                    ]
                )
            return view(request, *args, **kwargs)

        return checked

    return decorate


def _one_place(*, postcode: str, lat: float | None, lon: float | None) -> None:
    """Stores are listed nearest to a postcode or to a point (both `lat` and `lon`), never both
    at once nor to half a point: refused (422) naming the fields, not one of them silently used."""
    if postcode.strip() and (lat is not None or lon is not None):
        message = _("Give a postcode or a point (lat and lon), not both.")
        given = ["postcode", *(name for name, value in (("lat", lat), ("lon", lon)) if value is not None)]
        raise FieldErrors([{"field": name, "message": message} for name in given])
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise FieldErrors([{"field": missing, "message": _("Give both lat and lon for a point.")}])


def _respond(request, response, etag: str, payload):
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = VARY
    return payload


# --- products -----------------------------------------------------------------------------------


def _variants():
    values = Prefetch(
        "attribute_values", queryset=VariantAttributeValue.objects.select_related("attribute"), to_attr="values"
    )
    return Prefetch(
        "variants", queryset=Product.objects.active().order_by("pk").prefetch_related(values), to_attr="active_variants"
    )


def _products_payload(request, products: list[Product], stores: list[StoreModel]) -> list[dict]:
    """Products (with `first_images` and `active_variants`) as the API shows them: one query for
    the units of all of them and their variants at the channel's stores."""
    ids = [product.pk for product in products] + [v.pk for product in products for v in product.active_variants]
    units: dict[tuple[int, int], int] = {}
    if ids and stores:
        for product_id, store_id, available in (
            StockLevel.objects.filter(product_id__in=ids, store_id__in=[store.pk for store in stores])
            .order_by()
            .with_available()
            .values_list("product_id", "store_id", "available_quantity")
        ):
            units[product_id, store_id] = max(available, 0)

    def availability(product_ids):
        return [
            {"store": store.slug, "available": sum(units.get((pk, store.pk), 0) for pk in product_ids)}
            for store in stores
        ]

    currency = _currency()
    found = []
    for product in products:
        variants = sorted(
            product.active_variants,
            key=lambda v: [(value.attribute.position, value.attribute_id, value.position) for value in v.values],
        )
        image = product.first_images[0] if product.first_images else None
        found.append(
            {
                "id": product.pk,
                "slug": product.slug,
                "sku": product.sku,
                "name": product.name,
                "description": product.description,
                "category": product.category.slug,
                "price": _money(product.price),
                "currency": currency,
                "image": request.build_absolute_uri((image.thumbnail or image.image).url) if image else None,
                "availability": availability([v.pk for v in variants] or [product.pk]),
                "variants": [
                    {
                        "id": variant.pk,
                        "sku": variant.sku,
                        "name": variant.name,
                        "price": _money(variant.price),
                        "attributes": {value.attribute.slug: value.value for value in variant.values},
                        "availability": availability([variant.pk]),
                    }
                    for variant in variants
                ],
            }
        )
    return found


def _catalog_etag(request, *parts):
    """From the catalog's, the stores' and each channel store's stock version stamps: one cache
    round trip, no query; any change to a price, a product or the units at one of the stores
    makes a new one."""
    keys = [stamps.CATALOG, stamps.STORES, *(stamps.store_stock_key(pk) for pk in sorted(request.auth.store_ids))]
    found = stamps.versions(*keys)
    return etag_of(_scope(request), [found[key] for key in keys], *parts)


@router.get(
    "/products",
    response={200: schemas.ProductPage, **READ},
    tags=["catalog"],
    summary="Products with their variants and the units at each of the channel's stores",
)
@takes_query("q", "category", "limit", "offset")
def list_products(
    request: HttpRequest,
    response: HttpResponse,
    q: str = Query("", max_length=200, description="Words to search names, descriptions and SKUs for."),
    category: str = Query("", max_length=140, description="A category's slug: it and its subcategories."),
    limit: int = Query(PRODUCTS_PER_PAGE, ge=1, le=MAX_PRODUCTS_PER_PAGE),
    offset: int = Query(0, ge=0, le=100_000),
):
    """Products for sale (not their variants: each comes with its own), best match first for a
    search, else by name. The same number of queries for any page size and number of stores."""
    etag = _catalog_etag(request, "products", q, category, limit, offset)
    if cached := not_modified(request, etag):
        return cached
    category_ids = None
    if category:
        tree = category_tree(stamps.versions(stamps.CATALOG)[stamps.CATALOG])
        found = tree.get(category)
        if found is None:
            raise HttpError(404, _("There is no category “%(slug)s”.") % {"slug": category})
        category_ids = tree.descendant_ids(found)
    listing = product_listing(search=q, category_ids=category_ids).select_related("category")
    count = listing.count()
    products = list(listing.prefetch_related(_variants())[offset : offset + limit])
    stores = _channel_stores(request)
    payload = {
        "count": count,
        "limit": limit,
        "offset": offset,
        "stores": [{"slug": store.slug, "name": store.name} for store in stores],
        "results": _products_payload(request, products, stores),
    }
    return _respond(request, response, etag, payload)


@router.get(
    "/products/{slug}",
    response={200: schemas.Product, **READ},
    tags=["catalog"],
    summary="One product with its variants and the units at each of the channel's stores",
)
@takes_query()
def get_product(request: HttpRequest, response: HttpResponse, slug: str):
    etag = _catalog_etag(request, "product", slug)
    if cached := not_modified(request, etag):
        return cached
    product = product_listing().select_related("category").prefetch_related(_variants()).filter(slug=slug).first()
    if product is None:
        raise HttpError(404, _("There is no product “%(slug)s” for sale.") % {"slug": slug})
    return _respond(request, response, etag, _products_payload(request, [product], _channel_stores(request))[0])


# --- stores ---------------------------------------------------------------------------------------


def _local_moment(store: StoreModel, day: datetime.date, at: datetime.time) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=store.zone)


@router.get(
    "/stores",
    response={200: list[schemas.Store], **READ},
    tags=["stores"],
    summary="The channel's stores, nearest first to a postcode or a point, with whether they are open",
)
@takes_query("postcode", "country", "lat", "lon", "limit")
def list_stores(
    request: HttpRequest,
    response: HttpResponse,
    postcode: str = Query("", max_length=16, description="A postcode of the shop's countries, e.g. 101."),
    country: Literal["IS", "NO", ""] = Query("", description="The postcode's country; any when empty."),
    lat: float | None = Query(None, ge=-90, le=90, description="With `lon`, a point; not with `postcode`."),
    lon: float | None = Query(None, ge=-180, le=180, description="With `lat`, a point; not with `postcode`."),
    limit: int = Query(NEAREST_STORES, ge=1, le=100),
):
    """Without a postcode or both `lat` and `lon`: every store of the channel, the shop's home
    country's first, by city and name. "Open now" and the next opening follow each store's own
    time zone, its week's hours and its special dates (stores.opening)."""
    _one_place(postcode=postcode, lat=lat, lon=lon)
    now = timezone.now()
    directory = store_directory()
    latitude = longitude = None
    if postcode.strip():
        place = locate_postcode(postcode, country or None)
        if place is None:
            raise HttpError(
                404,
                _("We don't know the postcode “%(postcode)s”. Check it, or use your location instead.")
                % {"postcode": postcode.strip()},
            )
        latitude, longitude = place.latitude, place.longitude
    elif lat is not None and lon is not None:
        latitude, longitude = lat, lon
    etag = etag_of(_scope(request), directory.stamp, stamps.minute_bucket(), "stores", latitude, longitude, limit)
    if cached := not_modified(request, etag):
        return cached
    listings = [
        row
        for row in store_listings(latitude=latitude, longitude=longitude, limit=None, directory=directory, now=now)
        if row.store.pk in request.auth.store_ids
    ][:limit]
    shown = {row.store.pk: row for row in listings}
    since = now.date() - datetime.timedelta(days=1)
    hours = {
        store.pk: store
        for store in StoreModel.objects.filter(pk__in=list(shown)).prefetch_related(
            "opening_hours",
            Prefetch(
                "special_hours",
                queryset=SpecialOpeningHours.objects.filter(date__gte=since).order_by("date"),
                to_attr="upcoming_special_hours",
            ),
        )
    }
    payload = []
    for row in listings:
        store = hours[row.store.pk]
        status = opening_status(
            store, now=now, weekly=store.opening_hours.all(), specials=specials_by_date(store.upcoming_special_hours)
        )
        today = store.local_now(now).date()
        payload.append(
            {
                "slug": store.slug,
                "name": store.name,
                "address": store.address,
                "postcode": store.postcode,
                "city": store.city,
                "country": store.country,
                "latitude": float(store.latitude),
                "longitude": float(store.longitude),
                "time_zone": store.time_zone,
                "phone": store.phone,
                "offers_pickup": store.offers_pickup,
                "distance_km": round(row.distance_km, 2) if row.distance_km is not None else None,
                "open_now": status.is_open,
                "closes_at": _local_moment(store, today, status.closes_at) if status.closes_at else None,
                "opens_at": _local_moment(store, status.opens_on, status.opens_at) if status.opens_on else None,
            }
        )
    return _respond(request, response, etag, payload)


# --- delivery -------------------------------------------------------------------------------------


def _window(window) -> dict:
    return {"starts_at": window.starts_at, "ends_at": window.ends_at, "remaining": window.remaining}


@router.get(
    "/delivery-options",
    response={200: schemas.DeliveryOptions, **READ},
    tags=["delivery"],
    summary="The channel's stores that deliver to a postcode, with the fee and the windows with room",
)
@takes_query("postcode", "country", "order_value")
def get_delivery_options(
    request: HttpRequest,
    response: HttpResponse,
    postcode: str = Query(..., min_length=1, max_length=16),
    country: Literal["IS", "NO"] = Query(...),
    order_value: int | None = Query(
        None,
        ge=0,
        le=10_000_000,
        description="The goods' total in whole units of the currency: the fee and minimum follow it.",
    ),
):
    """As the delivery checkout offers them (delivery.selectors.delivery_options), nearest first.
    A postcode that is unknown or not of `country` is answered 404 saying which; one that none of
    the channel's stores delivers to, 200 with no options and `message` saying where to turn."""
    try:
        located = check_postcode(postcode, country=country)
    except PostcodeProblem as problem:
        raise HttpError(404, str(problem)) from None
    message, options = "", ()
    try:
        options = delivery_options(
            postcode=postcode,
            country=country,
            order_value=Decimal(order_value) if order_value is not None else None,
            store_ids=request.auth.store_ids,
        ).options
    except PostcodeProblem as problem:  # no store at all delivers there
        message = str(problem)
    if not options and not message:
        message = _("None of this channel's stores delivers to %(postcode)s %(place)s.") % {
            "postcode": located.postcode,
            "place": located.place_name,
        }
    currency = _currency()
    payload = {
        "postcode": located.postcode,
        "place": located.place_name,
        "country": located.country,
        "message": message,
        "options": [
            {
                "store": {"slug": option.store.slug, "name": option.store.name},
                "fee": _money(option.fee),
                "currency": currency,
                "distance_km": round(option.distance_km, 2),
                "minimum_order": _money(option.zone.minimum_order),
                "below_minimum": option.below_minimum,
                "can_deliver": option.can_deliver,
                "earliest": _window(option.earliest) if option.earliest else None,
                "windows": [_window(window) for window in option.windows],
            }
            for option in options
        ],
    }
    # Bookings fill windows without a version stamp: the ETag is the answer's own digest.
    etag = etag_of(_scope(request), payload)
    if cached := not_modified(request, etag):
        return cached
    return _respond(request, response, etag, payload)


# --- orders ---------------------------------------------------------------------------------------


def _order_payload(order: Order) -> dict:
    pickup = pickup_of(order)
    fulfilment = next(iter(order.fulfilments.all()), None)
    return {
        "number": order.number,
        "token": order.access_token,
        "status": order.status,
        "status_label": str(OrderStatus(order.status).label),
        "channel": order.channel,
        "store": {"slug": order.store.slug, "name": order.store.name},
        "placed_at": order.created_at,
        "currency": order.currency,
        "total": _money(order.total),
        "fulfilment": fulfilment.method if fulfilment else None,
        "pickup_from": pickup.slot_start if pickup else None,
        "pickup_until": pickup.slot_end if pickup else None,
        "lines": [
            {
                "sku": line.sku,
                "name": line.product_name,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "discount": _money(line.discount),
                "line_total": _money(line.line_total),
            }
            for line in order.lines.all()
        ],
        "discounts": _discounts_payload(order),
        "history": [
            {"status": event.to_status, "at": event.created_at}
            for event in sorted(order.events.all(), key=lambda event: (event.created_at, event.pk))
            if event.kind == OrderActivity.STATUS
        ],
        # What the order page shows besides (checkout.views.order_detail): how it reaches the
        # shopper, what happened to the money and what was refunded, as Saleor's Order has its
        # delivery method, fulfilments and refunds.
        **_delivery_payload(order, pickup=pickup),
        "payment": _payment_payload(order),
        "refunds": [
            {
                "amount": _money(refund.amount),
                "reason": refund.reason,
                "reason_label": str(refund.get_reason_display()),
                "at": refund.created_at,
                "lines": [
                    {
                        "sku": line.order_line.sku,
                        "name": line.order_line.product_name,
                        "quantity": line.quantity,
                        "amount": _money(line.amount),
                    }
                    for line in refund.lines.all()
                ],
            }
            for refund in Refund.objects.filter(order=order).prefetch_related(
                Prefetch("lines", queryset=RefundLine.objects.select_related("order_line").order_by("pk"))
            )
        ],
    }


def _discounts_payload(order: Order) -> list[dict]:
    """The coupon and the points the lines' discounts came from, read as the order page and the
    order's e-mails read them (checkout.selectors.order_discounts): none without a discount."""
    discounts = order_discounts(order)
    if discounts is None:
        return []
    payload = []
    if discounts["coupon_amount"] is not None:
        payload.append(
            {"kind": "coupon", "code": discounts["coupon_code"], "amount": _money(discounts["coupon_amount"])}
        )
    if discounts["points"] is not None:
        payload.append({"kind": "points", "code": "", "amount": _money(discounts["points"])})
    return payload


def _delivery_payload(order: Order, *, pickup) -> dict:
    """{"delivery": …, "shipment": …}: a picked-up order has neither (no query)."""
    delivery = delivery_of(order) if pickup is None else None
    shipment = shipment_of(order) if pickup is None and delivery is None else None
    return {
        "delivery": None
        if delivery is None
        else {
            "state": delivery.state,
            "state_label": str(delivery.get_state_display()),
            "failure_reason": delivery.failure_reason,
            "window_start": delivery.window_start,
            "window_end": delivery.window_end,
            "street": delivery.street,
            "postcode": delivery.postcode,
            "city": delivery.city,
            "fee": _money(delivery.fee),
        },
        "shipment": None
        if shipment is None
        else {
            "name": shipment.name,
            "address": shipment.address,
            "postcode": shipment.postcode,
            "city": shipment.city,
            "country": shipment.country,
            "fee": _money(shipment.fee),
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "shipped_at": shipment.shipped_at,
        },
    }


def _payment_payload(order: Order) -> dict | None:
    paid = order_payments(order)
    if paid is None:
        return None
    return {
        "authorised": _money(paid.authorised),
        "captured": _money(paid.captured),
        "released": _money(paid.released),
        "refunded": _money(paid.refunded),
    }


def _order_for(request, number: str | None) -> Order:
    order = with_pickups(orders_for_page()).filter(number=number).first() if number else None
    # The same 404 for a bad signature, no such order and another channel's store's order.
    if order is None or order.store_id not in request.auth.store_ids:
        raise HttpError(404, _("There is no such order."))
    return order


@router.get(
    "/orders/{token}",
    response={200: schemas.Order, **READ},
    tags=["orders"],
    summary="An order's status by the token of its signed link (the end of /orders/<token>/)",
)
@takes_query()
def get_order(request: HttpRequest, response: HttpResponse, token: str):
    order = _order_for(request, Order.number_from_token(token))
    payload = _order_payload(order)
    etag = etag_of(_scope(request), payload)
    if cached := not_modified(request, etag):
        return cached
    return _respond(request, response, etag, payload)


# --- kiosk: a cart and a checkout in the kiosk's store --------------------------------------------


def _kiosk_store(request, slug: str) -> StoreModel:
    """The store `slug` of a kiosk's channel that hands out orders; 403 for a channel that is not
    a kiosk, 404 for a store it does not have."""
    if request.auth.channel.kind != ChannelKind.KIOSK:
        raise HttpError(403, _("Only a kiosk's key may fill a cart and check out."))
    store = (
        StoreModel.objects.offering_pickup()
        .select_related("pickup_settings")
        .filter(slug=slug, pk__in=request.auth.store_ids)
        .first()
    )
    if store is None:
        raise HttpError(404, _("This channel has no store “%(slug)s” that hands out orders.") % {"slug": slug})
    return store


KIOSK = {400: schemas.Error, 403: schemas.Error, **COMMON}


@router.post(
    "/kiosk/stores/{slug}/cart",
    response={200: schemas.Cart, **KIOSK},
    tags=["kiosk"],
    summary="Price a cart at the kiosk's store and check its units there",
)
@takes_query()
def kiosk_cart(request: HttpRequest, slug: str, cart: schemas.CartIn):
    """The lines (by SKU, as a scanner reads them) at today's prices with the units the store can
    sell. With no problem, `cart_token` signs the lines and prices for the checkout: it places
    exactly them, or says what changed. Nothing is reserved until the checkout."""
    store = _kiosk_store(request, slug)
    wanted: dict[str, int] = {}
    too_many = []
    for index, line in enumerate(cart.lines):
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        if wanted[line.sku] > schemas.MAX_LINE_QUANTITY:
            names = {"sku": line.sku, "units": wanted[line.sku], "most": schemas.MAX_LINE_QUANTITY}
            too_many.append(
                {
                    "field": f"lines.{index}.quantity",
                    "message": _("“%(sku)s” is on more than one line, %(units)s units in all: at most %(most)s.")
                    % names,
                }
            )
    if too_many:
        raise FieldErrors(too_many)
    products = {
        product.sku: product
        # A SKU with a NUL character is no product's (the database's text cannot hold one): not
        # asked for, it is an unknown SKU as any other (api/middleware.py refuses NUL elsewhere).
        for product in Product.objects.for_sale()
        .select_related("parent")
        .filter(sku__in=[sku for sku in wanted if "\x00" not in sku])
    }
    with_variants = set(
        Product.objects.active().filter(parent__in=list(products.values())).values_list("parent_id", flat=True)
    )
    units = dict(
        StockLevel.objects.filter(store=store, product__in=list(products.values()))
        .order_by()
        .with_available()
        .values_list("product_id", "available_quantity")
    )
    problems, lines = [], []
    for sku, quantity in wanted.items():
        product = products.get(sku)
        if product is None:
            problems.append(_("No product with the SKU “%(sku)s” is for sale.") % {"sku": sku})
            continue
        if product.pk in with_variants:
            problems.append(
                _("Choose a size or colour of “%(product)s”: scan its variant.") % {"product": product.name}
            )
            continue
        available = max(units.get(product.pk, 0), 0)
        if quantity > available:
            names = {"product": product.name, "store": store.name, "available": available, "requested": quantity}
            problems.append(
                _("'%(product)s' is sold out at %(store)s.") % names
                if available == 0
                else _("Only %(available)s of '%(product)s' left at %(store)s (you asked for %(requested)s).") % names
            )
        lines.append(
            {
                "product_id": product.pk,
                "sku": product.sku,
                "name": product.name,
                "quantity": quantity,
                "unit_price": _money(product.price),
                "line_total": _money(product.price * quantity),
                "available": available,
            }
        )
    total = sum((Decimal(line["line_total"]) for line in lines), Decimal(0))
    cart_token = None
    if not problems:
        cart_token = signing.dumps(
            {
                "store": store.pk,
                "lines": [[line["product_id"], line["name"], line["quantity"], line["unit_price"]] for line in lines],
                "id": uuid.uuid4().hex,
            },
            salt=CART_SALT,
            compress=True,
        )
    return {
        "store": {"slug": store.slug, "name": store.name},
        "currency": _currency(),
        "total": _money(total),
        "lines": lines,
        "problems": problems,
        "cart_token": cart_token,
    }


class _Contact(forms.Form):
    """The shopper's contact as the checkout page asks for it (its messages, translated there)."""

    name = forms.CharField(
        max_length=150,
        error_messages={"required": gettext_lazy("Enter your name, so the store knows whose order it is.")},
    )
    email = forms.EmailField(
        error_messages={
            "required": gettext_lazy("Enter your e-mail address."),
            "invalid": gettext_lazy("Enter an e-mail address such as anna@example.com."),
        }
    )
    phone = forms.CharField(
        max_length=32,
        validators=[validate_phone],
        error_messages={"required": gettext_lazy("Enter a phone number the store can call about your order.")},
    )


@router.post(
    "/kiosk/stores/{slug}/checkout",
    response={200: schemas.Order, 201: schemas.Order, 409: schemas.CheckoutRefused, **KIOSK},
    tags=["kiosk"],
    summary="Place the priced cart as an order picked up at the kiosk's store, paid at the till",
)
@takes_query()
def kiosk_checkout(request: HttpRequest, slug: str, checkout: schemas.CheckoutIn):
    """Places exactly the cart the token signed, in the store, at the earliest pickup time with
    room, paid at pickup, in the channel "kiosk" (checkout.services.place_pickup_order: stock
    reserved under row locks, all or nothing). 201 with the order; 200 with the same order for the
    same token again (a retried request places nothing twice); 409 naming every change (a price, a
    product no longer sold, units gone) with nothing placed; 422 for a token that is not this
    store's, has expired, or contact details that are not valid."""
    store = _kiosk_store(request, slug)
    contact = _Contact({"name": checkout.name, "email": checkout.email, "phone": checkout.phone})
    if not contact.is_valid():
        raise FieldErrors(
            [
                {"field": field, "message": str(message)}
                for field, messages in contact.errors.items()
                for message in messages
            ]
        )
    try:
        signed = signing.loads(checkout.cart_token, salt=CART_SALT, max_age=CART_TOKEN_SECONDS)
    except signing.SignatureExpired:
        raise HttpError(422, _("This cart was priced more than an hour ago: price it again.")) from None
    except signing.BadSignature:
        raise HttpError(422, _("This is not a cart token of this shop: price the cart first.")) from None
    if signed.get("store") != store.pk:
        raise HttpError(422, _("This cart was priced at another store: price it again here."))
    confirmed = ConfirmedCheckout(
        lines=tuple(
            ConfirmedLine(product_id=pk, name=name, quantity=quantity, unit_price=Decimal(price))
            for pk, name, quantity, price in signed["lines"]
        ),
        store=store,
        contact=Contact(**contact.cleaned_data),
        methods_shown=pickup_methods_at(store),
        first_free_slot=True,
        language=get_language(),
        checkout_token=f"api-{signed['id']}",
        payment=PAY_AT_PICKUP,
        channel=Channel.KIOSK,
    )
    try:
        order = place_pickup_order(checkout=confirmed)
    except AlreadyPlaced as placed:
        return Status(200, _order_payload(_order_for(request, placed.order.number)))
    except CheckoutChanged as changed:
        return Status(
            409,
            {
                "detail": str(changed),
                "changes": [
                    {"kind": str(change.kind), "message": change.message, "product_id": change.product_id}
                    for change in changed.changes
                ],
            },
        )
    except OrderError as refused:
        raise HttpError(422, str(refused)) from None
    return Status(201, _order_payload(_order_for(request, order.number)))
