"""Pickup in templates: `{% load pickup_links %}{{ order|check_in_link }}`, `order|pickup_of` (order page, e-mails)."""

from django import template

from orders.models import Order

from .. import curbside, selectors

register = template.Library()


@register.filter
def check_in_link(order: Order) -> str:
    """The order's signed curbside check-in link (pickup.curbside.check_in_link), absolute."""
    return curbside.check_in_link(order)


@register.filter(name="pickup_of")
def pickup_of_filter(order: Order):
    """The order's pickup (code, slot, collector): `{% with pickup=order|pickup_of %}` (e-mails)."""
    return selectors.pickup_of(order)
