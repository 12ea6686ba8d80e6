from django import template

from o2o_site.money import format_money
from o2o_site.vat import format_rate

register = template.Library()


@register.filter(name="money")
def money_filter(amount, currency=None):
    """{{ product.price|money }} or {{ order.total|money:order.currency }}"""
    return format_money(amount, currency or None)


@register.filter(name="vat_rate")
def vat_rate_filter(rate):
    """{{ line.vat_rate|vat_rate }}: 24% / 25 % as the active language writes per cent."""
    if rate is None or rate == "":
        return ""
    return format_rate(rate)
