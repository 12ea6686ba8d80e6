"""Pickup in templates: `{% load pickup_links %}{{ order|check_in_link }}` (order page, e-mails).

The e-mails get the order's pickup in their context (pickup.emails), read once for the HTML and
the text part."""

from django import template

from orders.models import Order

from .. import curbside

register = template.Library()


@register.filter
def check_in_link(order: Order) -> str:
    """The order's signed curbside check-in link (pickup.curbside.check_in_link), absolute."""
    return curbside.check_in_link(order)
