from decimal import Decimal

from django import template

from o2o_site.money import format_money
from o2o_site.vat import format_rate

register = template.Library()


@register.filter(name="money")
def money_filter(amount, currency=None):
    """{{ product.price|money }} or {{ order.total|money:order.currency }}"""
    return format_money(amount, currency or None)


@register.filter(name="money_off")
def money_off_filter(amount, currency=None):
    """{{ coupon.discount|money_off }}: an amount taken off (a discount, points, a refund) written
    as the negative amount it is ("−ISK 2,000"), through format_money like every other amount,
    never a minus sign typed before a price by hand."""
    if amount is None or amount == "":
        return ""
    return format_money(-Decimal(amount), currency or None)


@register.filter(name="vat_rate")
def vat_rate_filter(rate):
    """{{ line.vat_rate|vat_rate }}: 24% / 25 % as the active language writes per cent."""
    if rate is None or rate == "":
        return ""
    return format_rate(rate)
