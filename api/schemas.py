"""The shapes of the API's answers and bodies (pydantic, through django-ninja): what the OpenAPI
schema at /api/v1/openapi.json publishes. Money is a string of the decimal amount ("4990.00") in
`currency` (ISO 4217), never a float; times are ISO 8601 with their offset."""

import datetime
from typing import Literal

from ninja import Field, Schema


class Error(Schema):
    detail: str = Field(description="What is wrong, for people, in the request's language (Accept-Language).")
    errors: list[dict] = Field(default_factory=list, description="Per field, for a request that is not valid.")


class StoreRef(Schema):
    slug: str
    name: str


class Availability(Schema):
    store: str = Field(description="The store's slug.")
    available: int = Field(ge=0, description="Units a shopper can buy there now.")


class Variant(Schema):
    id: int
    sku: str
    name: str
    price: str
    attributes: dict[str, str] = Field(description='{attribute slug: value}, e.g. {"size": "M"}.')
    availability: list[Availability]


class Product(Schema):
    id: int
    slug: str
    sku: str
    name: str
    description: str
    category: str = Field(description="The category's slug.")
    price: str
    currency: str
    image: str | None = Field(description="The first picture's thumbnail, an absolute URL.")
    availability: list[Availability] = Field(
        description="Per store of the channel; for a product with variants, the units of its variants together."
    )
    variants: list[Variant]


class ProductPage(Schema):
    count: int
    limit: int
    offset: int
    stores: list[StoreRef] = Field(description="The channel's stores, in the order availability lists them.")
    results: list[Product]


class Store(Schema):
    slug: str
    name: str
    address: str
    postcode: str
    city: str
    country: str
    latitude: float
    longitude: float
    time_zone: str
    phone: str
    offers_pickup: bool
    distance_km: float | None = Field(description="From the postcode or point asked about; null without one.")
    open_now: bool
    closes_at: datetime.datetime | None = Field(description="While open: when it closes today.")
    opens_at: datetime.datetime | None = Field(description="While closed: its next opening within 14 days.")


class Window(Schema):
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    remaining: int = Field(ge=0, description="Places left in the window.")


class DeliveryOption(Schema):
    store: StoreRef
    fee: str
    currency: str
    distance_km: float
    minimum_order: str
    below_minimum: bool
    can_deliver: bool
    earliest: Window | None
    windows: list[Window]


class DeliveryOptions(Schema):
    postcode: str
    place: str
    country: str
    message: str = Field(description="Without options: why none of the channel's stores delivers there.")
    options: list[DeliveryOption]


class OrderLine(Schema):
    sku: str
    name: str
    quantity: int
    unit_price: str
    discount: str = Field(
        description="The line's share of the order's discounts (its coupon and points): "
        "unit_price × quantity − discount = line_total."
    )
    line_total: str


class OrderDiscount(Schema):
    kind: Literal["coupon", "points"]
    code: str = Field(description="The coupon's code as the shop prints it; empty for points.")
    amount: str = Field(description="What it took off the order, shared over the lines' discounts.")


class StatusChange(Schema):
    status: str
    at: datetime.datetime


class Delivery(Schema):
    state: str = Field(description="to_pack, packed, out_for_delivery, delivered, failed or to_collect.")
    state_label: str
    failure_reason: str = Field(description="Why a delivery failed (empty unless it did).")
    window_start: datetime.datetime
    window_end: datetime.datetime
    street: str
    postcode: str
    city: str
    fee: str


class Shipment(Schema):
    name: str
    address: str
    postcode: str
    city: str
    country: str
    fee: str
    carrier: str
    tracking_number: str = Field(description="Empty until the parcel has left.")
    shipped_at: datetime.datetime | None


class Payment(Schema):
    authorised: str = Field(description="Reserved on the shopper's card.")
    captured: str = Field(description="Taken from it.")
    released: str = Field(description="Reserved, then let go without being taken.")
    refunded: str = Field(description="Given back to it.")


class RefundLine(Schema):
    sku: str
    name: str
    quantity: int
    amount: str


class Refund(Schema):
    amount: str
    reason: str
    reason_label: str
    at: datetime.datetime
    lines: list[RefundLine] = Field(description="Empty for an amount given back without lines (goodwill).")


class Order(Schema):
    number: str
    token: str = Field(description="The signed order link's token: GET /orders/{token} answers with this order.")
    status: str
    status_label: str
    channel: str
    store: StoreRef
    placed_at: datetime.datetime
    currency: str
    total: str
    fulfilment: str | None = Field(
        description="How it reaches the shopper: in_store, curbside, local_delivery, shipping."
    )
    pickup_from: datetime.datetime | None
    pickup_until: datetime.datetime | None
    lines: list[OrderLine]
    discounts: list[OrderDiscount] = Field(
        description="What the lines' discounts came from, as the order page shows them: the coupon, the points used."
    )
    history: list[StatusChange]
    delivery: Delivery | None = Field(description="An order delivered by a store's van: its window, address and state.")
    shipment: Shipment | None = Field(description="An order shipped from a warehouse: its address and tracking.")
    payment: Payment | None = Field(description="The money of an order paid online; null when paid in store.")
    refunds: list[Refund]


# The most units of one product a kiosk's cart may hold: a line's, and a SKU's over its lines.
MAX_LINE_QUANTITY = 99


class CartLineIn(Schema):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)


class CartIn(Schema):
    lines: list[CartLineIn] = Field(min_length=1, max_length=50)


class CartLine(Schema):
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: str
    line_total: str
    available: int = Field(ge=0, description="Units the store can sell now.")


class Cart(Schema):
    store: StoreRef
    currency: str
    total: str
    lines: list[CartLine]
    problems: list[str] = Field(description="Why the cart cannot be checked out as it is; empty when it can.")
    cart_token: str | None = Field(
        description="Signed lines and prices, for POST …/checkout within an hour; null while there are problems."
    )


class CheckoutIn(Schema):
    cart_token: str = Field(min_length=1, max_length=4000)
    name: str = Field(min_length=1, max_length=150)
    email: str = Field(min_length=3, max_length=254)
    phone: str = Field(min_length=1, max_length=32)


class Change(Schema):
    kind: str
    message: str
    product_id: int | None


class CheckoutRefused(Schema):
    detail: str
    changes: list[Change]
